#!/usr/bin/python3
"""Aliases, forward/list files and list owners (docs/addressing.md), end to end.

One daemon on loopback with a mailbox table (so unknown local users exist), an alias
table, and a transport table sending r1.test and r2.test to two scripted MXes on
127.0.0.1; r1.test answers 550 at RCPT for local parts starting with "bad".
"""
import collections
import os
import random
import re
import signal
import smtplib
import subprocess
import sys
import threading
import time
import unittest

from harness import BIN, Daemon, free_port, wait_until

LOCAL_GOOD = [f"u{i:03d}" for i in range(120)]
LOCAL_UNKNOWN = ["ghost1", "ghost2", "ghost3"]
R1_GOOD = [f"a{i:02d}" for i in range(40)]
R1_BAD = ["bad1", "bad2"]
R2_GOOD = [f"b{i:02d}" for i in range(35)]
MAILBOXES = LOCAL_GOOD + ["owner-biglist", "poster", "t1", "t2", "t3", "fwd", "loopa", "loopb", "loopsender",
                          "dotdot", "victim", "linker", "prog", "selfish", "plain", "hup", "listrunner", "fr1", "fr2"]

ALIASES = """# the 200-member list, written across continuation lines
biglist: {members}
team: t1, "Tee Two" <t2@localhost>,
   t3@localhost (third), x1@r1.test,
   x2@r2.test
selfish: selfish, t1
owner-team-less: t1
"""


def daemon_with_aliases(text, **settings):
    """A Daemon (not started) whose alias_table holds text; returns (daemon, alias file path)."""
    d = Daemon(mynetworks="127.0.0.0/8", **settings)
    return d, d.write_table("alias_table", text)


def members():
    out = [f"{u}@localhost" for u in LOCAL_GOOD + LOCAL_UNKNOWN]
    out += [f"{u}@r1.test" for u in R1_GOOD + R1_BAD] + [f"{u}@r2.test" for u in R2_GOOD]
    assert len(out) == 200
    return out


