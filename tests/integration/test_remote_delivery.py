#!/usr/bin/python3
"""Remote delivery end to end against real peers on loopback.

dnsmasq serves MX and A records for *.test (MX hosts are 127.0.0.x); Postfix's
smtp-sink plays an MX that accepts everything; aiosmtpd plays a scripted MX
(per-recipient 550 and 451); a bare socket plays an MX that accepts TCP and
never speaks; scripted_mx.ScriptedMX plays MXes that need exact control (EHLO
keywords, a broken STARTTLS, a drop in DATA, counting connections); aiosmtpd with
a self-signed certificate plays a STARTTLS MX. Mail is submitted to postrider
over SMTP for relay_domains.
"""
import os
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import Daemon, free_port, make_certificate, start_peer, stop_process, wait_until
from scripted_mx import ScriptedMX

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

SINK = "127.0.0.2"      # smtp-sink
DEAD = "127.0.0.3"      # nothing listens: connection refused
SCRIPTED = "127.0.0.4"  # aiosmtpd
HANG = "127.0.0.5"      # accepts, never greets
TLS = "127.0.0.6"       # aiosmtpd with STARTTLS
BADTLS = "127.0.0.7"    # ScriptedMX: STARTTLS offered, handshake fails
DSN = "127.0.0.8"       # ScriptedMX advertising SIZE and DSN
NODSN = "127.0.0.9"     # ScriptedMX advertising SIZE only
DROP = "127.0.0.10"     # ScriptedMX dropping the first DATA
REUSE = "127.0.0.11"    # ScriptedMX counting connections
AUTH = "127.0.0.12"     # aiosmtpd relayhost: STARTTLS, then AUTH PLAIN/LOGIN required
NOTLSAUTH = "127.0.0.13"  # ScriptedMX relayhost offering AUTH without STARTTLS
AUTHLOGIN = "127.0.0.14"  # aiosmtpd relayhost offering only AUTH LOGIN
VTLS = "127.0.0.15"     # aiosmtpd with STARTTLS, certificate for mx.vtls.test and securepass.test (TLS policy)
ALL_HOSTS = (SINK, DEAD, SCRIPTED, HANG, TLS, BADTLS, DSN, NODSN, DROP, REUSE, AUTH, NOTLSAUTH, AUTHLOGIN, VTLS)
SCRIPTED_DOMAINS = {"badtls": BADTLS, "dsn": DSN, "nodsn": NODSN, "drop": DROP, "reuse": REUSE}


def port_free_on_all(port):
    for host in ALL_HOSTS:
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def pick_port():
    for _ in range(50):
        p = free_port()
        if port_free_on_all(p):
            return p
    raise AssertionError("no free port on all test addresses")


class Scripted:
    """aiosmtpd handler: 550 for reject@, 451 once for later@, 250 otherwise; records transactions."""

    def __init__(self):
        self.transactions = []  # (mail_from, [rcpts], data)
        self.mails = 0
        self.later_seen = 0
        self.sched_times = []  # monotonic time of each RCPT for sched@
        self.tls_seen = []     # per transaction: was the session encrypted
        self.lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.lock:
            self.mails += 1
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local == "reject":
            return "550 5.1.1 no such user here"
        if local == "sched":
            with self.lock:
                self.sched_times.append(time.monotonic())
                if len(self.sched_times) == 1:
                    return "451 4.3.0 not yet"
        if local == "later":
            with self.lock:
                self.later_seen += 1
                if self.later_seen == 1:
                    return "451 4.2.1 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.transactions.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            self.tls_seen.append(server._tls_protocol is not None)
        return "250 2.0.0 accepted"


class CheckedDaemon(Daemon):
    """A Daemon whose clean exit is part of the test (a sanitizer abort shows as a non-zero code)."""

    def __exit__(self, *exc):
        rc = self.stop()
        super().__exit__(*exc)
        if not exc[0]:
            assert rc == 0, f"daemon exit code {rc}"


class Authenticator:
    """aiosmtpd authenticator: accepts relay-user / the password; records every attempt."""

    def __init__(self, password):
        self.password = password.encode()
        self.attempts = []  # (mechanism, login, password ok, session encrypted)

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"relay-user" \
            and auth_data.password == self.password
        self.attempts.append((mechanism, auth_data.login if isinstance(auth_data, LoginPassword) else None, ok,
                              server._tls_protocol is not None))
        return AuthResult(success=ok, handled=False)  # handled=True would send no reply at all


