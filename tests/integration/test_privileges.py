#!/usr/bin/python3
"""Least privilege: started as root with `user`, the daemon binds, then runs as
that user (uid, gid, no supplementary groups); mail still flows; state dirs are 0700.

Needs root (it creates and removes a throwaway system user); skipped otherwise.
"""
import os
import pwd
import smtplib
import stat
import subprocess
import unittest

import harness
from harness import Daemon, wait_until


def proc_ids(pid):
    """Uid, Gid and Groups lines of /proc/PID/status."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid", "Groups"):
                out[key] = value.split()
    return out


@unittest.skipUnless(os.geteuid() == 0, "needs root to create a user and drop privileges")
class Privileges(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.user = f"prt{os.getpid() % 100000}"
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group",
                        cls.user], check=True, capture_output=True)
        cls.pw = pwd.getpwnam(cls.user)

        cls.drop_group = f"prd{os.getpid() % 100000}"
        subprocess.run(["groupadd", "--system", cls.drop_group], check=True, capture_output=True)

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["userdel", cls.user], capture_output=True)
        subprocess.run(["groupdel", cls.drop_group], capture_output=True)

    def test_restart_as_root_keeps_the_postdrop_group_on_the_maildrop(self):
        # The root start must not take the maildrop away from postdrop_group: the service
        # user is not in that group, so it could not give it back after the drop.
        import grp
        gid = grp.getgrnam(self.drop_group).gr_gid
        d = Daemon(user=self.user, postdrop_group=self.drop_group)
        os.chmod(d.dir, 0o755)
        self.addCleanup(d.__exit__, None, None, None)
        md = os.path.join(d.settings["queue_dir"], "maildrop")
        for start in (1, 2):  # the second start finds the tree the first one left
            d.start()
            wait_until(lambda: "pickup: " in d.log() or d.proc.poll() is not None, what=f"pickup, start {start}")
            self.assertIsNone(d.proc.poll(), d.log())
            for path, mode in ((d.settings["queue_dir"], 0o710), (md, 0o1730), (os.path.join(md, "new"), 0o1730)):
                st = os.stat(path)
                self.assertEqual(st.st_gid, gid, f"{path}, start {start}")
                self.assertEqual(stat.S_IMODE(st.st_mode), mode, f"{path}, start {start}")
            self.assertEqual(d.stop(), 0, d.log())

    def test_runs_as_the_service_user_and_delivers(self):
        d = Daemon(user=self.user)
        os.chmod(d.dir, 0o755)  # the user must reach queue_dir and mail_root inside it
        # Root hands over the top directory only and never walks the tree below it.
        os.makedirs(d.settings["mail_root"])
        planted = os.path.join(d.settings["mail_root"], "planted")
        open(planted, "w").close()
        with d:
            wait_until(lambda: "privileges dropped" in d.log(), what="the drop")
            ids = proc_ids(d.proc.pid)
            uid, gid = str(self.pw.pw_uid), str(self.pw.pw_gid)
            self.assertEqual(ids["Uid"], [uid] * 4)  # real, effective, saved, filesystem
            self.assertEqual(ids["Gid"], [gid] * 4)
            self.assertEqual(ids["Groups"], [gid])
            with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as s:
                s.sendmail("a@example.org", ["alice@localhost"], b"Subject: unprivileged\r\n\r\nhello\r\n")
            [got] = d.read_delivered_wait("alice", 1)
            self.assertIn(b"Subject: unprivileged", got)
            new = os.path.join(d.maildir("alice"), "new")
            delivered = os.path.join(new, os.listdir(new)[0])
            self.assertEqual(os.stat(delivered).st_uid, self.pw.pw_uid)  # not delivered as root
            for key in ("queue_dir", "mail_root"):
                st = os.stat(d.settings[key])
                self.assertEqual(stat.S_IMODE(st.st_mode), 0o700, key)
                self.assertEqual(st.st_uid, self.pw.pw_uid, key)
            self.assertNotIn("running as root", d.log())
            self.assertEqual(os.stat(planted).st_uid, 0)

    def test_root_as_user_is_refused_and_root_without_user_warns(self):
        r = subprocess.run([harness.BIN, "check-config", "--user", "root"], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("user: must not be root", r.stdout + r.stderr)
        with Daemon() as d:
            self.assertIn("running as root without 'user'", d.log())


if __name__ == "__main__":
    harness.main()