class Lists(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from scripted_mx import ScriptedMX
        cls.mx1 = ScriptedMX("127.0.0.1", 0, ["PIPELINING", "8BITMIME"], reject_rcpt=lambda a: a.startswith("bad"))
        cls.mx2 = ScriptedMX("127.0.0.1", 0, ["PIPELINING", "8BITMIME"])
        cls.d = Daemon(dns_servers="127.0.0.1:9", mynetworks="127.0.0.0/8", hostname="mx.test")
        d = cls.d
        d.write_table("mailbox_table", "".join(f"{u}@localhost localhost/{u}/Maildir\n" for u in MAILBOXES))
        d.write_table("alias_table", ALIASES.format(members=",\n    ".join(members())))
        d.write_table("transport_table", f"r1.test [127.0.0.1]:{cls.mx1.sock.getsockname()[1]}\n"
                                         f"r2.test [127.0.0.1]:{cls.mx2.sock.getsockname()[1]}\n")
        cls.write_forward("fwd", ".qmail", "# keep one, pass one on\n&fx@r2.test\n./Maildir/\n")
        cls.write_forward("loopa", ".qmail", "&loopb@localhost\n")
        cls.write_forward("loopb", ".qmail", "&loopa@localhost\n")
        cls.write_forward("dotdot", ".qmail", "./../victim/Maildir/\n")
        cls.write_forward("prog", ".qmail", "|/bin/cat\n")
        # A user-run list: one file for the members, one that makes the owner address exist.
        cls.write_forward("listrunner", ".qmail-friends", "&fr1@localhost\nfr2@localhost\n&ghost9@localhost\n")
        cls.write_forward("listrunner", ".qmail-friends-owner", "./Maildir/\n")
        d.start_with_peers(cls.mx1, cls.mx2)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop_with_peers(cls.mx1, cls.mx2)

    @classmethod
    def write_forward(cls, user, name, text):
        home = os.path.join(cls.d.settings["mail_root"], "localhost", user)
        os.makedirs(home, exist_ok=True)
        with open(os.path.join(home, name), "w") as f:
            f.write(text)

    def send(self, sender, rcpts, data, options=()):
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=30) as s:
            s.ehlo("client.example")
            s.sendmail(sender, rcpts, data, mail_options=list(options))

    def mx_with(self, mx, marker):
        return mx.messages_containing(marker)

    # --- the issue's own test ---------------------------------------------------

    def test_200_member_list_with_verp_bounces_reach_the_owner(self):
        self.send("poster@localhost", ["biglist@localhost"], b"Subject: marker-biglist\r\n\r\nto all\r\n",
                  options=["XVERP"])
        # Every good local member: exactly one copy, which names the list in Delivered-To.
        for u in LOCAL_GOOD:
            self.d.wait_delivered(u, 1, timeout=60)
            [got] = self.d.read_delivered(u)
            self.assertIn(b"marker-biglist", got)
            self.assertIn(f"\nDelivered-To: {u}@localhost\n".encode(), got)
            self.assertIn(b"Delivered-To: biglist@localhost\n", got)
            # VERP locally too: the Return-Path names this member at the owner address.
            self.assertTrue(got.startswith(f"Return-Path: <owner-biglist+{u}=localhost@localhost>\n".encode()), got[:90])
        # Remote members: one transaction each (VERP), MAIL FROM owner-biglist+member=domain@mx.test's domain.
        r1 = wait_until(lambda: len(self.mx_with(self.mx1, "marker-biglist")) >= 40 and self.mx_with(self.mx1, "marker-biglist"),
                        timeout=60, what="40 messages at r1.test")
        r2 = wait_until(lambda: len(self.mx_with(self.mx2, "marker-biglist")) >= 35 and self.mx_with(self.mx2, "marker-biglist"),
                        timeout=60, what="35 messages at r2.test")
        for got, good, domain in ((r1, R1_GOOD, "r1.test"), (r2, R2_GOOD, "r2.test")):
            rcpts = sorted(m["rcpts"][0].split("<", 1)[1].split(">", 1)[0] for m in got)
            self.assertEqual(rcpts, sorted(f"{u}@{domain}" for u in good))  # each exactly once
            for m in got:
                [rcpt] = m["rcpts"]
                local = rcpt.split("<", 1)[1].split("@", 1)[0]
                self.assertIn(f"<owner-biglist+{local}={domain}@localhost>", m["mail"])
        wait_until(lambda: sorted(self.mx1.rejected) == ["bad1@r1.test", "bad2@r1.test"], what="both 550s at r1.test")
        # The failures (3 unknown local users, 2 remote 550s) reach the owner, never the poster.
        def owner_bounces():
            out = []
            for m in self.d.read_delivered("owner-biglist"):
                if b"marker-biglist" in m or b"biglist" in m:
                    out.append(m)
            text = b"".join(out)
            failing = [u for u in LOCAL_UNKNOWN if f"{u}@localhost".encode() in text]
            failing += [u for u in R1_BAD if f"{u}@r1.test".encode() in text]
            return len(failing) == 5 and out
        bounces = wait_until(owner_bounces, timeout=60, what="bounces naming all 5 failing members at the owner")
        for b in bounces:
            self.assertIn(b"Content-Type: multipart/report", b)
            self.assertIn(b"Action: failed", b)
        # VERP: one notice per failing member, each delivered at the return path naming it.
        verp_to = sorted(re.search(rb"^Delivered-To: (\S+)$", b, re.M).group(1).decode() for b in bounces)
        self.assertEqual(verp_to, sorted([f"owner-biglist+{u}=localhost@localhost" for u in LOCAL_UNKNOWN] +
                                         [f"owner-biglist+{u}=r1.test@localhost" for u in R1_BAD]))
        for u in LOCAL_GOOD[:5] + R1_GOOD[:3]:
            self.assertNotIn(f"Final-Recipient: rfc822; {u}@".encode(), b"".join(bounces))
        self.assertEqual([m for m in self.d.read_delivered("poster") if b"marker-biglist" in m], [])
        # A remote MTA's later bounce to a VERP address reaches the owner (extension fallback)
        # and its Delivered-To names the failing member.
        self.send("", ["owner-biglist+a07=r1.test@localhost"], b"Subject: marker-late-bounce\r\n\r\nuser gone\r\n")
        late = wait_until(lambda: [m for m in self.d.read_delivered("owner-biglist") if b"marker-late-bounce" in m],
                          what="the late bounce at the owner")
        self.assertIn(b"\nDelivered-To: owner-biglist+a07=r1.test@localhost\n", late[0])
        log = self.d.log()
        self.assertRegex(log, r"to=<biglist@localhost>, relay=local, .*status=sent \(forwarded as \w+\)")
        self.assertRegex(log, r"forwarded from \w+ for <biglist@localhost> from=<owner-biglist@localhost> nrcpt=200")
        time.sleep(0.5)  # a second copy would have arrived by now
        for u in LOCAL_GOOD:
            self.assertEqual(len(self.d.delivered(u)), 1, u)

    # --- aliases ---------------------------------------------------------------

    def test_alias_with_three_local_and_two_remote_members(self):
        self.send("plain@localhost", ["team@localhost"], b"Subject: marker-team\r\n\r\nhello team\r\n")
        for u in ("t1", "t2", "t3"):
            wait_until(lambda: [m for m in self.d.read_delivered(u) if b"marker-team" in m], what=f"{u}")
            got = [m for m in self.d.read_delivered(u) if b"marker-team" in m]
            self.assertEqual(len(got), 1, u)
            self.assertIn(b"Delivered-To: team@localhost\n", got[0])
            self.assertTrue(got[0].startswith(b"Return-Path: <plain@localhost>\n"))  # no owner-team: the sender
        [m1] = wait_until(lambda: self.mx_with(self.mx1, "marker-team"), what="x1 at r1.test")
        [m2] = wait_until(lambda: self.mx_with(self.mx2, "marker-team"), what="x2 at r2.test")
        self.assertEqual(m1["rcpts"], ["RCPT TO:<x1@r1.test>"])
        self.assertEqual(m2["rcpts"], ["RCPT TO:<x2@r2.test>"])
        self.assertTrue(m1["mail"].startswith("MAIL FROM:<plain@localhost>"), m1["mail"])

    def test_alias_naming_itself_delivers_to_its_own_mailbox(self):
        self.send("plain@localhost", ["selfish@localhost"], b"Subject: marker-selfish\r\n\r\nx\r\n")
        [own] = self.d.read_delivered_wait("selfish", 1)
        self.assertIn(b"marker-selfish", own)
        wait_until(lambda: [m for m in self.d.read_delivered("t1") if b"marker-selfish" in m], what="t1 copy")

    def test_alias_without_mailbox_is_a_valid_recipient_unknown_is_not(self):
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10) as s:
            s.ehlo("client.example")
            s.mail("plain@localhost")
            self.assertEqual(s.rcpt("team@localhost")[0], 250)
            self.assertEqual(s.rcpt("TEAM+ext@localhost")[0], 250)
            self.assertEqual(s.rcpt("nobody-here@localhost")[0], 550)
            s.rset()

    # --- forward files -----------------------------------------------------------

    def test_user_run_list_with_one_file_bounces_to_its_owner_file(self):
        self.send("plain@localhost", ["listrunner+friends@localhost"], b"Subject: marker-friends\r\n\r\nx\r\n")
        for u in ("fr1", "fr2"):
            wait_until(lambda: [m for m in self.d.read_delivered(u) if b"marker-friends" in m], what=u)
        [got] = [m for m in self.d.read_delivered("fr1") if b"marker-friends" in m]
        self.assertTrue(got.startswith(b"Return-Path: <listrunner+friends-owner@localhost>\n"), got[:80])
        [b] = wait_until(lambda: [m for m in self.d.read_delivered("listrunner") if b"ghost9@localhost" in m],
                         what="the bounce at the list's owner")
        self.assertIn(b"\nDelivered-To: listrunner+friends-owner@localhost\n", b)
        self.assertIn(b"Status: 5.1.1", b)
        self.assertEqual([m for m in self.d.read_delivered("plain") if b"marker-friends" in m], [])

    def test_forward_file_keeps_a_copy_and_forwards(self):
        self.send("plain@localhost", ["fwd@localhost"], b"Subject: marker-fwd\r\n\r\nx\r\n")
        [own] = self.d.read_delivered_wait("fwd", 1)
        self.assertIn(b"marker-fwd", own)
        [m] = wait_until(lambda: self.mx_with(self.mx2, "marker-fwd"), what="fx at r2.test")
        self.assertEqual(m["rcpts"], ["RCPT TO:<fx@r2.test>"])
        self.assertIn(b"Delivered-To: fwd@localhost\r\n", m["data"])
        self.assertRegex(self.d.log(), r"to=<fwd@localhost>, relay=local, .*status=sent \(delivered to maildir; forwarded as \w+\)")

    def test_forward_loop_between_two_users_bounces_once(self):
        self.send("loopsender@localhost", ["loopa@localhost"], b"Subject: marker-fwd-loop\r\n\r\nx\r\n")
        [b] = wait_until(lambda: [m for m in self.d.read_delivered("loopsender") if b"marker-fwd-loop" in m],
                         what="the loop bounce")
        self.assertIn(b"Status: 5.4.6", b)
        self.assertIn(b"mail loop", b)
        time.sleep(1)
        self.assertEqual(len([m for m in self.d.read_delivered("loopsender") if b"marker-fwd-loop" in m]), 1)
        self.assertEqual(self.d.delivered("loopa"), [])
        self.assertEqual(self.d.delivered("loopb"), [])

    def test_dotdot_in_forward_file_is_refused_and_the_mail_waits(self):
        self.send("plain@localhost", ["dotdot@localhost"], b"Subject: marker-dotdot\r\n\r\nx\r\n")
        wait_until(lambda: "to=<dotdot@localhost>, expansion deferred: forward file .qmail line 1" in self.d.log(),
                   what="the deferral log line")
        wait_until(lambda: re.search(r"to=<dotdot@localhost>, relay=local, .*dsn=4\.3\.5, status=deferred", self.d.log()),
                   what="the deferral record")
        self.assertEqual(self.d.delivered("victim"), [])
        self.assertEqual(self.d.delivered("dotdot"), [])

    def test_symlinks_in_the_users_directory_are_not_followed(self):
        home = os.path.join(self.d.settings["mail_root"], "localhost", "linker")
        os.makedirs(home, exist_ok=True)
        outside = os.path.join(self.d.dir, "outside")
        os.makedirs(outside, exist_ok=True)
        with open(os.path.join(outside, "qmail"), "w") as f:
            f.write("./Maildir/\n")
        os.symlink(os.path.join(outside, "qmail"), os.path.join(home, ".qmail"))
        self.send("plain@localhost", ["linker@localhost"], b"Subject: marker-link1\r\n\r\nx\r\n")
        wait_until(lambda: "to=<linker@localhost>, expansion deferred: forward file .qmail: is a symlink" in self.d.log(),
                   what="the symlinked file refused")
        self.assertEqual(self.d.delivered("linker"), [])
        # A maildir line through a symlinked directory is refused too.
        self.write_forward("linker", ".qmail-x", "./out/\n")
        os.symlink(outside, os.path.join(home, "out"))
        self.send("plain@localhost", ["linker+x@localhost"], b"Subject: marker-link2\r\n\r\nx\r\n")
        wait_until(lambda: "to=<linker+x@localhost>, expansion deferred: maildir path in a forward file goes through a symlink" in self.d.log(),
                   what="the symlinked maildir refused")
        self.assertFalse(os.path.exists(os.path.join(outside, "new")))

    def test_program_line_without_the_knob_defers_naming_it(self):
        self.send("plain@localhost", ["prog@localhost"], b"Subject: marker-prog\r\n\r\nx\r\n")
        wait_until(lambda: re.search(r"to=<prog@localhost>, expansion deferred: forward file \.qmail line 1: "
                                     r"program line \(\|command\) but allow_program_delivery is off", self.d.log()),
                   what="the program deferral")
        self.assertEqual(self.d.delivered("prog"), [])


