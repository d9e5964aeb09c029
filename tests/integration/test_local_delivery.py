#!/usr/bin/python3
"""Local delivery end to end: mailbox table, maildirs, and Dovecot reading them."""
import os
import shutil
import smtplib
import subprocess
import tempfile
import unittest

import harness
from harness import Client, Daemon, start_peer, stop_process, wait_until

TABLE = """# test table
alice@example.org     example.org/alice/Maildir
bob@example.org       example.org/bob/Maildir
@example.net          example.net/catchall/Maildir
"""


class LocalDelivery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="postrider-table-")
        cls.table = os.path.join(cls.tmp, "mailboxes")
        with open(cls.table, "w") as f:
            f.write(TABLE)
        cls.d = Daemon(local_domains="example.org, example.net", mailbox_table=cls.table)
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert rc == 0, f"daemon exit code {rc}\n{cls.d.log()}"

    def path(self, rel):
        return os.path.join(self.d.settings["mail_root"], rel)

    def new_files(self, rel):
        new = os.path.join(self.path(rel), "new")
        return [os.path.join(new, n) for n in sorted(os.listdir(new))] if os.path.isdir(new) else []

    def test_unknown_user_is_refused_at_rcpt(self):
        c = Client(self.d.port)
        self.addCleanup(c.close)
        c.reply()
        c.cmd("EHLO t.example")
        c.cmd("MAIL FROM:<s@example.com>")
        code, lines = c.cmd("RCPT TO:<nobody@example.org>")
        self.assertEqual(code, "550", lines)
        self.assertIn("5.1.1", lines[0])
        self.assertEqual(c.cmd("RCPT TO:<ALICE@Example.ORG>")[0], "250")  # case-insensitive

    def test_one_message_to_two_mailboxes_and_a_catch_all(self):
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10) as s:
            s.sendmail("sender@example.com", ["alice@example.org", "bob@example.org", "anyone@example.net"],
                       b"Subject: fan\r\nMessage-ID: <fan@test>\r\n\r\nto three\r\n")
        for rel, rcpt in (("example.org/alice/Maildir", b"alice@example.org"),
                          ("example.org/bob/Maildir", b"bob@example.org"),
                          ("example.net/catchall/Maildir", b"anyone@example.net")):
            files = wait_until(lambda: [f for f in self.new_files(rel)
                                        if b"<fan@test>" in open(f, "rb").read()], what=rel)
            data = open(files[0], "rb").read()
            self.assertTrue(data.startswith(b"Return-Path: <sender@example.com>\n"), data[:200])
            self.assertIn(b"Delivered-To: " + rcpt + b"\n", data)
            self.assertIn(b"\n\nto three\n", data)  # maildir lines end in LF
            self.assertEqual(os.stat(files[0]).st_mode & 0o777, 0o600)
        wait_until(lambda: not self.d.queue_files(), what="the queue to empty")

    # Bodies that stress the paper path: 8-bit UTF-8, dot-stuffing, a 5,000-octet line.
    BODIES = {
        "dv-utf8@test": "Grüße aus Köln: ½ € — 日本語のテキスト\r\nzweite Zeile ✓\r\n".encode("utf-8"),
        "dv-dots@test": b".\r\n..\r\n.starts with a dot\r\n..starts with two dots\r\n...three\r\nend\r\n",
        "dv-long@test": b"L" * 5000 + b"\r\nshort after long\r\n",
    }

    def start_dovecot(self, rel):
        """A throwaway Dovecot on a copy of the maildir at rel; returns its config path."""
        # Dovecot refuses to access mail as root: hand a copy of the delivered maildir to nobody.
        dv = tempfile.mkdtemp(prefix="postrider-dovecot-")
        self.addCleanup(shutil.rmtree, dv, True)
        shutil.copytree(self.path(rel), os.path.join(dv, "mail", "bob", "Maildir"))
        os.makedirs(os.path.join(dv, "run"))
        os.chmod(dv, 0o755)  # mkdtemp makes it 0700; nobody must reach the maildir below
        subprocess.run(["chown", "-R", "nobody:nogroup", os.path.join(dv, "mail")], check=True)
        conf = os.path.join(dv, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(f"""base_dir = {dv}/run
state_dir = {dv}/run
log_path = {dv}/dovecot.log
protocols =
ssl = no
first_valid_uid = 0
first_valid_gid = 0
mail_uid = nobody
mail_gid = nogroup
mail_location = maildir:{dv}/mail/%n/Maildir
userdb {{
  driver = static
  args = home={dv}/home/%n
}}
passdb {{
  driver = static
  args = nopassword=y
}}
""")
        dovecot = start_peer(["dovecot", "-F", "-c", conf])
        self.addCleanup(stop_process, dovecot)
        wait_until(lambda: os.path.exists(os.path.join(dv, "run", "auth-userdb")), what="dovecot auth socket")
        return conf

    def doveadm_body(self, conf, message_id):
        """The body of one message as Dovecot returns it (doveadm fetch body, raw bytes)."""
        out = subprocess.run(["doveadm", "-c", conf, "fetch", "-u", "bob", "body", "mailbox", "INBOX",
                              "header", "Message-ID", message_id], capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue(out.stdout.startswith(b"body:\n"), out.stdout[:200])
        return out.stdout[len(b"body:\n"):]

    def test_dovecot_reads_the_maildir(self):
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10) as s:
            s.sendmail("sender@example.com", ["bob@example.org"],
                       b"Subject: for dovecot\r\nMessage-ID: <dv@test>\r\n\r\nimap body\r\n")
            for mid, body in self.BODIES.items():
                head = f"Subject: {mid}\r\nMessage-ID: <{mid}>\r\nMIME-Version: 1.0\r\n" \
                       "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                # smtplib dot-stuffs the lines starting with "." itself (RFC 5321 4.5.2).
                s.sendmail("sender@example.com", ["bob@example.org"], head.encode() + body,
                           mail_options=["BODY=8BITMIME"])
        rel = "example.org/bob/Maildir"
        wanted = [b"<dv@test>"] + [f"<{m}>".encode() for m in self.BODIES]
        wait_until(lambda: all(any(w in open(f, "rb").read() for f in self.new_files(rel)) for w in wanted),
                   what="delivery")
        conf = self.start_dovecot(rel)
        out = subprocess.run(["doveadm", "-c", conf, "fetch", "-u", "bob", "hdr.subject body", "mailbox", "INBOX",
                              "header", "Message-ID", "dv@test"], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("hdr.subject: for dovecot", out.stdout)
        self.assertIn("imap body", out.stdout)
        # Byte for byte: the maildir convention is LF line ends (docs/queue-format.md), so
        # what was sent with CRLF must come back with LF, every other octet unchanged.
        for mid, body in self.BODIES.items():
            with self.subTest(message=mid):
                got = self.doveadm_body(conf, mid)
                self.assertEqual(got, body.replace(b"\r\n", b"\n"))


if __name__ == "__main__":
    harness.main()
