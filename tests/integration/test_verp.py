#!/usr/bin/python3
"""VERP: sendmail -V / -XV and MAIL FROM ... XVERP give each recipient its own return path.

Remote: a scripted MX on 127.0.0.1 behind relayhost [127.0.0.1]:PORT records every
MAIL FROM; local: the Return-Path written into each maildir copy.
"""
import os
import shutil
import smtplib
import subprocess
import tempfile

import harness
from harness import BIN, RelayedDaemonCase, wait_until


class Verp(RelayedDaemonCase):
    mx_keywords = ["PIPELINING", "SIZE 10000000", "8BITMIME"]
    daemon_settings = {"mynetworks": "127.0.0.1/32"}  # XVERP: only clients that may relay

    def sendmail(self, *args, data):
        env = {"PATH": "/usr/bin:/bin", "POSTRIDER_CONFIG": self.d.config}
        return subprocess.run([BIN, "sendmail", *args], input=data, capture_output=True, env=env, timeout=30)

    def test_three_remote_recipients_get_three_mail_froms(self):
        r = self.sendmail("-V", "-f", "owner-list@example.org", "ann@a.example", "bob@b.example", "cy@a.example",
                          data=b"Subject: verp remote\n\nmarker-verp-remote\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = wait_until(lambda: len(self.mx.messages_containing("marker-verp-remote")) == 3
                         and self.mx.messages_containing("marker-verp-remote"), what="3 transactions at the MX")
        froms = sorted(m["mail"] for m in got)
        addrs = sorted(f.split("<", 1)[1].split(">", 1)[0] for f in froms)
        self.assertEqual(addrs, ["owner-list+ann=a.example@example.org", "owner-list+bob=b.example@example.org",
                                 "owner-list+cy=a.example@example.org"])
        for m in got:  # one recipient per transaction, matching its MAIL FROM
            [rcpt] = m["rcpts"]
            local, domain = rcpt.split("<", 1)[1].split(">", 1)[0].split("@")
            self.assertIn(f"+{local}={domain}@", m["mail"])

    def test_local_return_path_with_xv_delimiters(self):
        r = self.sendmail("-XV-=", "-f", "bounces@example.org", "v1@localhost", "v2@localhost",
                          data=b"Subject: verp local\n\nx\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        for user in ("v1", "v2"):
            [got] = self.d.read_delivered_wait(user, 1)
            self.assertTrue(got.startswith(f"Return-Path: <bounces-{user}=localhost@example.org>\n".encode()), got[:80])

    def test_without_verp_one_transaction_and_the_plain_sender(self):
        r = self.sendmail("-f", "plain@example.org", "p1@c.example", "p2@c.example",
                          data=b"Subject: no verp\n\nmarker-no-verp\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        [m] = wait_until(lambda: self.mx.messages_containing("marker-no-verp"), what="1 transaction")
        self.assertTrue(m["mail"].startswith("MAIL FROM:<plain@example.org>"), m["mail"])
        self.assertEqual(len(m["rcpts"]), 2)

    def test_xverp_over_smtp(self):
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10) as s:
            s.ehlo("client.example")
            s.sendmail("list@example.org", ["x1@localhost", "x2@localhost"], b"Subject: xverp\r\n\r\nbody\r\n",
                       mail_options=["XVERP"])
            code, text = s.mail("list@example.org", ["XVERP=+@"])
            self.assertEqual(code, 555, text)
            s.rset()
        for user in ("x1", "x2"):
            [got] = self.d.read_delivered_wait(user, 1)
            self.assertTrue(got.startswith(f"Return-Path: <list+{user}=localhost@example.org>\n".encode()), got[:80])

    def test_xverp_from_outside_mynetworks_is_refused(self):
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10, source_address=("127.0.0.2", 0)) as s:
            s.ehlo("client.example")
            code, text = s.mail("list@example.org", ["XVERP"])
            self.assertEqual(code, 550, text)
            self.assertIn(b"5.7.1", text)
            self.assertEqual(s.mail("list@example.org")[0], 250)  # without XVERP: as usual

    def test_bad_delimiters_are_a_usage_error(self):
        r = self.sendmail("-XV+x", "a@localhost", data=b"x\n")
        self.assertEqual(r.returncode, 64)
        self.assertIn(b"VERP delimiters", r.stderr)