class AliasReload(unittest.TestCase):
    """alias_table is read at start, on SIGHUP (all or nothing) and by check-config (FILE:LINE)."""

    def test_check_config_and_sighup(self):
        d, aliases = daemon_with_aliases("crew: alice\n")
        with d:
            with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as s:
                s.sendmail("x@localhost", ["crew@localhost"], b"Subject: marker-crew1\r\n\r\nx\r\n")
            d.wait_delivered("alice", 1)
            with open(aliases, "w") as f:
                f.write("crew: bob\nbroken: team: a, b;\n")
            r = subprocess.run([BIN, "check-config", "-c", d.config], capture_output=True, text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(f"{aliases}:2: groups", r.stdout + r.stderr)
            before = d.log().count("reload refused")
            d.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: d.log().count("reload refused") > before, what="the refused reload")
            with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as s:
                s.sendmail("x@localhost", ["crew@localhost"], b"Subject: marker-crew2\r\n\r\nx\r\n")
            d.wait_delivered("alice", 2)  # the old table is still in force
            with open(aliases, "w") as f:
                f.write("crew: bob\n")
            before = d.log().count("reload: configuration reloaded")
            d.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: d.log().count("reload: configuration reloaded") > before, what="the reload")
            with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as s:
                s.sendmail("x@localhost", ["crew@localhost"], b"Subject: marker-crew3\r\n\r\nx\r\n")
            [got] = d.read_delivered_wait("bob", 1)
            self.assertIn(b"marker-crew3", got)
            self.assertEqual(len(d.delivered("alice")), 2)


