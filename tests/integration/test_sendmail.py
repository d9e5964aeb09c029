#!/usr/bin/python3
"""sendmail(1), the maildrop and pickup, mailq and the queue tools, with real user agents.

Every run of "sendmail" goes through a wrapper script in a private temp dir that
records its argv and then execs OUR binary, so a test can prove which sendmail a
user agent called; /usr/sbin/sendmail is never used.
"""
import json
import os
import shutil
import smtplib
import stat
import subprocess
import tempfile
import unittest

import harness
from harness import BIN, Daemon, wait_until


class Env:
    """A daemon's configuration plus a PATH directory holding our sendmail and mailq."""

    def __init__(self):
        self.d = Daemon()
        with open(self.d.config, "w") as f:
            for k, v in self.d.settings.items():
                f.write(f"{k} = {v}\n")
        self.bindir = os.path.join(self.d.dir, "bin")
        os.mkdir(self.bindir)
        self.calls = os.path.join(self.d.dir, "sendmail-calls.log")
        self.sendmail = os.path.join(self.bindir, "sendmail")
        # The wrapper execs a symlink NAMED sendmail: argv[0] dispatch, as when installed.
        link = os.path.join(self.d.dir, "link")
        os.mkdir(link)
        os.symlink(BIN, os.path.join(link, "sendmail"))
        with open(self.sendmail, "w") as f:
            f.write(f'#!/bin/sh\nprintf "%s\\n" "$0 $*" >> {self.calls}\nexec {link}/sendmail "$@"\n')
        os.chmod(self.sendmail, 0o755)
        os.symlink(BIN, os.path.join(self.bindir, "mailq"))
        self.home = os.path.join(self.d.dir, "home")
        os.mkdir(self.home)
        self.env = {"PATH": self.bindir + ":/usr/bin:/bin", "HOME": self.home,
                    "POSTRIDER_CONFIG": self.d.config, "LANG": "C.UTF-8"}

    def run(self, args, data=b"", **kw):
        return subprocess.run(args, input=data, capture_output=True, env=self.env, timeout=30, **kw)

    def sm(self, *args, data=b""):
        return self.run([self.sendmail, *args], data)

    def called(self):
        try:
            return open(self.calls).read()
        except OSError:
            return ""

    def maildrop(self, sub="new"):
        p = os.path.join(self.d.settings["queue_dir"], "maildrop", sub)
        return sorted(os.listdir(p)) if os.path.isdir(p) else []

    def queue(self, *args):
        return subprocess.run([BIN, "queue", "-c", self.d.config, *args], capture_output=True, text=True, timeout=30)

    def close(self):
        self.d.stop()
        shutil.rmtree(self.d.dir, ignore_errors=True)


