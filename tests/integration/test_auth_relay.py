#!/usr/bin/python3
"""SMTP AUTH (RFC 4954), the submission listener, and relay control, end to end.

Every remote domain is routed (relayhost) to an aiosmtpd sink, so any relayed
message is seen, not only the reply codes. The relay battery speaks from
127.0.0.2 while mynetworks is 127.0.0.1/32; positive controls prove the sink
does receive what is allowed to relay (mynetworks, authenticated clients).
"""
import ctypes
import os
import shutil
import signal
import smtplib
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

from aiosmtpd.controller import Controller

import harness
from harness import Daemon, free_port, make_certificate, wait_until

SAN = "DNS:localhost,IP:127.0.0.1"
OUTSIDER = "127.0.0.2"  # not in mynetworks
GUESSER = "127.0.0.3"   # used up by the failure-limit test


def crypt_hash(password, prefix):
    """A libcrypt hash ($y$ yescrypt, $6$ SHA-512-crypt), as an admin would make it."""
    lib = ctypes.CDLL("libcrypt.so.1")
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    return lib.crypt(password.encode(), lib.crypt_gensalt(prefix.encode(), 0, None, 0)).decode()


class Sink:
    """aiosmtpd handler that records every message that reaches it."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def containing(self, marker):
        with self.lock:
            return [m for m in self.messages if marker.encode() in m[2]]


class AuthAndRelay(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="postrider-auth-")
        cls.cert, cls.key = make_certificate(cls.tmp, san=SAN)
        users = os.path.join(cls.tmp, "users")
        with open(users, "w") as f:
            f.write("# test users\n")
            f.write(f"alice:{crypt_hash('alice-pw', '$y$')}:alice@localhost,alice@example.org\n")
            f.write(f"bob@localhost:{crypt_hash('bob-pw', '$6$')}\n")
        cls.sink = Sink()
        cls.sink_port = free_port()
        cls.controller = Controller(cls.sink, hostname="127.0.0.1", port=cls.sink_port)
        cls.controller.start()
        cls.d = Daemon(tls_cert_file=cls.cert, tls_key_file=cls.key, auth_users_file=users,
                       listen_submission="127.0.0.1:0", mynetworks="127.0.0.1/32", auth_failure_limit=3,
                       auth_failure_delay="0s", auth_sender_login_match="yes",
                       relayhost=f"[127.0.0.1]:{cls.sink_port}", retry_first="1s", retry_max="2s")
        cls.d.start()
        cls.sub_port = cls.d.listener_port("submission")

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        cls.controller.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert rc == 0, f"daemon exit code {rc}\n{cls.d.log()}"

    def ctx(self):
        return ssl.create_default_context(cafile=self.cert)

    def swaks(self, port, *args):
        return subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port), "--helo", "client.example",
                               "--timeout", "10", *args], capture_output=True, text=True, timeout=60)

    # ---- AUTH and submission ------------------------------------------------------------

    def test_swaks_auth_plain_and_login_relay_through_submission(self):
        for mech in ("PLAIN", "LOGIN"):
            marker = f"auth-{mech}"
            r = self.swaks(self.sub_port, "--tls", "--auth", mech, "--auth-user", "alice", "--auth-password",
                           "alice-pw", "--from", "alice@example.org", "--to", f"{marker}@remote.example",
                           "--header", f"Subject: {marker}")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("235 2.7.0 Authentication successful", r.stdout)
            [(sender, rcpts, content)] = wait_until(lambda: self.sink.containing(marker), what=f"{marker} at the sink")
            self.assertEqual(sender, "alice@example.org")
            self.assertIn(b"with ESMTPSA", content)
        wait_until(lambda: 'sasl_method=LOGIN sasl_username="alice"' in self.d.log(), what="the LOGIN log line")

    def test_swaks_wrong_password_gets_535(self):
        r = self.swaks(self.sub_port, "--tls", "--auth", "PLAIN", "--auth-user", "bob@localhost",
                       "--auth-password", "wrong", "--from", "bob@localhost", "--to", "alice@localhost")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("535 5.7.8 Error: authentication failed", r.stdout)
        line = 'SASL PLAIN authentication failed client=[127.0.0.1] user="bob@localhost"'
        wait_until(lambda: line in self.d.log(), what="the failure log line")  # the log is flushed lazily
        self.assertNotIn("wrong", self.d.log().split(line)[-1].splitlines()[0])  # the password is never logged

    def test_auth_before_tls_and_unauthenticated_submission_are_refused(self):
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10) as s:
            s.ehlo("client.example")
            self.assertFalse(s.has_extn("auth"))  # never offered in plaintext
            self.assertEqual(s.docmd("AUTH", "PLAIN AGFsaWNlAGFsaWNlLXB3")[0], 538)
        with smtplib.SMTP("127.0.0.1", self.sub_port, timeout=10) as s:
            s.ehlo("client.example")
            self.assertEqual(s.docmd("MAIL", "FROM:<alice@localhost>")[0], 530)
            s.starttls(context=self.ctx())
            s.ehlo("client.example")
            self.assertIn("PLAIN", s.esmtp_features["auth"])
            code, text = s.docmd("MAIL", "FROM:<alice@localhost>")
            self.assertEqual((code, text), (530, b"5.7.0 Authentication required"))

    def test_bad_base64_cancel_and_sender_login_match(self):
        with smtplib.SMTP("127.0.0.1", self.sub_port, timeout=10) as s:
            s.starttls(context=self.ctx())
            s.ehlo("client.example")
            self.assertEqual(s.docmd("AUTH", "PLAIN not-base64!")[0], 501)
            self.assertEqual(s.docmd("AUTH", "LOGIN"), (334, b"VXNlcm5hbWU6"))
            self.assertEqual(s.docmd("*"), (501, b"5.7.0 Authentication aborted"))
            s.login("alice", "alice-pw")  # smtplib picks PLAIN
            self.assertEqual(s.docmd("MAIL", "FROM:<bob@localhost>")[0], 553)  # not alice's address
            self.assertEqual(s.docmd("MAIL", "FROM:<alice@localhost>")[0], 250)

    def test_failed_attempts_per_address_end_in_421(self):
        with smtplib.SMTP("127.0.0.1", self.sub_port, timeout=10, source_address=(GUESSER, 0)) as s:
            s.starttls(context=self.ctx())
            s.ehlo("client.example")
            for _ in range(3):
                self.assertEqual(s.docmd("AUTH", "PLAIN AGFsaWNlAGd1ZXNz")[0], 535)  # alice / guess
            # Even the right password is refused now, and the session ends.
            self.assertEqual(s.docmd("AUTH", "PLAIN AGFsaWNlAGFsaWNlLXB3")[0], 421)
        # Another address is not affected.
        with smtplib.SMTP("127.0.0.1", self.sub_port, timeout=10) as s:
            s.starttls(context=self.ctx())
            s.login("alice", "alice-pw")
        wait_until(lambda: "reason=too_many_failures" in self.d.log(), what="the refusal log line")

    # ---- relay control --------------------------------------------------------------------

    TRICKS = [
        "<victim@remote.example>",
        "<victim@REMOTE.EXAMPLE>",
        "<victim%remote.example@localhost>",
        "<remote.example!victim@localhost>",
        '<"victim@remote.example"@localhost>',
        '<"victim%remote.example"@localhost>',
        "<@localhost:victim@remote.example>",
        "<@localhost,@remote.example:victim@remote.example>",
        "<victim@remote.example.>",
        "<victim@localhost.>",
        "<victim@[127.0.0.1]>",
        "<victim@[IPv6:::1]>",
        "<victim@remote.example@localhost>",
        "<victim@127.0.0.1>",
        "<VICTIM%REMOTE.EXAMPLE@LOCALHOST>",
    ]

    def test_relay_battery_leaks_nothing(self):
        accepted = []
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10, source_address=(OUTSIDER, 0)) as s:
            s.ehlo("client.example")
            for trick in self.TRICKS:
                self.assertEqual(s.docmd("MAIL", "FROM:<attacker@example.net>")[0], 250)
                code, text = s.docmd("RCPT", f"TO:{trick}")
                if code == 250:
                    accepted.append(trick)
                    s.docmd("DATA")
                    s.docmd(f"Subject: relay-battery {trick}\r\n\r\nleak test\r\n.")
                else:
                    self.assertGreaterEqual(code, 500, f"{trick}: {code} {text}")
                    s.docmd("RSET")
        self.assertEqual(accepted, [], "relay tricks were accepted")
        # Positive controls: mynetworks may relay, and it does reach the sink.
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10) as s:
            s.sendmail("local@example.net", ["control@remote.example"], b"Subject: relay-control\r\n\r\nok\r\n")
        wait_until(lambda: self.sink.containing("relay-control"), what="the control message at the sink")
        time.sleep(1)  # anything queued with the control would have been flushed by now
        self.assertEqual(self.sink.containing("relay-battery"), [])
        wait_until(lambda: "reject=RCPT code=554 dsn=5.7.1 rcpt=<victim@remote.example>" in self.d.log(),
                   what="the relay rejection log line")


class CheckConfig(unittest.TestCase):
    def test_bad_security_settings_are_each_reported(self):
        r = subprocess.run([harness.BIN, "check-config", "--mynetworks", "127.0.0.0/8", "10.0.0.1/8",
                            "--listen_tls", "127.0.0.1:465", "--listen_submission", "127.0.0.1:587",
                            "--tls_key_file", "/nonexistent", "--auth_allow_plaintext", "maybe"],
                           capture_output=True, text=True, timeout=30)
        out = r.stdout + r.stderr
        self.assertNotEqual(r.returncode, 0)
        for expected in ("mynetworks: '10.0.0.1/8': host bits set after the prefix",
                         "listen_tls: needs tls_cert_file and tls_key_file",
                         "listen_submission: needs auth_users_file",
                         "tls_cert_file, tls_key_file: set both or neither",
                         "auth_allow_plaintext: 'maybe' is not yes or no"):
            self.assertIn(expected, out)
        ok = subprocess.run([harness.BIN, "check-config", "--mynetworks", "127.0.0.0/8", "[::1]/128"],
                            capture_output=True, text=True, timeout=30)
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)


class AuthUsersReload(unittest.TestCase):
    """SIGHUP re-reads auth_users_file: new sessions see the new users; a broken file is refused."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="postrider-authreload-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.cert, self.key = make_certificate(self.tmp, san=SAN)
        self.users = os.path.join(self.tmp, "users")
        self.write_users(f"carol:{crypt_hash('carol-pw', '$6$')}\n")
        self.d = Daemon(tls_cert_file=self.cert, tls_key_file=self.key, auth_users_file=self.users,
                        auth_failure_delay="0s")
        self.d.start()

    def tearDown(self):
        self.assertEqual(self.d.stop(), 0, self.d.log())

    def write_users(self, text):
        with open(self.users + ".new", "w") as f:
            f.write(text)
        os.replace(self.users + ".new", self.users)

    def auth(self, user, password):
        r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(self.d.port), "--helo", "client.example",
                            "--timeout", "10", "--tls", "--auth", "PLAIN", "--auth-user", user, "--auth-password",
                            password, "--quit-after", "AUTH"], capture_output=True, text=True, timeout=60)
        return "235 2.7.0" in r.stdout

    def reload(self, expect):
        before = self.d.log().count(expect)
        self.d.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: self.d.log().count(expect) > before, what=expect)

    def test_sighup_swaps_the_users_and_keeps_them_on_a_broken_file(self):
        self.assertTrue(self.auth("carol", "carol-pw"))
        self.assertFalse(self.auth("dave", "dave-pw"))
        self.write_users(f"dave:{crypt_hash('dave-pw', '$y$')}\n")
        self.reload("reload: configuration reloaded")
        self.assertTrue(self.auth("dave", "dave-pw"))
        self.assertFalse(self.auth("carol", "carol-pw"))
        self.write_users("dave:not-a-crypt-hash\n")
        self.reload("reload refused, old configuration kept")
        self.assertTrue(self.auth("dave", "dave-pw"))


if __name__ == "__main__":
    harness.main()