class ForwardDepth(unittest.TestCase):
    """A chain of distinct aliases (no loop) ends at max_forward_depth with one 5.4.6 bounce."""

    def test_chain_longer_than_the_limit_bounces(self):
        d, _ = daemon_with_aliases("c0: c1\nc1: c2\nc2: c3\nc3: end\nshort0: short1\nshort1: end\n",
                                   max_forward_depth=3)
        with d:
            with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as s:
                s.sendmail("chainer@localhost", ["c0@localhost"], b"Subject: marker-chain\r\n\r\nx\r\n")
                s.sendmail("chainer@localhost", ["short0@localhost"], b"Subject: marker-short\r\n\r\nx\r\n")
            [b] = wait_until(lambda: [m for m in d.read_delivered("chainer") if b"marker-chain" in m], what="the bounce")
            self.assertIn(b"Status: 5.4.6", b)
            self.assertIn(b"forwarded too often (3 Delivered-To headers, limit 3)", b)
            self.assertRegex(d.log(), r"to=<c3@localhost>, relay=local, .*dsn=5\.4\.6, status=bounced")
            [got] = d.read_delivered_wait("end", 1)  # the short chain (2 forwards) arrives
            self.assertIn(b"marker-short", got)
            time.sleep(0.5)
            self.assertEqual(len(d.delivered("end")), 1)