class VerpBounces(RelayedDaemonCase):
    """Postfix's bounce_flush_verp: each failed recipient of a VERP message gets its own failure
    notice, sent to the return path naming it (owner-list+rcpt=domain@localhost); the mailbox
    table's extension fallback delivers it to owner-list."""
    mx_keywords = ["PIPELINING", "8BITMIME"]
    mx_options = {"reject_rcpt": lambda a: a.lower() == "gone@far.example"}

    @classmethod
    def setUpClass(cls):
        cls.table_dir = tempfile.mkdtemp(prefix="postrider-verp-")
        table = os.path.join(cls.table_dir, "mailboxes")
        with open(table, "w") as f:
            f.write("owner-list@localhost localhost/owner-list/Maildir\n"
                    "member@localhost localhost/member/Maildir\n")
        cls.daemon_settings = {"mailbox_table": table}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.table_dir, ignore_errors=True)

    def test_each_failed_member_gets_its_own_notice_at_its_verp_address(self):
        env = {"PATH": "/usr/bin:/bin", "POSTRIDER_CONFIG": self.d.config}
        r = subprocess.run([BIN, "sendmail", "-V", "-f", "owner-list@localhost", "member@localhost",
                            "nobody@localhost", "gone@far.example", "ok@far.example"],
                           input=b"Subject: verp bounces\n\nmarker-verp-bounce\n", capture_output=True, env=env,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        [got] = self.d.read_delivered_wait("member", 1)
        self.assertTrue(got.startswith(b"Return-Path: <owner-list+member=localhost@localhost>\n"), got[:80])
        dsns = self.d.read_delivered_wait("owner-list", 2)
        wait_until(lambda: not self.d.queue_files(), what="an empty queue")
        self.assertEqual(len(self.d.read_delivered("owner-list")), 2)  # exactly two: one per failure
        by_to = {}
        for d in dsns:
            self.assertTrue(d.startswith(b"Return-Path: <>\n"), d[:60])
            for line in d.split(b"\n"):
                if line.startswith(b"Delivered-To: "):
                    by_to[line[len(b"Delivered-To: "):].decode()] = d
        self.assertEqual(sorted(by_to), ["owner-list+gone=far.example@localhost", "owner-list+nobody=localhost@localhost"])
        local = by_to["owner-list+nobody=localhost@localhost"]
        remote = by_to["owner-list+gone=far.example@localhost"]
        self.assertIn(b"Final-Recipient: rfc822; nobody@localhost\nAction: failed\nStatus: 5.1.1", local)
        self.assertNotIn(b"Final-Recipient: rfc822; gone@far.example", local)
        self.assertIn(b"Final-Recipient: rfc822; gone@far.example\nAction: failed\nStatus: 5.1.1", remote)
        self.assertNotIn(b"Final-Recipient: rfc822; nobody@localhost", remote)
        for d in (local, remote):
            self.assertIn(b"verp bounces", d)  # the original headers are attached
            self.assertNotIn(b"Final-Recipient: rfc822; ok@far.example", d)
            self.assertNotIn(b"Final-Recipient: rfc822; member@localhost", d)
        # The remote refusal came from the MX, in the transaction with the member's own MAIL FROM.
        self.assertTrue(any(c.startswith("MAIL FROM:<owner-list+gone=far.example@localhost>") for _, c in self.mx.commands))
        [ok] = wait_until(lambda: self.mx.messages_containing("marker-verp-bounce"), what="the accepted copy")
        self.assertTrue(ok["mail"].startswith("MAIL FROM:<owner-list+ok=far.example@localhost>"), ok["mail"])


if __name__ == "__main__":
    harness.main()
