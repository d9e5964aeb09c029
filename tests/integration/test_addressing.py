#!/usr/bin/python3
"""Addressing (docs/addressing.md): loop detection and extension addresses, end to end.

One daemon on loopback; remote mail goes to a scripted MX behind relayhost.
Bounces go to a local sender, so they can be read from its maildir.
"""
import os
import re
import smtplib
import time
import unittest

from harness import Daemon, RelayedDaemonCase, free_port, wait_until


class Addressing(RelayedDaemonCase):
    mx_keywords = ["PIPELINING", "8BITMIME"]
    daemon_settings = {"recipient_delimiter": "+-", "mynetworks": "127.0.0.0/8"}

    def send(self, sender, rcpts, data):
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10) as s:
            s.ehlo("client.example")
            s.sendmail(sender, rcpts, data)

    def bounces_for(self, sender_user, marker):
        return [m for m in self.d.read_delivered(sender_user) if marker in m]

    # --- loop detection ---------------------------------------------------------

    def test_our_delivered_to_for_this_recipient_bounces_as_mail_loop(self):
        self.send("loopsender@localhost", ["looped@localhost"],
                  b"Delivered-To: LOOPED@localhost\r\nSubject: marker-dt-loop\r\n\r\nbody\r\n")
        [b] = wait_until(lambda: self.bounces_for("loopsender", b"marker-dt-loop"), what="loop bounce")
        self.assertIn(b"Status: 5.4.6", b)
        self.assertIn(b"mail loop", b)
        self.assertEqual(self.d.delivered("looped"), [])
        self.assertRegex(self.d.log(), r"to=<looped@localhost>, relay=local, .*dsn=5\.4\.6, status=bounced \(mail loop")

    def test_delivered_to_another_recipient_is_delivered_and_ours_is_written(self):
        self.send("s2@localhost", ["fresh@localhost"],
                  b"Delivered-To: someone-else@localhost\r\nSubject: marker-dt-other\r\n\r\nbody\r\n")
        [got] = self.d.read_delivered_wait("fresh", 1)
        self.assertIn(b"\nDelivered-To: fresh@localhost\n", got)
        self.assertIn(b"Delivered-To: someone-else@localhost\n", got)

    def test_hop_limit_local(self):
        # Our own trace header is the 101st / the 100th.
        over = b"".join(b"Received: from hop%d.example by x; Thu, 1 Jan 2026 00:00:00 +0000\r\n" % i for i in range(100))
        under = over[: over.index(b"Received: from hop99")]
        self.send("hops@localhost", ["hopper@localhost"], over + b"Subject: marker-hops-over\r\n\r\nbody\r\n")
        self.send("hops@localhost", ["hopper2@localhost"], under + b"Subject: marker-hops-under\r\n\r\nbody\r\n")
        [b] = wait_until(lambda: self.bounces_for("hops", b"marker-hops-over"), what="hop bounce")
        self.assertIn(b"Status: 5.4.6", b)
        self.assertIn(b"too many hops (101 Received headers, limit 100)", b)
        self.d.wait_delivered("hopper2", 1)
        self.assertEqual(self.d.delivered("hopper"), [])

    def test_hop_limit_remote(self):
        over = b"".join(b"Received: from hop%d.example by x\r\n" % i for i in range(100))
        self.send("rhops@localhost", ["far@remote.example"], over + b"Subject: marker-rhops\r\n\r\nbody\r\n")
        [b] = wait_until(lambda: self.bounces_for("rhops", b"marker-rhops"), what="remote hop bounce")
        self.assertIn(b"Status: 5.4.6", b)
        self.assertEqual(self.mx.messages_containing("marker-rhops"), [])

    # --- extension addresses ----------------------------------------------------

    def test_extensions_deliver_to_the_user_maildir(self):
        self.send("x@localhost", ["ext+news@localhost", "EXT-lists-2026@localhost"],
                  b"Subject: marker-ext\r\n\r\nbody\r\n")
        got = self.d.read_delivered_wait("ext", 2)
        self.assertEqual(len(got), 2)
        heads = sorted(g.split(b"\n")[1] for g in got)
        self.assertEqual(heads, [b"Delivered-To: EXT-lists-2026@localhost", b"Delivered-To: ext+news@localhost"])
        mail = os.path.join(self.d.settings["mail_root"], "localhost")
        self.assertFalse(os.path.exists(os.path.join(mail, "ext+news")))
        self.assertFalse(os.path.exists(os.path.join(mail, "ext-lists-2026")))

    def test_unsafe_extension_is_refused_at_rcpt_and_writes_nothing(self):
        before = sorted(os.listdir(self.d.dir))
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10) as s:
            s.ehlo("client.example")
            s.mail("x@localhost")
            for rcpt in ['"ext+../../../x"@localhost', '"ext+a/b"@localhost', '"../ext+x"@localhost']:
                code, text = s.rcpt(rcpt)
                self.assertGreaterEqual(code, 500, (rcpt, text))
            s.rset()
        self.assertEqual(sorted(os.listdir(self.d.dir)), before)
        self.assertFalse(os.path.exists(os.path.join(self.d.dir, "x")))


class TwoServersLoop(unittest.TestCase):
    """a.test routes loop.test to b.test's server and back: the hop limit ends it with one bounce."""

    def test_mail_forwarded_back_and_forth_bounces_once(self):
        pa, pb = free_port(), free_port()
        a = Daemon(listen=f"127.0.0.1:{pa}", local_domains="a.test", mynetworks="127.0.0.0/8",
                   hostname="a.test", dns_servers="127.0.0.1:9")
        b = Daemon(listen=f"127.0.0.1:{pb}", local_domains="b.test", mynetworks="127.0.0.0/8",
                   hostname="b.test", dns_servers="127.0.0.1:9")
        a.write_table("transport_table", f"loop.test [127.0.0.1]:{pb}\n")
        b.write_table("transport_table", f"loop.test [127.0.0.1]:{pa}\na.test [127.0.0.1]:{pa}\n")
        with a, b:
            with smtplib.SMTP("127.0.0.1", pa, timeout=10) as s:
                s.sendmail("origin@a.test", ["nobody@loop.test"], b"Subject: marker-ping-pong\r\n\r\nbody\r\n")
            [bounce] = wait_until(lambda: [m for m in a.read_delivered("origin", "a.test") if b"marker-ping-pong" in m],
                                  timeout=60, what="the loop bounce at the origin")
            self.assertIn(b"Status: 5.4.6", bounce)
            self.assertIn(b"too many hops (101 Received headers, limit 100)", bounce)
            # 100 hops between the two: each server handed the message on 50 times.
            hops = lambda d: len(re.findall(r"to=<nobody@loop\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*status=sent", d.log()))
            self.assertEqual(hops(a) + hops(b), 100, a.log()[-2000:])
            time.sleep(1)  # a second bounce (or a bounce of the bounce) would have arrived by now
            self.assertEqual(len([m for m in a.read_delivered("origin", "a.test") if b"marker-ping-pong" in m]), 1)
            self.assertEqual(len(a.delivered("origin", "a.test")), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