class TwoServersAliasLoop(unittest.TestCase):
    """x@a.test is an alias for y@b.test on one instance, y@b.test for x@a.test on the other:
    the Delivered-To check stops the loop at its second visit with one bounce to the sender."""

    def test_aliases_forwarding_to_each_other_bounce_once(self):
        pa, pb = free_port(), free_port()
        a, _ = daemon_with_aliases("x: y@b.test\n", listen=f"127.0.0.1:{pa}", local_domains="a.test",
                                   hostname="a.test", dns_servers="127.0.0.1:9")
        b, _ = daemon_with_aliases("y: x@a.test\n", listen=f"127.0.0.1:{pb}", local_domains="b.test",
                                   hostname="b.test", dns_servers="127.0.0.1:9")
        a.write_table("transport_table", f"b.test [127.0.0.1]:{pb}\n")
        b.write_table("transport_table", f"a.test [127.0.0.1]:{pa}\n")
        with a, b:
            with smtplib.SMTP("127.0.0.1", pa, timeout=10) as s:
                s.sendmail("origin@a.test", ["x@a.test"], b"Subject: marker-alias-ping-pong\r\n\r\nbody\r\n")
            [bounce] = wait_until(lambda: [m for m in a.read_delivered("origin", "a.test") if b"marker-alias-ping-pong" in m],
                                  timeout=30, what="the loop bounce at the origin")
            self.assertIn(b"Status: 5.4.6", bounce)
            self.assertIn(b"already delivered to this recipient", bounce)
            self.assertRegex(a.log(), r"to=<x@a\.test>, relay=local, .*dsn=5\.4\.6, status=bounced")
            self.assertEqual(len(re.findall(r"forwarded from \w+ for <x@a\.test>", a.log())), 1)
            self.assertEqual(len(re.findall(r"forwarded from \w+ for <y@b\.test>", b.log())), 1)
            time.sleep(1)  # a second bounce would have arrived by now
            self.assertEqual(len([m for m in a.read_delivered("origin", "a.test") if b"marker-alias-ping-pong" in m]), 1)