class RemoteDelivery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="postrider-remote-")
        cls.smtp_port = pick_port()
        cls.dns_port = free_port()
        cls.procs = []
        dns = [
            "dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--pid-file", f"--port={cls.dns_port}",
            "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
            "--local=/test/", "--log-facility=-",
            "--mx-host=ok.test,mx.ok.test,10", f"--host-record=mx.ok.test,{SINK}",
            "--mx-host=fallback.test,mx1.fallback.test,10", f"--host-record=mx1.fallback.test,{DEAD}",
            "--mx-host=fallback.test,mx2.fallback.test,20", f"--host-record=mx2.fallback.test,{SINK}",
            "--mx-host=scripted.test,mx.scripted.test,10", f"--host-record=mx.scripted.test,{SCRIPTED}",
            "--mx-host=hang.test,mx.hang.test,10", f"--host-record=mx.hang.test,{HANG}",
            "--mx-host=nullmx.test,.,0",
            f"--host-record=implicit.test,{SINK}",  # no MX: RFC 5321 implicit MX
            "--mx-host=tls.test,mx.tls.test,10", f"--host-record=mx.tls.test,{TLS}",
            # TLS policy: three domains, one MX whose certificate names mx.vtls.test and securepass.test.
            "--mx-host=vtls.test,mx.vtls.test,10", f"--host-record=mx.vtls.test,{VTLS}",
            "--mx-host=securetls.test,mx.vtls.test,10", "--mx-host=securepass.test,mx.vtls.test,10",
        ]
        for name, ip in SCRIPTED_DOMAINS.items():
            dns += [f"--mx-host={name}.test,mx.{name}.test,10", f"--host-record=mx.{name}.test,{ip}"]
        cls.procs.append(start_peer(dns, log_path=os.path.join(cls.tmp, "dnsmasq.log")))
        cls.sink_dir = os.path.join(cls.tmp, "sink")
        os.mkdir(cls.sink_dir)
        sink = ["smtp-sink", "-u", "nobody", "-d", os.path.join(cls.sink_dir, "%M."), f"{SINK}:{cls.smtp_port}", "100"]
        os.chmod(cls.tmp, 0o755)  # smtp-sink runs as nobody and must reach sink_dir
        os.chmod(cls.sink_dir, 0o777)
        cls.procs.append(start_peer(sink, log_path=os.path.join(cls.tmp, "sink.log")))
        cls.hang = socket.socket()
        cls.hang.bind((HANG, cls.smtp_port))
        cls.hang.listen(16)
        cls.scripted = Scripted()
        cls.controller = Controller(cls.scripted, hostname=SCRIPTED, port=cls.smtp_port)
        cls.controller.start()
        # The AUTH relayhost's certificate names its address, so a client can verify it.
        cert, key = make_certificate(cls.tmp, san=f"DNS:localhost,IP:{AUTH}")
        cls.relay_ca = cert
        cls.other_ca, _ = make_certificate(cls.tmp, name="other")
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(cert, key)
        cls.tls_handler = Scripted()
        cls.tls_controller = Controller(cls.tls_handler, hostname=TLS, port=cls.smtp_port, tls_context=tls_context,
                                        require_starttls=False)
        cls.tls_controller.start()
        cls.auth_handler = Scripted()
        cls.authenticator = Authenticator("s3cret pass")
        cls.auth_controller = Controller(cls.auth_handler, hostname=AUTH, port=cls.smtp_port, tls_context=tls_context,
                                         require_starttls=True, auth_required=True, auth_require_tls=True,
                                         authenticator=cls.authenticator)
        cls.auth_controller.start()
        cls.login_handler = Scripted()
        cls.login_authenticator = Authenticator("s3cret pass")
        cls.login_controller = Controller(cls.login_handler, hostname=AUTHLOGIN, port=cls.smtp_port,
                                          tls_context=tls_context, auth_required=True,
                                          auth_exclude_mechanism=["PLAIN"], authenticator=cls.login_authenticator)
        cls.login_controller.start()
        # TLS policy peer: its own self-signed certificate is the policy daemon's only CA.
        pcert, pkey = make_certificate(cls.tmp, name="policy", san="DNS:mx.vtls.test,DNS:securepass.test")
        cls.policy_ca = pcert
        policy_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        policy_context.load_cert_chain(pcert, pkey)
        cls.vtls_handler = Scripted()
        cls.vtls_controller = Controller(cls.vtls_handler, hostname=VTLS, port=cls.smtp_port,
                                         tls_context=policy_context, require_starttls=False)
        cls.vtls_controller.start()
        cls.tls_policy_table = os.path.join(cls.tmp, "tls_policy")
        with open(cls.tls_policy_table, "w") as f:
            f.write("# test TLS policies\nvtls.test verify\nsecuretls.test secure\nsecurepass.test secure\n"
                    "tls.test verify\nnodsn.test encrypt\nbadtls.test none\n")
        cls.wrong_password_file = os.path.join(cls.tmp, "wrong.pass")
        with open(cls.wrong_password_file, "w") as f:
            f.write("not the password\n")
        os.chmod(cls.wrong_password_file, 0o600)
        cls.password_file = os.path.join(cls.tmp, "relay.pass")
        with open(cls.password_file, "w") as f:
            f.write("s3cret pass\n")
        os.chmod(cls.password_file, 0o600)
        # Static routes: routed.test has no DNS records at all; viamx.test uses the MX of ok.test.
        cls.transport_table = os.path.join(cls.tmp, "transport")
        with open(cls.transport_table, "w") as f:
            f.write(f"# test routes\nrouted.test  [{SINK}]:{cls.smtp_port}\nviamx.test ok.test\n"
                    f".sub.test [{SINK}]\n")
        cls.mx = {
            "badtls": ScriptedMX(BADTLS, cls.smtp_port, ["PIPELINING", "SIZE 10000000"], bad_starttls=True),
            "dsn": ScriptedMX(DSN, cls.smtp_port, ["PIPELINING", "SIZE 10000000", "8BITMIME", "DSN"]),
            "nodsn": ScriptedMX(NODSN, cls.smtp_port, ["SIZE 10000000"]),
            "drop": ScriptedMX(DROP, cls.smtp_port, ["PIPELINING", "SIZE 10000000"], drop_in_data=1),
            "reuse": ScriptedMX(REUSE, cls.smtp_port, ["PIPELINING", "SIZE 10000000"]),
            "notlsauth": ScriptedMX(NOTLSAUTH, cls.smtp_port, ["PIPELINING", "AUTH PLAIN LOGIN"]),
        }
        wait_until(lambda: cls._dns_ready(), what="dnsmasq")
        wait_until(lambda: cls._connects(SINK), what="smtp-sink")
        cls.d = Daemon(
            relay_domains="ok.test fallback.test scripted.test hang.test nullmx.test nx.test implicit.test tls.test "
                          + " ".join(f"{name}.test" for name in SCRIPTED_DOMAINS) + " routed.test viamx.test a.sub.test",
            transport_table=cls.transport_table,
            dns_servers=f"127.0.0.1:{cls.dns_port}", remote_smtp_port=cls.smtp_port,
            remote_command_timeout="2s", remote_connect_timeout="2s", retry_first="1s", retry_max="2s",
            remote_host_down_time="60s", delay_warning_time="0")
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        cls.controller.stop()
        cls.tls_controller.stop()
        cls.auth_controller.stop()
        cls.login_controller.stop()
        cls.vtls_controller.stop()
        for mx in cls.mx.values():
            mx.stop()
        cls.hang.close()
        for p in cls.procs:
            stop_process(p)
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert rc == 0, f"daemon exit code {rc}\n{cls.d.log()}"

    @classmethod
    def _dns_ready(cls):
        out = subprocess.run(["dig", "+short", "+time=1", "+tries=1", "-p", str(cls.dns_port), "@127.0.0.1",
                              "mx.ok.test"], capture_output=True, text=True) if shutil.which("dig") else None
        if out is not None:
            return SINK in out.stdout
        return cls._udp_listening()

    @classmethod
    def _udp_listening(cls):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.2)
            return s.connect_ex(("127.0.0.1", cls.dns_port)) == 0

    @staticmethod
    def _connects(host):
        with socket.socket() as s:
            s.settimeout(0.2)
            return s.connect_ex((host, RemoteDelivery.smtp_port)) == 0

    def send(self, sender, rcpts, body):
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10) as s:
            s.sendmail(sender, rcpts, body)

    def sink_files(self):
        return sorted(os.listdir(self.sink_dir))

    def sink_containing(self, marker):
        found = []
        for n in self.sink_files():
            with open(os.path.join(self.sink_dir, n), "rb") as f:
                if marker.encode() in f.read():
                    found.append(n)
        return found

    def bounces_for(self, user, marker):
        return [m for m in self.d.read_delivered(user) if marker.encode() in m]

    def test_mx_delivery_to_smtp_sink_with_dot_stuffing(self):
        body = "Subject: mx-ok\r\n\r\nline one\r\n.leading dot\r\n..two dots\r\n"
        self.send("alice@localhost", ["bob@ok.test", "carol@ok.test"], body)
        files = wait_until(lambda: self.sink_containing("mx-ok"), timeout=20, what="sink delivery")
        self.assertEqual(len(files), 1, "both recipients in one transaction, delivered once")
        with open(os.path.join(self.sink_dir, files[0]), "rb") as f:
            dump = f.read()
        self.assertIn(b"bob@ok.test", dump)
        self.assertIn(b"carol@ok.test", dump)
        self.assertIn(b"\n.leading dot", dump)  # stuffed on the wire, unstuffed by the sink
        self.assertIn(b"\n..two dots", dump)
        # The relay may name another MX host of the same address: connections are cached per address.
        wait_until(lambda: re.search(r"to=<bob@ok\.test>, relay=[a-z0-9.]+\[127\.0\.0\.2\]:\d+, .*status=sent",
                                     self.d.log()), what="sent log line")

    def test_implicit_mx(self):
        self.send("alice@localhost", ["x@implicit.test"], "Subject: implicit-mx\r\n\r\nhi\r\n")
        wait_until(lambda: self.sink_containing("implicit-mx"), timeout=20, what="implicit MX delivery")

    def test_dead_mx_falls_back_and_is_remembered(self):
        self.send("alice@localhost", ["y@fallback.test"], "Subject: fallback-1\r\n\r\nhi\r\n")
        wait_until(lambda: self.sink_containing("fallback-1"), timeout=20, what="delivery via the second MX")
        self.assertIn(f"remote host {DEAD}:{self.smtp_port} marked down", self.d.log())
        self.send("alice@localhost", ["z@fallback.test"], "Subject: fallback-2\r\n\r\nhi\r\n")
        wait_until(lambda: self.sink_containing("fallback-2"), timeout=20, what="second delivery")
        self.assertEqual(self.d.log().count(f"remote host {DEAD}:{self.smtp_port} marked down"), 1,
                         "the downed host was skipped, not retried")

    def test_partial_failure_bounces_only_the_failed_recipient(self):
        self.send("carol@localhost", ["good@scripted.test", "reject@scripted.test"],
                  "Subject: partial-550\r\n\r\nhi\r\n")
        bounce = wait_until(lambda: self.bounces_for("carol", "reject@scripted.test"), timeout=20, what="bounce")[0]
        self.assertIn(b"5.1.1", bounce)
        self.assertIn(b"no such user here", bounce)
        self.assertNotIn(b"good@scripted.test", bounce.split(b"Content-Type: text/rfc822-headers")[0])
        got = [t for t in self.scripted.transactions if b"partial-550" in t[2]]
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0][1], ["good@scripted.test"])

    def test_4xx_is_retried(self):
        self.send("alice@localhost", ["later@scripted.test"], "Subject: retry-451\r\n\r\nhi\r\n")
        wait_until(lambda: [t for t in self.scripted.transactions if b"retry-451" in t[2]], timeout=30,
                   what="delivery after the retry")
        log = self.d.log()
        self.assertIn("to=<later@scripted.test>, relay=mx.scripted.test", log)
        self.assertIn("451 4.2.1 try again later", log)
        self.assertGreaterEqual(self.scripted.later_seen, 2)

    def test_null_mx_bounces(self):
        self.send("dave@localhost", ["u@nullmx.test"], "Subject: null-mx\r\n\r\nhi\r\n")
        bounce = wait_until(lambda: self.bounces_for("dave", "u@nullmx.test"), timeout=20, what="null MX bounce")[0]
        self.assertIn(b"5.1.10", bounce)

    def test_nxdomain_bounces(self):
        self.send("erin@localhost", ["u@nx.test"], "Subject: nxdomain\r\n\r\nhi\r\n")
        bounce = wait_until(lambda: self.bounces_for("erin", "u@nx.test"), timeout=20, what="NXDOMAIN bounce")[0]
        self.assertIn(b"5.1.2", bounce)

    def test_hanging_server_times_out_and_others_are_unaffected(self):
        start = time.monotonic()
        self.send("frank@localhost", ["h@hang.test", "w@ok.test"], "Subject: hang-and-ok\r\n\r\nhi\r\n")
        wait_until(lambda: self.sink_containing("hang-and-ok"), timeout=20, what="ok.test delivery")
        self.assertLess(time.monotonic() - start, 2.0, "ok.test waited for the hanging domain")
        wait_until(lambda: "to=<h@hang.test>" in self.d.log() and "greeting failed: timeout" in self.d.log(),
                   timeout=20, what="hang.test deferred after the greeting timeout")
        self.assertNotIn(b"h@hang.test", b"".join(self.d.read_delivered("frank")))

    def sent_line(self, rcpt):
        """The log line that journals rcpt as delivered, or None."""
        m = re.search(r"[^\n]*to=<" + re.escape(rcpt) + r">[^\n]*status=sent[^\n]*", self.d.log())
        return m.group(0) if m else None

    def test_starttls_to_aiosmtpd(self):
        self.send("alice@localhost", ["t@tls.test"], "Subject: starttls-ok\r\n\r\nsecret\r\n")
        got = wait_until(lambda: [i for i, t in enumerate(self.tls_handler.transactions) if b"starttls-ok" in t[2]],
                         timeout=20, what="delivery over TLS")
        self.assertTrue(self.tls_handler.tls_seen[got[0]], "the server saw the message inside TLS")
        self.assertRegex(self.d.log(), r"TLS connection established to mx\.tls\.test\[127\.0\.0\.6\]:\d+: "
                                       r"TLSv1\.[23] with cipher [A-Z0-9_-]+")
        wait_until(lambda: self.sent_line("t@tls.test"), what="sent log line")

    def test_failed_starttls_handshake_falls_back_to_plaintext(self):
        mx = self.mx["badtls"]
        self.send("alice@localhost", ["b@badtls.test"], "Subject: badtls-fallback\r\n\r\nhi\r\n")
        got = wait_until(lambda: mx.messages_containing("badtls-fallback"), timeout=20, what="plaintext delivery")
        self.assertEqual(len(got), 1, "delivered once")
        conn = got[0]["connection"]
        self.assertGreaterEqual(conn, 2, "a second connection after the failed handshake")
        self.assertIn("STARTTLS", mx.commands_of(conn - 1))
        self.assertNotIn("STARTTLS", mx.commands_of(conn), "the retry does not ask for TLS again")
        log = self.d.log()
        self.assertRegex(log, r"host mx\.badtls\.test\[127\.0\.0\.7\]:\d+ STARTTLS failed: TLS handshake: "
                              r".*\(retrying without TLS\)")
        self.assertNotIn(f"remote host {BADTLS}", log, "a failed handshake does not mark the host down")

    def test_dsn_and_size_parameters_are_passed_when_offered(self):
        body = "Subject: dsn-params\r\n\r\nhello\r\n"
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10) as s:
            s.ehlo()
            s.sendmail("alice@localhost", ["d@dsn.test", "n@nodsn.test"], body,
                       mail_options=["RET=FULL", "ENVID=env+2Bid-1"],
                       rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;orig+2Buser@example.org"])
        dsn = wait_until(lambda: self.mx["dsn"].messages_containing("dsn-params"), timeout=20, what="dsn.test")
        plain = wait_until(lambda: self.mx["nodsn"].messages_containing("dsn-params"), timeout=20, what="nodsn.test")
        mail = dsn[0]["mail"]
        size = re.search(r" SIZE=(\d+)", mail)
        self.assertIsNotNone(size, mail)
        self.assertGreaterEqual(int(size.group(1)), len(body))
        self.assertIn(" RET=FULL", mail)
        self.assertIn(" ENVID=env+2Bid-1", mail)  # decoded at receipt, xtext-encoded again
        self.assertEqual(dsn[0]["rcpts"],
                         ["RCPT TO:<d@dsn.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig+2Buser@example.org"])
        # Without DSN in EHLO, RFC 3461 parameters must not be sent (the server would reject them).
        self.assertRegex(plain[0]["mail"], r"^MAIL FROM:<alice@localhost> SIZE=\d+$")
        self.assertEqual(plain[0]["rcpts"], ["RCPT TO:<n@nodsn.test>"])

    def test_drop_in_data_is_deferred_then_delivered_exactly_once(self):
        mx = self.mx["drop"]
        self.send("alice@localhost", ["x@drop.test", "y@drop.test"], "Subject: drop-in-data\r\n\r\nbody\r\n")
        wait_until(lambda: mx.drops == 1, timeout=20, what="the scripted drop")
        wait_until(lambda: mx.messages_containing("drop-in-data"), timeout=20, what="delivery after the retry")
        wait_until(lambda: self.sent_line("x@drop.test") and self.sent_line("y@drop.test"), what="sent log lines")
        time.sleep(3)  # longer than retry_max: a wrong second delivery would have happened by now
        got = mx.messages_containing("drop-in-data")
        rcpts = sorted(r for m in got for r in m["rcpts"])
        self.assertEqual(rcpts, ["RCPT TO:<x@drop.test>", "RCPT TO:<y@drop.test>"], "each recipient exactly once")
        # Deferred together, due together: one retry transaction, not one per recipient.
        self.assertEqual(len(got), 1, f"one retry transaction: {got}")
        self.assertRegex(self.d.log(), r"to=<x@drop\.test>[^\n]*status=deferred[^\n]*lost connection")

    def test_second_message_reuses_the_connection(self):
        mx = self.mx["reuse"]
        self.send("alice@localhost", ["r1@reuse.test"], "Subject: reuse-one\r\n\r\nhi\r\n")
        wait_until(lambda: self.sent_line("r1@reuse.test"), timeout=20, what="first delivery")
        self.send("alice@localhost", ["r2@reuse.test"], "Subject: reuse-two\r\n\r\nhi\r\n")
        wait_until(lambda: mx.messages_containing("reuse-two"), timeout=20, what="second delivery")
        self.assertEqual(mx.connections, 1, "both messages over one TCP connection")
        self.assertIn("RSET", mx.commands_of(1), "the cached connection was reset before reuse")
        self.assertEqual(len(mx.messages_containing("reuse-")), 2)

    def test_retry_follows_retry_first(self):
        self.send("alice@localhost", ["sched@scripted.test"], "Subject: sched-retry\r\n\r\nhi\r\n")
        wait_until(lambda: [t for t in self.scripted.transactions if b"sched-retry" in t[2]], timeout=20,
                   what="delivery after the retry")
        first, second = self.scripted.sched_times[:2]
        # retry_first = 1s: not before one second, and not much later than that.
        self.assertGreaterEqual(second - first, 1.0)
        self.assertLess(second - first, 4.0)
        self.assertEqual(len(self.scripted.sched_times), 2, "one retry was enough")


    def test_transport_table_routes_without_mx_lookup(self):
        # Interleaved domains, one written in capitals: still one transaction per domain, with all of its
        # recipients (the manager groups a message's ready recipients by domain in one pass).
        self.send("alice@localhost", ["r@routed.test", "s@a.sub.test", "r2@routed.test", "s2@A.Sub.TEST"],
                  "Subject: routed-static\r\n\r\nhi\r\n")
        files = wait_until(lambda: len(self.sink_containing("routed-static")) >= 2 and
                           self.sink_containing("routed-static"), timeout=20, what="routed delivery")
        time.sleep(0.5)  # a wrongly split batch would show up as a third file
        files = self.sink_containing("routed-static")
        self.assertEqual(len(files), 2, "one transaction per destination domain")
        dumps = [open(os.path.join(self.sink_dir, n), "rb").read() for n in files]
        routed = [d for d in dumps if b"r@routed.test" in d]
        self.assertEqual(len(routed), 1)
        self.assertIn(b"r2@routed.test", routed[0])
        sub = [d for d in dumps if b"s@a.sub.test" in d]
        self.assertEqual(len(sub), 1)
        self.assertIn(b"s2@a.sub.test", sub[0].lower())  # the session lower-cases domains at RCPT
        self.assertRegex(self.d.log(), r"transport_table \S+: 3 routes")
        # The sink has the file before our journal record and its log line: wait for it.
        wait_until(lambda: self.sent_line("r@routed.test"), what="sent log line")

    def test_transport_table_next_hop_with_mx_lookup(self):
        self.send("alice@localhost", ["v@viamx.test"], "Subject: routed-viamx\r\n\r\nhi\r\n")
        wait_until(lambda: self.sink_containing("routed-viamx"), timeout=20, what="delivery via ok.test's MX")
        # viamx.test has no DNS records: only the route (MX of ok.test -> 127.0.0.2) can deliver it.
        # The relay name may be another host of the same cached address (connections are cached per address).
        self.assertRegex(wait_until(lambda: self.sent_line("v@viamx.test"), what="sent line"),
                         r"relay=[a-z0-9.]+\[127\.0\.0\.2\]")

    def relay_daemon(self, relayhost, password_file=None, **more):
        """A second postrider whose relayhost needs AUTH (same DNS and peers)."""
        return CheckedDaemon(relay_domains="far.test routed.test", dns_servers=f"127.0.0.1:{self.dns_port}", **more,
                      remote_smtp_port=self.smtp_port, remote_command_timeout="2s", remote_connect_timeout="2s",
                      retry_first="60s", delay_warning_time="0", relayhost=relayhost,
                      relayhost_username="relay-user", relayhost_password_file=password_file or self.password_file)

    def test_transport_table_beats_relayhost(self):
        with self.relay_daemon(f"[{AUTH}]:{self.smtp_port}", transport_table=self.transport_table) as d:
            with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as s:
                s.sendmail("alice@localhost", ["k@routed.test", "m@far.test"], "Subject: route-first\r\n\r\nhi\r\n")
            wait_until(lambda: self.sink_containing("route-first"), timeout=20, what="routed.test at the sink")
            got = wait_until(lambda: [t for t in self.auth_handler.transactions if b"route-first" in t[2]],
                             timeout=20, what="far.test via the relayhost")
            self.assertEqual(got[0][1], ["m@far.test"], "only the unrouted domain went to the relayhost")

    def test_auth_login_when_plain_is_not_offered(self):
        with self.relay_daemon(f"[{AUTHLOGIN}]:{self.smtp_port}") as d:
            with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as s:
                s.sendmail("alice@localhost", ["l@far.test"], "Subject: auth-login\r\n\r\nhi\r\n")
            wait_until(lambda: [t for t in self.login_handler.transactions if b"auth-login" in t[2]], timeout=20,
                       what="relay after AUTH LOGIN")
            self.assertEqual(self.login_authenticator.attempts[-1], ("LOGIN", b"relay-user", True, True))

    def test_wrong_password_defers_and_does_not_bounce(self):
        with self.relay_daemon(f"[{AUTH}]:{self.smtp_port}", self.wrong_password_file) as d:
            with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as s:
                s.sendmail("alice@localhost", ["w@far.test"], "Subject: wrong-pass\r\n\r\nhi\r\n")
            line = wait_until(lambda: re.search(r"[^\n]*to=<w@far\.test>[^\n]*status=deferred[^\n]*", d.log()),
                              timeout=20, what="deferral").group(0)
            self.assertRegex(line, r"AUTH failed: 535")
            self.assertIn(("PLAIN", b"relay-user", False, True), self.authenticator.attempts)
            self.assertFalse([t for t in self.auth_handler.transactions if b"wrong-pass" in t[2]])
            self.assertEqual(d.read_delivered("alice"), [], "no bounce for a credentials problem")
            self.assertNotIn("not the password", d.log())

    def test_auth_plain_to_relayhost_over_tls(self):
        with self.relay_daemon(f"[{AUTH}]:{self.smtp_port}") as d:
            with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as s:
                s.sendmail("alice@localhost", ["p@far.test"], "Subject: auth-relay\r\n\r\nhi\r\n")
            got = wait_until(lambda: [i for i, t in enumerate(self.auth_handler.transactions)
                                      if b"auth-relay" in t[2]], timeout=20, what="authenticated relay")
            self.assertTrue(self.auth_handler.tls_seen[got[0]])
            self.assertEqual(self.authenticator.attempts[-1], ("PLAIN", b"relay-user", True, True))
            self.assertNotIn("s3cret", d.log(), "the password is never logged")

    def test_verified_relayhost_certificate(self):
        with self.relay_daemon(f"[{AUTH}]:{self.smtp_port}", relayhost_tls_ca_file=self.relay_ca) as d:
            with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as s:
                s.sendmail("alice@localhost", ["v@far.test"], "Subject: verified-relay\r\n\r\nhi\r\n")
            wait_until(lambda: [t for t in self.auth_handler.transactions if b"verified-relay" in t[2]], timeout=20,
                       what="relay after a verified handshake")

    def test_unverifiable_relayhost_gets_no_credentials(self):
        before = len(self.authenticator.attempts)
        with self.relay_daemon(f"[{AUTH}]:{self.smtp_port}", relayhost_tls_ca_file=self.other_ca) as d:
            with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as s:
                s.sendmail("alice@localhost", ["u@far.test"], "Subject: unverified-relay\r\n\r\nhi\r\n")
            line = wait_until(lambda: re.search(r"[^\n]*to=<u@far\.test>[^\n]*status=deferred[^\n]*", d.log()),
                              timeout=20, what="deferral").group(0)
            self.assertIn("certificate verify failed", line)
            self.assertNotIn("retrying without TLS", d.log(), "no plaintext retry when TLS is required")
            self.assertEqual(len(self.authenticator.attempts), before, "no AUTH attempted")
            self.assertFalse([t for t in self.auth_handler.transactions if b"unverified-relay" in t[2]])

    def test_credentials_never_sent_without_tls(self):
        mx = self.mx["notlsauth"]
        with self.relay_daemon(f"[{NOTLSAUTH}]:{self.smtp_port}") as d:
            with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as s:
                s.sendmail("alice@localhost", ["q@far.test"], "Subject: no-tls-auth\r\n\r\nhi\r\n")
            line = wait_until(lambda: re.search(r"[^\n]*to=<q@far\.test>[^\n]*status=deferred[^\n]*", d.log()),
                              timeout=20, what="deferral").group(0)
            self.assertIn("AUTH failed: no TLS: credentials not sent", line)
            self.assertGreaterEqual(mx.connections, 1)
            sent = [c for n in range(1, mx.connections + 1) for c in mx.commands_of(n)]
            self.assertFalse([c for c in sent if c.upper().startswith("AUTH") or "s3cret" in c], sent)
            self.assertEqual(mx.messages, [], "nothing relayed without AUTH")
            self.assertNotIn(f"remote host {NOTLSAUTH}", d.log(), "not marked down: the host works")

    def test_mx_answers_are_cached_for_their_ttl(self):
        """A private dnsmasq with --local-ttl=8 and query logging: the MX of ttl.test is asked once for
        two messages a second apart, and again for a third after the 8 s TTL (the old fixed 60 s cache
        would not ask again; no cache would ask for every message)."""
        port = free_port()
        log_path = os.path.join(self.tmp, "dnsmasq-ttl.log")
        dns = start_peer(["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--pid-file", f"--port={port}",
                          "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                          "--local=/test/", "--log-facility=-", "--log-queries", "--local-ttl=8",
                          "--mx-host=ttl.test,mx.ttl.test,10", f"--host-record=mx.ttl.test,{SINK}"],
                         log_path=log_path)

        def mx_queries():
            with open(log_path, errors="replace") as f:
                return len(re.findall(r"query\[MX\] ttl\.test from", f.read()))
        try:
            wait_until(lambda: "started" in open(log_path, errors="replace").read(), what="dnsmasq (ttl)")
            with CheckedDaemon(relay_domains="ttl.test", dns_servers=f"127.0.0.1:{port}",
                               remote_smtp_port=self.smtp_port, delay_warning_time="0") as d:
                def deliver(marker):
                    with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as s:
                        s.sendmail("alice@localhost", ["t@ttl.test"], f"Subject: {marker}\r\n\r\nhi\r\n")
                    wait_until(lambda: self.sink_containing(marker), timeout=20, what=marker)
                start = time.monotonic()
                deliver("ttl-one")
                self.assertEqual(mx_queries(), 1)
                deliver("ttl-two")
                self.assertLess(time.monotonic() - start, 7.0, "the second message came within the TTL")
                self.assertEqual(mx_queries(), 1, "within the TTL the cached MX answer is used")
                time.sleep(max(0.0, start + 9.0 - time.monotonic()))
                deliver("ttl-three")
                self.assertEqual(mx_queries(), 2, "after the TTL the MX is asked again")
        finally:
            stop_process(dns)

    def policy_daemon(self):
        """A second postrider with a TLS policy table whose CA is the VTLS peer's certificate (same DNS, peers)."""
        return CheckedDaemon(relay_domains="vtls.test securetls.test securepass.test tls.test nodsn.test badtls.test",
                             dns_servers=f"127.0.0.1:{self.dns_port}", remote_smtp_port=self.smtp_port,
                             remote_command_timeout="2s", remote_connect_timeout="2s", retry_first="60s",
                             delay_warning_time="0", tls_policy_table=self.tls_policy_table,
                             remote_tls_ca_file=self.policy_ca)

    def policy_deferral(self, rcpt, marker, mails_seen, dsn, reason):
        """Send marker to rcpt through a policy daemon; assert it is deferred with dsn and reason, that
        the peer saw no MAIL FROM (mails_seen() counts them), and that nothing bounced. Returns the log."""
        mails = mails_seen()
        with self.policy_daemon() as d:
            with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as s:
                s.sendmail("alice@localhost", [rcpt], f"Subject: {marker}\r\n\r\nhi\r\n")
            line = wait_until(lambda: re.search(r"[^\n]*to=<" + re.escape(rcpt) + r">[^\n]*status=deferred[^\n]*",
                                                d.log()), timeout=20, what=f"{rcpt} deferred").group(0)
            self.assertIn(f"dsn={dsn}", line)
            self.assertIn(reason, line)
            self.assertEqual(mails_seen(), mails, "the server saw no MAIL FROM")
            self.assertEqual(d.read_delivered("alice"), [], "a policy failure never bounces")
            return d.log()

    def test_tls_policy_verify_and_secure_pass_with_the_right_ca_and_name(self):
        with self.policy_daemon() as d:
            with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as s:
                s.sendmail("alice@localhost", ["v@vtls.test"], "Subject: policy-verify-ok\r\n\r\nhi\r\n")
                s.sendmail("alice@localhost", ["s@securepass.test"], "Subject: policy-secure-ok\r\n\r\nhi\r\n")
            for marker in ("policy-verify-ok", "policy-secure-ok"):
                got = wait_until(lambda: [i for i, t in enumerate(self.vtls_handler.transactions) if marker.encode()
                                          in t[2]], timeout=20, what=marker)
                self.assertTrue(self.vtls_handler.tls_seen[got[0]], f"{marker}: the server saw it inside TLS")
            self.assertRegex(d.log(), r"tls_policy_table \S+: 6 entries")
            self.assertRegex(d.log(), r"TLS connection established to mx\.vtls\.test\[127\.0\.0\.15\]:\d+: TLSv1\.[23]")

    def test_tls_policy_verify_defers_with_another_ca(self):
        log = self.policy_deferral("w@tls.test", "policy-wrong-ca", lambda: self.tls_handler.mails, "4.7.5",
                                   "certificate verify failed")
        self.assertNotIn("retrying without TLS", log, "no plaintext fallback under a mandatory policy")
        self.assertNotIn(f"remote host {TLS}", log, "not marked down: the host works")

    def test_tls_policy_secure_defers_on_a_name_mismatch(self):
        # securetls.test's MX is mx.vtls.test, whose certificate (right CA) names mx.vtls.test and
        # securepass.test but not securetls.test: "verify" would pass, "secure" must not.
        self.policy_deferral("m@securetls.test", "policy-name-mismatch", lambda: self.vtls_handler.mails, "4.7.5",
                             "certificate verify failed")

    def test_tls_policy_encrypt_defers_when_starttls_is_not_offered(self):
        mx = self.mx["nodsn"]  # advertises SIZE only
        first = mx.connections + 1

        def mails():
            return len([c for n in range(1, mx.connections + 1) for c in mx.commands_of(n) if c.upper().startswith("MAIL")])
        self.policy_deferral("e@nodsn.test", "policy-encrypt", mails, "4.7.4",
                             "does not offer STARTTLS, and TLS is required (tls policy encrypt)")
        sent = [c for n in range(first, mx.connections + 1) for c in mx.commands_of(n)]
        self.assertTrue(sent, "the server was contacted")
        self.assertFalse([c for c in sent if c.upper().startswith(("MAIL", "RCPT", "DATA"))], sent)
        self.assertFalse(mx.messages_containing("policy-encrypt"))

    def test_tls_policy_none_never_sends_starttls(self):
        mx = self.mx["badtls"]  # offers STARTTLS (and would fail it)
        with self.policy_daemon() as d:
            with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as s:
                s.sendmail("alice@localhost", ["n@badtls.test"], "Subject: policy-none\r\n\r\nhi\r\n")
            got = wait_until(lambda: mx.messages_containing("policy-none"), timeout=20, what="plaintext delivery")
            conn = got[0]["connection"]
            self.assertIn("EHLO", " ".join(mx.commands_of(conn)))
            self.assertNotIn("STARTTLS", [c.upper() for c in mx.commands_of(conn)])
            self.assertNotIn("retrying without TLS", d.log(), "no TLS was tried, so nothing to retry")


class CheckConfigRoutes(unittest.TestCase):
    """check-config validates the transport table and the relayhost password file."""

    def check(self, settings, files):
        tmp = tempfile.mkdtemp(prefix="postrider-cc-")
        try:
            for name, (text, mode) in files.items():
                path = os.path.join(tmp, name)
                with open(path, "w") as f:
                    f.write(text)
                os.chmod(path, mode)
            conf = os.path.join(tmp, "p.conf")
            with open(conf, "w") as f:
                for k, v in settings.items():
                    f.write(f"{k} = {v.format(dir=tmp)}\n")
            r = subprocess.run([harness.BIN, "check-config", "-c", conf], capture_output=True, text=True, timeout=10)
            return r.returncode, r.stdout + r.stderr.replace(tmp, "DIR")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_bad_transport_table_lines_are_reported_with_numbers(self):
        rc, out = self.check({"transport_table": "{dir}/t"},
                             {"t": ("# ok\nok.test [127.0.0.1]:25\nbad line here\nx.test [oops\n", 0o644)})
        self.assertEqual(rc, 78, out)
        self.assertIn("DIR/t:3: expected 'domain nexthop', got 3 fields", out)
        self.assertIn("DIR/t:4: '[oops' is not host, host:port, [host] or [host]:port", out)

    def test_good_routes_and_auth_settings_are_valid(self):
        rc, out = self.check({"transport_table": "{dir}/t", "relayhost": "[127.0.0.1]:587",
                              "relayhost_username": "u", "relayhost_password_file": "{dir}/pw"},
                             {"t": ("a.test b.test:2525\n.c.test [10.0.0.1]\n", 0o644), "pw": ("secret\n", 0o600)})
        self.assertEqual(rc, 0, out)

    def test_ca_file_without_relayhost_is_refused(self):
        rc, out = self.check({"relayhost_tls_ca_file": "{dir}/ca.pem"}, {"ca.pem": ("", 0o644)})
        self.assertEqual(rc, 78, out)
        self.assertIn("relayhost_tls_ca_file: needs relayhost", out)

    def test_world_readable_password_file_and_missing_relayhost_are_refused(self):
        rc, out = self.check({"relayhost_username": "u", "relayhost_password_file": "{dir}/pw"},
                             {"pw": ("secret\n", 0o644)})
        self.assertEqual(rc, 78, out)
        self.assertIn("relayhost_username: needs relayhost and relayhost_password_file", out)
        rc, out = self.check({"relayhost": "[127.0.0.1]", "relayhost_username": "u",
                              "relayhost_password_file": "{dir}/pw"}, {"pw": ("secret\n", 0o644)})
        self.assertEqual(rc, 78, out)
        self.assertIn("is readable by other users", out)
        self.assertNotIn("secret", out)

    def test_bad_tls_policy_lines_are_reported_with_numbers(self):
        rc, out = self.check({"tls_policy_table": "{dir}/p", "remote_tls_ca_file": "{dir}/ca.pem"},
                             {"p": ("# ok\nok.test verify\nx.test dane\ny.test encrypt match=nexthop\n", 0o644),
                              "ca.pem": ("", 0o644)})
        self.assertEqual(rc, 78, out)
        self.assertIn("DIR/p:3: 'dane' is not a TLS level (none, may, encrypt, verify, secure)", out)
        self.assertIn("DIR/p:4: expected 'domain level', got 3 fields", out)

    def test_verify_levels_need_a_ca_file(self):
        rc, out = self.check({"tls_policy_table": "{dir}/p"}, {"p": ("bank.test secure\n", 0o644)})
        self.assertEqual(rc, 78, out)
        self.assertIn("tls_policy_table: verify/secure entries need remote_tls_ca_file", out)
        rc, out = self.check({"remote_tls_policy": "verify"}, {})
        self.assertEqual(rc, 78, out)
        self.assertIn("remote_tls_policy: verify needs remote_tls_ca_file", out)
        rc, out = self.check({"remote_tls_policy": "strict"}, {})
        self.assertEqual(rc, 78, out)
        self.assertIn("remote_tls_policy: must be none, may, encrypt, verify or secure", out)
        rc, out = self.check({"tls_policy_table": "{dir}/p", "remote_tls_policy": "encrypt"},
                             {"p": ("legacy.test may\n.corp.test none\n", 0o644)})
        self.assertEqual(rc, 0, out)


if __name__ == "__main__":
    harness.main()
