#!/usr/bin/python3
"""Ordinary users submit through the set-group-id postrider-postdrop (docs/security.md rule 1).

Runs as root: it creates a throwaway user and group (removed at the end), installs
a copy of the helper set-group-id to that group in a private directory (never the
system's postdrop group or any installed path), and runs our sendmail as the user.
"""
import os
import pwd
import shutil
import stat
import struct
import subprocess
import unittest
import zlib

import harness
from harness import BIN, Daemon, wait_until

HELPER = os.path.join(os.path.dirname(BIN), "postrider-postdrop")
TAG = f"prt{os.getpid() % 100000}"
USER, GROUP = TAG + "u", TAG + "g"


def as_user(args, data=b"", env=None, extra_groups=()):
    pw = pwd.getpwnam(USER)
    return subprocess.run(args, input=data, capture_output=True, timeout=30, env=env or {"PATH": "/usr/bin:/bin"},
                          user=pw.pw_uid, group=pw.pw_gid, extra_groups=list(extra_groups), cwd="/")


@unittest.skipUnless(os.geteuid() == 0, "needs root to create a user and a set-group-id file")
class Postdrop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        subprocess.run(["groupadd", GROUP], check=True)
        cls.addClassCleanup(subprocess.run, ["groupdel", GROUP])
        subprocess.run(["useradd", "-M", "-N", "-s", "/bin/sh", "-c", "Post Drop,,,", USER], check=True)
        cls.addClassCleanup(subprocess.run, ["userdel", USER])
        cls.uid = pwd.getpwnam(USER).pw_uid
        cls.d = Daemon()
        os.chmod(cls.d.dir, 0o755)  # the user must reach the binaries and the config
        cls.addClassCleanup(shutil.rmtree, cls.d.dir, True)
        cls.bin = os.path.join(cls.d.dir, "bin")
        os.mkdir(cls.bin, 0o755)
        cls.postrider = os.path.join(cls.bin, "postrider")
        shutil.copy(BIN, cls.postrider)
        cls.helper = os.path.join(cls.bin, "postrider-postdrop")  # installed as packaging does: 2755 root:GROUP
        shutil.copy(HELPER, cls.helper)
        os.chown(cls.helper, 0, __import__("grp").getgrnam(GROUP).gr_gid)
        os.chmod(cls.helper, 0o2755)
        cls.plain_helper = os.path.join(cls.bin, "postrider-postdrop-plain")  # no set-group-id bit
        shutil.copy(HELPER, cls.plain_helper)
        os.chmod(cls.plain_helper, 0o755)
        cls.d.settings.update(postdrop_group=GROUP, postdrop_helper=cls.helper)
        cls.d.start()
        cls.addClassCleanup(cls.d.stop)
        # "listening" comes before the pickup starts: wait for it to share the maildrop.
        wait_until(lambda: "maildrop open to group" in cls.d.log(), what="maildrop shared")
        os.chmod(cls.d.config, 0o644)
        cls.env = {"PATH": "/usr/bin:/bin", "POSTRIDER_CONFIG": cls.d.config}
        cls.q = cls.d.settings["queue_dir"]

    def sendmail(self, *args, data=b"Subject: as a user\n\nhello\n", env=None):
        return as_user([self.postrider, "sendmail", *args], data, env or self.env)

    def test_directories_are_shared_with_the_group_only(self):
        gid = __import__("grp").getgrnam(GROUP).gr_gid
        for path, mode in [(self.q, 0o710), (self.q + "/maildrop", 0o1730), (self.q + "/maildrop/tmp", 0o1730),
                           (self.q + "/maildrop/new", 0o1730), (self.q + "/maildrop/quarantine", 0o700)]:
            st = os.stat(path)
            self.assertEqual(stat.S_IMODE(st.st_mode), mode, path)
            if mode != 0o700:
                self.assertEqual(st.st_gid, gid, path)

    def test_user_submits_and_mail_carries_the_users_uid(self):
        r = self.sendmail("-F", "Drop User", "pd1@localhost")
        self.assertEqual(r.returncode, 0, r.stderr)
        [got] = self.d.read_delivered_wait("pd1", 1)
        self.assertIn(f"(postrider, from userid {self.uid})".encode(), got)
        self.assertIn(f"From: Drop User <{USER}@localhost>".encode(), got)
        self.assertIn(b"Subject: as a user", got)

    def test_group_member_submits_once_through_the_helper(self):
        # A member of postdrop_group may create files in maildrop/new itself, but could not
        # fsync new/ afterwards: that refusal used to send a second copy through the helper.
        gid = __import__("grp").getgrnam(GROUP).gr_gid
        r = as_user([self.postrider, "sendmail", "pd5@localhost"], b"Subject: member\n\nonce\n", self.env,
                    extra_groups=[gid])
        self.assertEqual(r.returncode, 0, r.stderr)
        [got] = self.d.read_delivered_wait("pd5", 1)
        self.assertIn(f"from userid {self.uid}".encode(), got)
        wait_until(lambda: os.listdir(self.q + "/maildrop/new") == [] and self.d.queue_files() == [],
                   what="maildrop and queue emptied")
        self.assertEqual(len(self.d.delivered("pd5")), 1)
        self.assertEqual(os.listdir(self.q + "/maildrop/quarantine"), [])

    def test_user_cannot_list_or_read_drops(self):
        # With the daemon stopped a drop stays in new/: the user still cannot see it.
        self.d.stop()
        try:
            r = self.sendmail("pd2@localhost", data=b"Subject: secret\n\nnot for other users\n")
            self.assertEqual(r.returncode, 0, r.stderr)
            [name] = os.listdir(self.q + "/maildrop/new")
            st = os.stat(f"{self.q}/maildrop/new/{name}")
            self.assertEqual(st.st_uid, self.uid)  # the kernel's word for who submitted (rule 3)
            probe = ("import os, sys\n"
                     "for f in (lambda: os.listdir(sys.argv[1] + '/maildrop/new'),\n"
                     "          lambda: os.listdir(sys.argv[1] + '/maildrop'),\n"
                     "          lambda: open(sys.argv[1] + '/maildrop/new/' + sys.argv[2]).read()):\n"
                     "    try:\n"
                     "        f(); print('ALLOWED')\n"
                     "    except PermissionError:\n"
                     "        print('denied')\n")
            r = as_user(["/usr/bin/python3", "-c", probe, self.q, name])
            self.assertEqual(r.stdout.decode().split(), ["denied"] * 3, r.stderr)
        finally:
            self.d.start()
            wait_until(lambda: self.d.log().count("maildrop open to group") == 2, what="maildrop shared again")
        [got] = self.d.read_delivered_wait("pd2", 1)
        self.assertIn(f"from userid {self.uid}".encode(), got)
        wait_until(lambda: os.listdir(self.q + "/maildrop/new") == [], what="maildrop emptied")

    def test_helper_without_setgid_gives_a_clear_error(self):
        env = dict(self.env, POSTRIDER_POSTDROP_HELPER=self.plain_helper)
        r = self.sendmail("pd3@localhost", env=env)
        self.assertEqual(r.returncode, 77, r.stderr)  # EX_NOPERM
        self.assertIn(b"not installed set-group-id", r.stderr)
        missing = dict(self.env, POSTRIDER_POSTDROP_HELPER=self.bin + "/nonexistent")
        r = self.sendmail("pd3@localhost", env=missing)
        self.assertEqual(r.returncode, 77, r.stderr)
        self.assertIn(b"cannot be run", r.stderr)
        self.assertEqual(self.d.delivered("pd3"), [])

    def test_helper_refuses_garbage_and_foreign_directories(self):
        r = as_user([self.helper, self.q], b"From: not a record\n\n")
        self.assertEqual(r.returncode, 65, r.stderr)  # EX_DATAERR
        self.assertIn(b"not a maildrop record", r.stderr)
        r = as_user([self.helper, "relative/queue"], b"")
        self.assertEqual(r.returncode, 64, r.stderr)
        # A directory tree the user made: not the group's, so the helper will not write there.
        own = os.path.join(self.d.dir, "own")
        for sub in ("", "/maildrop", "/maildrop/tmp", "/maildrop/new"):
            os.mkdir(own + sub, 0o1777)
            os.chmod(own + sub, 0o1777)
        r = as_user([self.helper, own], b"")
        self.assertEqual(r.returncode, 77, r.stderr)
        self.assertIn(b"is not a maildrop directory", r.stderr)
        self.assertEqual(os.listdir(own + "/maildrop/tmp"), [])

    def test_helper_refuses_records_past_their_bounds(self):
        def record(payload, version=2, length=None):
            head = b"PRD1" + struct.pack("<HI", version, len(payload) if length is None else length)
            return head + payload + struct.pack("<I", zlib.crc32(head + payload))
        good = record(b"x" * 16)
        cases = [
            (struct.pack("<4sHI", b"PRD1", 2, 128 * 1024 * 1024 + 1), b"too large"),  # refused before reading on
            (good[:-1], b"truncated"),
            (good + b"\0", b"bytes after"),
            (good[:-1] + bytes([good[-1] ^ 1]), b"CRC mismatch"),
            (record(b"x", version=3), b"unknown maildrop record version"),
        ]
        for data, why in cases:
            r = as_user([self.helper, self.q], data)
            self.assertEqual(r.returncode, 65, (why, r.stderr))  # EX_DATAERR
            self.assertIn(why, r.stderr)
        self.assertEqual(os.listdir(self.q + "/maildrop/tmp"), [])  # refused before a file is made


if __name__ == "__main__":
    harness.main()