class WhileDown(unittest.TestCase):
    def test_inject_while_down_then_start_delivers(self):
        e = Env()
        self.addCleanup(e.close)
        r = e.sm("alice@localhost", data=b"Subject: queued while down\n\nhello\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(e.maildrop()), 1)  # durable in the maildrop, no daemon needed
        e.d.start()
        [got] = e.d.read_delivered_wait("alice", 1)
        self.assertIn(b"Subject: queued while down", got)
        self.assertIn(b"\nhello\n", got)
        for h in (b"\nDate: ", b"\nMessage-ID: <", b"\nFrom: ", b"Received: by mx.test (postrider, from userid"):
            self.assertIn(h, got)
        wait_until(lambda: e.maildrop() == [], what="maildrop emptied")

    def test_bad_inputs_are_refused_and_leave_nothing(self):
        e = Env()
        self.addCleanup(e.close)
        cases = [
            ("empty", ["a@localhost"], b"", 66, "empty message"),
            ("nul", ["a@localhost"], b"Subject: x\n\na\x00b\n", 65, "NUL"),
            ("long line", ["a@localhost"], b"Subject: x\n\n" + b"x" * 999 + b"\n", 65, "998"),
            ("bare cr", ["a@localhost"], b"Subject: x\n\na\rb\n", 65, "carriage return"),
            ("bad -f", ["-f", "not an address", "a@localhost"], b"x\n", 64, "invalid sender"),
            ("bad rcpt", ["a b@@localhost"], b"x\n", 64, "invalid recipient"),
            ("no rcpt", [], b"x\n", 64, "no recipients"),
            ("-t no rcpt", ["-t"], b"Subject: x\n\nbody\n", 64, "no recipient addresses"),
            ("unknown flag", ["-Z", "a@localhost"], b"x\n", 64, "unknown option -Z"),
        ]
        for name, args, data, code, text in cases:
            with self.subTest(name):
                r = e.sm(*args, data=data)
                self.assertEqual(r.returncode, code, r.stderr)
                self.assertIn(text, r.stderr.decode())
        self.assertEqual(e.maildrop(), [])
        self.assertEqual(e.maildrop("tmp"), [])

    def test_offline_queue_tools(self):
        e = Env()
        self.addCleanup(e.close)
        self.assertEqual(e.run(["mailq"]).stdout, b"Mail queue is empty\n")
        r = e.queue("flush")
        self.assertEqual(r.returncode, 69, r.stderr)  # EX_UNAVAILABLE: no daemon to flush
        self.assertIn("not running", r.stderr)
        self.assertEqual(e.sm("-bi").returncode, 0)


class WhileUp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.e = Env()
        cls.e.d.start()
        cls.d = cls.e.d

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        assert rc == 0, f"daemon exit code {rc}\n{cls.d.log()}"
        if os.environ.get("SHOWLOG"):
            shutil.copy(cls.d.log_path, os.environ["SHOWLOG"])
        shutil.rmtree(cls.d.dir, ignore_errors=True)

    def test_inject_while_up_is_delivered_at_once(self):
        r = self.e.sm("-f", "owner@example.org", "up1", data=b"Subject: up\n\nnow\n.\nafter the dot\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.d.wait_delivered("up1", 1, timeout=5)  # inotify wakes pickup at once: no poll interval
        [got] = self.d.read_delivered("up1")
        self.assertIn(b"Return-Path: <owner@example.org>", got)
        self.assertNotIn(b"after the dot", got)  # a lone '.' ends input without -i

    def test_dash_i_keeps_dot_lines_and_8bit(self):
        body = "Subject: dots\n\n.\n..\nj\u00f6rg\n".encode()
        self.assertEqual(self.e.sm("-oi", "dots", data=body).returncode, 0)
        [got] = self.d.read_delivered_wait("dots", 1)
        self.assertIn(b"\n.\n..\nj\xc3\xb6rg\n", got)

    def test_dash_t_with_bcc_removed(self):
        msg = (b"To: tto@localhost, T Name <tto2@localhost>\nCc: tcc\nBcc: tbcc@localhost\n"
               b"Subject: -t test\n\nbody\n")
        r = self.e.sm("-t", "-F", "Test User", data=msg)
        self.assertEqual(r.returncode, 0, r.stderr)
        for user in ("tto", "tto2", "tcc", "tbcc"):
            [got] = self.d.read_delivered_wait(user, 1)
            self.assertNotIn(b"Bcc:", got, user)
            self.assertIn(b"From: Test User <root@localhost>", got)
            self.assertIn(b"Subject: -t test", got)

    def test_missing_separator_is_fixed_up(self):
        self.assertEqual(self.e.sm("nosep", data=b"Subject: s\nthis line is body\n").returncode, 0)
        [got] = self.d.read_delivered_wait("nosep", 1)
        self.assertIn(b"Subject: s\n\nthis line is body\n", got)

    def test_mailutils_mail_uses_our_sendmail(self):
        r = self.e.run(["mail", "-n", "-E", f"set sendmail=sendmail:{self.e.sendmail}", "-s", "from mailutils",
                        "mu@localhost"], b"Hello from mail(1).\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        [got] = self.d.read_delivered_wait("mu", 1)
        self.assertIn(b"Subject: from mailutils", got)
        self.assertIn(b"Hello from mail(1).", got)
        self.assertIn(b"\nDate: ", got)
        self.assertEqual(got.count(b"\nMessage-ID: "), 1)
        self.assertIn(self.e.sendmail, self.e.called())  # proof it ran our path

    def test_mutt_uses_our_sendmail(self):
        if not shutil.which("mutt"):
            self.skipTest("mutt not installed")
        r = self.e.run(["mutt", "-n", "-F", "/dev/null", "-e", f"set sendmail={self.e.sendmail}",
                        "-e", "set from=mutt-user@localhost", "-s", "from mutt", "mt@localhost"],
                       b"Hello from mutt.\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        [got] = self.d.read_delivered_wait("mt", 1)
        self.assertIn(b"Subject: from mutt", got)
        self.assertIn(b"Hello from mutt.", got)
        self.assertIn(b"<mutt-user@localhost>", got)  # mutt's own From: and Message-ID: are kept
        self.assertEqual(got.count(b"\nFrom: "), 1)
        self.assertEqual(got.count(b"\nMessage-ID: "), 1)
        self.assertIn(b"mt@localhost", self.e.called().encode())

    def test_cron_like_run_without_a_tty(self):
        # cron: new session (no controlling tty), stdin a pipe, minimal environment.
        p = subprocess.run(["setsid", "-w", "sh", "-c", f"echo 'output of a job' | {self.e.sendmail} -oi cron"],
                           capture_output=True, env=self.e.env, timeout=30, stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, p.stderr)
        [got] = self.d.read_delivered_wait("cron", 1)
        self.assertIn(b"output of a job", got)
        self.assertIn(b"\nFrom: ", got)

    def test_bs_with_swaks_pipe(self):
        r = self.e.run(["swaks", "--pipe", f"{self.e.sendmail} -bs", "--from", "swaks@example.org",
                        "--to", "bs1@localhost,bs2@localhost", "--header", "Subject: via -bs",
                        "--body", "body via -bs"])
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, out + r.stderr.decode())
        self.assertIn("250 2.0.0", out)
        for user in ("bs1", "bs2"):
            [got] = self.d.read_delivered_wait(user, 1)
            self.assertIn(b"Subject: via -bs", got)
            self.assertIn(b"Return-Path: <swaks@example.org>", got)
            self.assertIn(b"with ESMTP", got)

    def test_planted_maildrop_file_is_quarantined(self):
        md = os.path.join(self.d.settings["queue_dir"], "maildrop")
        name = "1K000000000ZZZZZ"
        with open(os.path.join(md, "tmp", name), "wb") as f:
            f.write(b"PRD1garbage")
        os.rename(os.path.join(md, "tmp", name), os.path.join(md, "new", name))
        wait_until(lambda: os.path.exists(os.path.join(md, "quarantine", name)), timeout=5, what="quarantine")
        # The rename into quarantine/ comes before the log line: wait for it, do not race it.
        wait_until(lambda: f"maildrop file {name} quarantined" in self.d.log(), timeout=5, what="quarantine log")
        self.assertFalse(os.path.exists(os.path.join(md, "new", name)))

    def test_mailq_show_flush_delete_through_the_daemon(self):
        # A maildir path that is a file: delivery fails temporarily and the message stays queued.
        os.makedirs(os.path.join(self.d.settings["mail_root"], "localhost", "stuck"), exist_ok=True)
        open(os.path.join(self.d.maildir("stuck")), "w").close()
        self.assertEqual(self.e.sm("-f", "q@example.org", "stuck", data=b"Subject: stuck\n\nx\n").returncode, 0)

        def listed():
            lines = [json.loads(l) for l in self.e.queue("list", "--json").stdout.splitlines()]
            mine = [m for m in lines if m["sender"] == "q@example.org"]
            return mine if mine and mine[0]["recipients"][0]["state"] == "deferred" else None
        [m] = wait_until(listed, what="deferred message in queue list")
        qid = m["queue_id"]
        self.assertEqual(m["recipients"][0]["address"], "stuck@localhost")
        self.assertEqual(m["recipients"][0]["status"], "4.2.0")

        mq = self.e.run(["mailq"]).stdout.decode()
        self.assertIn("-Queue ID-", mq)
        self.assertRegex(mq, qid + r" +\d+ \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d +q@example.org")
        self.assertIn("stuck@localhost  [deferred]", mq)
        self.assertRegex(mq, r"-- \d+ Kbytes in \d+ Requests?\.")
        self.assertEqual(self.e.sm("-bp").stdout.decode(), mq)
        show = self.e.queue("show", qid)
        self.assertIn("sender: <q@example.org>", show.stdout)
        self.assertIn("Subject: stuck", show.stdout)
        self.assertIn("recipients", self.e.queue("stats").stdout)

        f = self.e.queue("flush")
        self.assertEqual(f.returncode, 0, f.stderr)
        self.assertIn("recipients scheduled now", f.stdout)
        wait_until(lambda: "flush requested" in self.d.log(), what="flush logged")

        def deleted():
            r = self.e.queue("delete", qid)
            return r.returncode == 0 and r  # may be busy while the flushed retry is in flight
        r = wait_until(deleted, what="delete through the daemon")
        self.assertNotIn("daemon not running", r.stdout)
        self.assertIn(f"{qid}: removed by admin request", self.d.log())
        self.assertFalse(any(qid in p for p in self.d.queue_files()))
        self.assertNotEqual(self.e.queue("delete", qid).returncode, 0)  # gone: "not in the queue"


class Requeue(unittest.TestCase):
    """queue requeue (Postfix postsuper -r): deferred recipients due now, fresh retry schedule.

    The default first retry is 5 minutes away, so a delivery within seconds after the
    fix proves the requeue made the recipient due (flush is not used anywhere here).
    """

    def stuck(self, e, user, sender):
        os.makedirs(os.path.join(e.d.settings["mail_root"], "localhost", user), exist_ok=True)
        open(e.d.maildir(user), "w").close()  # a file where the Maildir belongs: 4.2.0, deferred
        self.assertEqual(e.sm("-f", sender, user, data=b"Subject: requeue\n\nx\n").returncode, 0)

        def deferred():
            for line in e.queue("list", "--json").stdout.splitlines():
                m = json.loads(line)
                if m["sender"] == sender and m["recipients"][0]["attempts"] >= 1:
                    return m
            return None
        return wait_until(deferred, what="deferred message")

    def test_requeue_through_the_daemon(self):
        e = Env()
        self.addCleanup(e.close)
        e.d.start()
        m = self.stuck(e, "rq1", "rq1@example.org")
        qid = m["queue_id"]
        self.assertGreater(m["recipients"][0]["next_attempt"], m["arrival_time"] + 200)
        os.unlink(e.d.maildir("rq1"))  # the admin fixes the mailbox ...
        r = e.queue("requeue", qid)  # ... and requeues
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1 recipients requeued", r.stdout)
        self.assertNotIn("daemon not running", r.stdout)
        [got] = e.d.read_delivered_wait("rq1", 1)
        self.assertIn(b"Subject: requeue", got)
        self.assertIn(f"{qid}: to=<rq1@localhost>, requeued by admin request", e.d.log())
        # The maildir copy appears before the journal record and the removal: wait for those.
        wait_until(lambda: qid not in e.queue("list", "--json").stdout, what="the delivered message to leave the queue")
        r = e.queue("requeue", qid)
        self.assertNotEqual(r.returncode, 0)  # delivered and removed: "not in the queue"
        self.assertIn("not in the queue", r.stderr)
        self.assertEqual(e.queue("requeue").returncode, 64)
        self.assertEqual(e.queue("requeue", "../etc").returncode, 64)

    def test_requeue_all_while_down_resets_the_schedule(self):
        e = Env()
        self.addCleanup(e.close)
        e.d.start()
        m = self.stuck(e, "rq2", "rq2@example.org")
        self.assertEqual(e.d.stop(), 0)
        os.unlink(e.d.maildir("rq2"))
        r = e.queue("requeue", "--all")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"{m['queue_id']}: 1 recipients requeued (daemon not running", r.stdout)
        [after] = [json.loads(l) for l in e.queue("list", "--json").stdout.splitlines()]
        rc = after["recipients"][0]
        self.assertEqual((rc["attempts"], rc["state"]), (0, "deferred"))
        self.assertIn("requeued by admin request", rc["reason"])
        self.assertIn("requeued by admin request", e.queue("show", m["queue_id"]).stdout)
        e.d.start()  # without the requeue the retry would be 5 minutes away
        [got] = e.d.read_delivered_wait("rq2", 1)
        self.assertIn(b"Subject: requeue", got)


class OfflineDelete(unittest.TestCase):
    def test_delete_by_sender_while_down_removes_files(self):
        e = Env()
        self.addCleanup(e.close)
        e.d.start()
        os.makedirs(os.path.join(e.d.settings["mail_root"], "localhost", "stuck"), exist_ok=True)
        open(e.d.maildir("stuck"), "w").close()
        self.assertEqual(e.sm("-f", "gone@example.org", "stuck", data=b"x\n").returncode, 0)
        wait_until(lambda: len(e.d.queue_files()) == 2 and "4.2.0" in e.queue("list").stdout, what="queued")
        self.assertEqual(e.d.stop(), 0)
        r = e.queue("delete", "--sender", "gone@example.org")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("removed on disk", r.stdout)
        self.assertEqual(e.d.queue_files(), [])


class JournalHeld(unittest.TestCase):
    """A message the daemon took in but has not finished lives in a journal segment, not in
    env/: the queue tools list and show it, while the daemon runs and after a kill -9."""

    def test_listed_while_in_flight_and_after_a_crash(self):
        hole = harness.listening_socket(self)  # accepts, never greets: the delivery waits
        d = Daemon(relay_domains="far.test", relayhost=f"[127.0.0.1]:{hole.getsockname()[1]}")
        d.start()
        self.addCleanup(d.stop)
        with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as c:
            c.sendmail("held@example.org", ["someone@far.test"],
                       b"Subject: held in the journal\r\nX-Evil: \x1b[2J\x1b]0;pwned\x07\r\n\r\nx\r\n")
        hole.settimeout(15)
        conn, _ = hole.accept()  # connected: the message is in flight, not deferred
        self.addCleanup(conn.close)
        self.assertEqual(os.listdir(os.path.join(d.settings["queue_dir"], "env")), [])
        self.assertTrue(os.listdir(os.path.join(d.settings["queue_dir"], "journal")))

        def held():
            r = subprocess.run([BIN, "queue", "-c", d.config, "list", "--json"], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            return [json.loads(l) for l in r.stdout.splitlines() if "held@example.org" in l]

        [m] = held()
        self.assertEqual(m["recipients"][0]["address"], "someone@far.test")
        self.assertEqual(m["recipients"][0]["state"], "pending")
        d.proc.kill()  # SIGKILL: the journal is all there is until the next start
        d.proc.wait(timeout=10)
        [again] = held()
        self.assertEqual(again["queue_id"], m["queue_id"])
        show = subprocess.run([BIN, "queue", "-c", d.config, "show", m["queue_id"]], capture_output=True, text=True,
                              timeout=30)
        self.assertEqual(show.returncode, 0, show.stderr)
        self.assertIn("sender: <held@example.org>", show.stdout)
        self.assertIn("Subject: held in the journal", show.stdout)
        self.assertIn("X-Evil: ", show.stdout)
        self.assertNotIn("\x1b", show.stdout)  # the header is escaped for the admin's terminal
        self.assertNotIn("\x07", show.stdout)
        mailq = subprocess.run([BIN, "queue", "-c", d.config, "list"], capture_output=True, text=True, timeout=30)
        self.assertIn(m["queue_id"], mailq.stdout)
        self.assertRegex(mailq.stdout, r"-- \d+ Kbytes in 1 Request\.")
        # Only the daemon writes the journal: offline changes say so instead of "not in the queue".
        for verb in ("delete", "requeue"):
            r = subprocess.run([BIN, "queue", "-c", d.config, verb, m["queue_id"]], capture_output=True, text=True,
                               timeout=30)
            self.assertNotEqual(r.returncode, 0, verb)
            self.assertIn("held in the journal of the stopped daemon", r.stderr, verb)
        self.assertEqual(len(held()), 1)


if __name__ == "__main__":
    harness.main()
