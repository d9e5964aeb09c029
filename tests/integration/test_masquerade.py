#!/usr/bin/python3
"""Masquerading and host hiding (docs/addressing.md), end to end through the real binary.

sendmail(1) drops mail into the maildrop; the daemon picks it up, masquerades the envelope
sender and the sender header fields, and relays it to a scripted MX (relayhost) where the
result is read. SMTP mail is never masqueraded.
"""
import os
import pwd
import re
import shutil
import smtplib
import subprocess
import tempfile

import harness
from harness import BIN, RelayedDaemonCase, wait_until
from test_auth_relay import crypt_hash


class Masquerade(RelayedDaemonCase):
    mx_keywords = ["PIPELINING", "8BITMIME"]
    daemon_settings = {
        "masquerade_domains": "!dev.example.com, example.com",
        "masquerade_exceptions": "root",
        "myorigin": "host.example.com",
        "hide_client_hosts": "yes",
        "mynetworks": "127.0.0.1/32",
    }

    def sendmail(self, *args, data):
        env = {"PATH": "/usr/bin:/bin", "POSTRIDER_CONFIG": self.d.config}
        return subprocess.run([BIN, "sendmail", *args], input=data, capture_output=True, env=env, timeout=30)

    def at_mx(self, marker):
        [m] = wait_until(lambda: self.mx.messages_containing(marker), what=f"{marker} at the MX")
        return m

    def test_sendmail_sender_and_from_are_masqueraded_body_and_to_are_not(self):
        r = self.sendmail("-f", "joe@host.example.com", "far@remote.example",
                          data=b"From: \"Smith, Joe\" <joe@box.example.com> (at box.example.com)\n"
                               b"To: Bob <bob@host.example.com>\n"
                               b"Reply-To: list@lists.example.com,\n"
                               b"\tjoe@host.example.com\n"
                               b"Subject: marker-masq-1 from joe@host.example.com\n"
                               b"\n"
                               b"From: body@host.example.com\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        m = self.at_mx("marker-masq-1")
        self.assertTrue(m["mail"].startswith("MAIL FROM:<joe@example.com>"), m["mail"])
        head, body = m["data"].split(b"\r\n\r\n", 1)
        self.assertIn(b"\r\nFrom: \"Smith, Joe\" <joe@example.com> (at box.example.com)\r\n", head)
        self.assertIn(b"\r\nTo: Bob <bob@host.example.com>\r\n", head)  # header_recipient is not on
        self.assertIn(b"\r\nReply-To: list@example.com,\r\n\tjoe@example.com\r\n", head)
        self.assertTrue(head.endswith(b"\r\nSubject: marker-masq-1 from joe@host.example.com"), head)
        self.assertEqual(body, b"From: body@host.example.com")
        # Host hiding: our Received names no uid (nor HELO) of the submitter.
        received = head.split(b"\r\n")[0]
        self.assertTrue(received.startswith(b"Received: by mx.test (postrider)"), head[:200])
        self.assertNotIn(b"userid", head)
        self.assertRegex(self.d.log(), r"pickup maildrop=\S+ uid=\d+ from=<joe@example\.com>")

    def test_exceptions_and_excluded_subdomains_stay(self):
        r = self.sendmail("-f", "root@host.example.com", "far@remote.example",
                          data=b"From: root@host.example.com\nSender: ops@a.dev.example.com\n"
                               b"Subject: marker-masq-2\n\nx\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        m = self.at_mx("marker-masq-2")
        self.assertTrue(m["mail"].startswith("MAIL FROM:<root@host.example.com>"), m["mail"])
        self.assertIn(b"\r\nFrom: root@host.example.com\r\n", m["data"])
        self.assertIn(b"\r\nSender: ops@a.dev.example.com\r\n", m["data"])

    def test_myorigin_qualifies_bare_names_then_masquerading_applies(self):
        r = self.sendmail("-f", "joe", "far@remote.example", data=b"Subject: marker-masq-3\n\nx\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        m = self.at_mx("marker-masq-3")
        self.assertTrue(m["mail"].startswith("MAIL FROM:<joe@example.com>"), m["mail"])
        # The From: sendmail adds is login@myorigin, masqueraded too unless the login is an exception.
        from_line = [l for l in m["data"].split(b"\r\n") if l.startswith(b"From: ")][0]
        login = pwd.getpwuid(os.getuid()).pw_name
        want = f"{login}@host.example.com" if login == "root" else f"{login}@example.com"  # root: an exception
        self.assertRegex(from_line, rb"[ <]" + re.escape(want.encode()) + rb">?$")
        self.assertIn(b"Message-ID: <", m["data"])

    def test_unparsable_from_is_left_as_is(self):
        r = self.sendmail("-f", "joe@host.example.com", "far@remote.example",
                          data=b"From: joe@host.example.com, \"unterminated\nSubject: marker-masq-4\n\nx\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        m = self.at_mx("marker-masq-4")
        self.assertTrue(m["mail"].startswith("MAIL FROM:<joe@example.com>"), m["mail"])
        self.assertIn(b"\r\nFrom: joe@host.example.com, \"unterminated\r\n", m["data"])

    def test_smtp_mail_is_not_masqueraded_and_keeps_its_client_in_received(self):
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10) as s:
            s.ehlo("client.example")
            s.sendmail("joe@host.example.com", ["far@remote.example"],
                       b"From: joe@host.example.com\r\nSubject: marker-masq-5\r\n\r\nx\r\n")
        m = self.at_mx("marker-masq-5")
        self.assertTrue(m["mail"].startswith("MAIL FROM:<joe@host.example.com>"), m["mail"])
        self.assertIn(b"\r\nFrom: joe@host.example.com\r\n", m["data"])
        # Not authenticated: host hiding does not apply.
        self.assertTrue(m["data"].startswith(b"Received: from client.example ([127.0.0.1])"), m["data"][:120])


class HostHidingAuthenticated(RelayedDaemonCase):
    """hide_client_hosts for SMTP: only authenticated mail loses the client's HELO and address."""
    mx_keywords = ["PIPELINING", "8BITMIME"]

    @classmethod
    def setUpClass(cls):
        cls.users_dir = tempfile.mkdtemp(prefix="postrider-hide-")
        users = os.path.join(cls.users_dir, "users")
        with open(users, "w") as f:
            f.write("alice:" + crypt_hash("s3cret", "$6$") + "\n")
        cls.daemon_settings = {"auth_users_file": users, "auth_allow_plaintext": "yes",
                               "hide_client_hosts": "yes", "mynetworks": "127.0.0.1/32"}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.users_dir, ignore_errors=True)

    def send(self, marker, login):
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10) as s:
            s.ehlo("laptop.internal.example")
            if login:
                s.login("alice", "s3cret")
            s.sendmail("alice@host.example.com", ["far@remote.example"],
                       b"From: alice@host.example.com\r\nSubject: " + marker.encode() + b"\r\n\r\nx\r\n")
        [m] = wait_until(lambda: self.mx.messages_containing(marker), what=f"{marker} at the MX")
        return m["data"]

    def test_authenticated_mail_names_no_client(self):
        data = self.send("marker-hide-auth", login=True)
        self.assertTrue(data.startswith(b"Received: by mx.test (postrider) with ESMTPA id "), data[:120])
        self.assertNotIn(b"laptop.internal.example", data)
        self.assertNotIn(b"[127.0.0.1]", data)
        self.assertRegex(self.d.log(), r"client=\[127\.0\.0\.1\]")  # the log still has it

    def test_unauthenticated_mail_keeps_its_client(self):
        data = self.send("marker-hide-plain", login=False)
        self.assertTrue(data.startswith(b"Received: from laptop.internal.example ([127.0.0.1])"), data[:120])


if __name__ == "__main__":
    harness.main()
