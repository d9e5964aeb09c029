#!/usr/bin/python3
"""Real SMTP clients against the real daemon: Python smtplib, swaks, Postfix's smtp-source."""
import os
import shutil
import smtplib
import subprocess
import tempfile
import unittest
from email.message import EmailMessage

import harness
from harness import Daemon


class RealClients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon()
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        assert rc == 0, f"daemon exit code {rc}\n{cls.d.log()}"

    def test_smtplib_send_message(self):
        msg = EmailMessage()
        msg["From"] = "Sender <sender@example.org>"
        msg["To"] = "alice@localhost"
        msg["Subject"] = "smtplib test"
        msg.set_content("Hello from smtplib.\n.leading dot line\n")
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10) as s:
            code, _ = s.ehlo("client.example")
            self.assertEqual(code, 250)
            self.assertTrue(s.has_extn("pipelining"))
            refused = s.send_message(msg)
            self.assertEqual(refused, {})
        [got] = self.d.read_delivered_wait("alice", 1)
        self.assertIn(b"Subject: smtplib test", got)
        self.assertIn(b"\n.leading dot line\n", got)  # dot-unstuffed exactly once; maildir lines end in LF

    def test_smtplib_utf8_and_8bit(self):
        body = "Grüße, ünïcödé body\n".encode()
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10) as s:
            s.ehlo("client.example")
            self.assertTrue(s.has_extn("smtputf8"))
            s.sendmail("jörg@example.org", ["bob@localhost"], b"Subject: 8bit\r\n\r\n" + body.replace(b"\n", b"\r\n"),
                       mail_options=["SMTPUTF8", "BODY=8BITMIME"])
        [got] = self.d.read_delivered_wait("bob", 1)
        self.assertIn(body, got)

    def test_smtplib_refused_recipient(self):
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10) as s:
            s.ehlo("client.example")
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as ctx:
                s.sendmail("a@example.org", ["victim@example.com"], b"Subject: x\r\n\r\nx\r\n")
            code, _ = ctx.exception.recipients["victim@example.com"]
            self.assertEqual(code, 554)

    def test_swaks_pipelining(self):
        out = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(self.d.port),
                              "--from", "swaks@example.org", "--to", "carol@localhost",
                              "--helo", "swaks.example", "--pipeline", "--header", "Subject: swaks"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("queued as", out.stdout)
        [got] = self.d.read_delivered_wait("carol", 1)
        self.assertIn(b"Subject: swaks", got)

    def test_swaks_reports_rejection(self):
        out = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(self.d.port),
                              "--from", "swaks@example.org", "--to", "someone@example.net",
                              "--helo", "swaks.example"], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("554 5.7.1", out.stdout)

    def test_smtp_source_burst(self):
        # 200 messages over 5 concurrent sessions, 2 messages per session.
        env = dict(os.environ, MAIL_CONFIG=tempfile.mkdtemp(prefix="pf-cfg-"))
        out = subprocess.run(["smtp-source", "-c", "-s", "5", "-m", "200", "-l", "2048", "-r", "2",
                              "-f", "source@example.org", "-t", "dave@localhost",
                              f"127.0.0.1:{self.d.port}"], capture_output=True, text=True, env=env, timeout=120)
        shutil.rmtree(env["MAIL_CONFIG"], ignore_errors=True)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.d.wait_delivered("dave", 200, timeout=60)
        self.assertEqual(len(self.d.delivered("dave")), 200)


if __name__ == "__main__":
    harness.main()