class ForwardCrash(unittest.TestCase):
    """kill -9 while messages to an alias are expanded: every accepted message reaches every
    member at least once (a crash between the forward's commit and the original's record
    forwards again: duplicates are allowed, losses are not)."""

    def test_kill9_during_expansion_loses_nothing(self):
        d, _ = daemon_with_aliases("fan: m1, m2@localhost\n")
        accepted = []
        rng = random.Random(5)
        with d:
            for round_ in range(4):
                killer = threading.Timer(rng.uniform(0.05, 0.3), d.proc.kill)
                killer.start()
                try:
                    for i in range(400):
                        tid = f"r{round_}-{i}"
                        try:
                            with smtplib.SMTP("127.0.0.1", d.port, timeout=5) as s:
                                s.sendmail("x@localhost", ["fan@localhost"], f"Subject: {tid}\r\nX-Trial: {tid}\r\n\r\nx\r\n".encode())
                            accepted.append(tid)
                        except (OSError, smtplib.SMTPException):
                            break  # killed: this one was not accepted
                finally:
                    killer.cancel()
                d.proc.wait(10)
                d.start()  # same state dir: recovery re-runs what was not recorded
            def copies(user):
                out = collections.Counter()
                for m in d.read_delivered(user):
                    found = re.search(rb"X-Trial: (\S+)", m)
                    if found:
                        out[found.group(1).decode()] += 1
                return out
            for user in ("m1", "m2"):
                wait_until(lambda: set(accepted) <= set(copies(user)), timeout=60,
                           what=f"every accepted message at {user}")
            dups = sum(n - 1 for user in ("m1", "m2") for n in copies(user).values())
            sys.stderr.write(f"[forward-crash] accepted={len(accepted)} duplicates={dups}\n")
            self.assertGreater(len(accepted), 0)
            self.assertLess(len(accepted), 4 * 400)  # every round was cut short by its kill


if __name__ == "__main__":
    unittest.main(verbosity=2)
