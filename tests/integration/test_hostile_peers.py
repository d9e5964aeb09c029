#!/usr/bin/python3
"""Hostile and broken peers on the outbound side (issue 10): a remote MX that
drips its reply one byte at a time, one that sends a 10 MB reply line, and DNS
that returns garbage or never answers. Each must end in a temporary failure
(deferred, never bounced), must not hold up other domains, and the message must
be delivered exactly once when the peer behaves again.

Everything is on 127.0.0.1: ScriptedMX servers (routed by transport_table, or
found through the fake DNS for the DNS cases) and a tiny UDP DNS server.
"""
import os
import smtplib
import tempfile
import time
import unittest

import harness
from fake_dns import FakeDNS
from harness import Daemon, free_port, vm_kib, wait_until
from scripted_mx import ScriptedMX

COMMAND_TIMEOUT = 3  # remote_command_timeout: the per-reply deadline


class HostilePeers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="postrider-hostile-")
        keys = ["PIPELINING", "SIZE 10000000"]
        cls.ok = ScriptedMX("127.0.0.1", free_port(), keys)
        cls.drip = ScriptedMX("127.0.0.1", free_port(), keys, bad_greeting="drip")
        cls.huge = ScriptedMX("127.0.0.1", free_port(), keys, bad_greeting="huge")
        cls.dnsmx = ScriptedMX("127.0.0.1", free_port(), keys)  # what the DNS names, once it behaves
        cls.dns = FakeDNS({"garbage.test": "garbage", "silent.test": "silent"})
        table = os.path.join(cls.tmp, "transport")
        with open(table, "w") as f:
            f.write(f"ok.test [127.0.0.1]:{cls.ok.sock.getsockname()[1]}\n"
                    f"drip.test [127.0.0.1]:{cls.drip.sock.getsockname()[1]}\n"
                    f"huge.test [127.0.0.1]:{cls.huge.sock.getsockname()[1]}\n")
        cls.d = Daemon(relay_domains="ok.test drip.test huge.test garbage.test silent.test",
                       transport_table=table, dns_servers=f"127.0.0.1:{cls.dns.port}", dns_timeout="1s",
                       remote_smtp_port=cls.dnsmx.sock.getsockname()[1],
                       remote_command_timeout=f"{COMMAND_TIMEOUT}s", remote_connect_timeout="2s",
                       retry_first="1s", retry_max="2s", remote_host_down_time="0", delay_warning_time="0")
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        for p in (cls.ok, cls.drip, cls.huge, cls.dnsmx):
            p.stop()
        cls.dns.stop()

    def send(self, rcpts, marker):
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10) as s:
            s.sendmail("alice@localhost", rcpts, f"Subject: {marker}\r\n\r\nbody {marker}\r\n")

    def outcome_lines(self, rcpt):
        return [l for l in self.d.log().splitlines() if f"to=<{rcpt}>" in l and "status=" in l]

    def assert_deferred_never_bounced(self, rcpt):
        lines = self.outcome_lines(rcpt)
        print(f"[outcome] {lines[0]}")
        self.assertTrue(any("status=deferred" in l for l in lines), lines)
        self.assertFalse(any("status=bounced" in l for l in lines), lines)
        self.assertEqual(self.d.delivered("alice"), [], "a bounce reached the sender")

    def assert_once(self, mx, marker, rcpt):
        got = wait_until(lambda: mx.messages_containing(marker), timeout=20, what=f"{rcpt} delivered")
        wait_until(lambda: any("status=sent" in l for l in self.outcome_lines(rcpt)), what="sent log line")
        time.sleep(2.5)  # past retry_max: a wrong second copy would have been sent by now
        got = mx.messages_containing(marker)
        self.assertEqual(len(got), 1, got)
        self.assertEqual(got[0]["rcpts"], [f"RCPT TO:<{rcpt}>"])

    def test_slow_drip_reply_hits_the_per_reply_deadline(self):
        start = time.monotonic()
        self.send(["d@drip.test", "w@ok.test"], "drip-and-ok")
        wait_until(lambda: self.ok.messages_containing("drip-and-ok"), timeout=10, what="ok.test delivery")
        self.assertLess(time.monotonic() - start, 2.0, "ok.test waited for the dripping peer")
        wait_until(lambda: self.outcome_lines("d@drip.test"), timeout=15, what="drip.test outcome")
        took = time.monotonic() - start
        # Bytes keep arriving every 0.5 s, so only a deadline for the whole reply can fire;
        # the greeting would take 14 s to complete.
        self.assertLess(took, COMMAND_TIMEOUT + 2.5, f"deadline fired after {took:.1f}s")
        self.assertRegex(self.outcome_lines("d@drip.test")[0], r"status=deferred .*timeout")
        self.assert_deferred_never_bounced("d@drip.test")
        self.assertEqual(self.drip.bad_greetings_sent, 1)
        self.assert_once(self.drip, "drip-and-ok", "d@drip.test")  # the second connection behaves

    def test_ten_megabyte_reply_line_is_refused_without_buffering_it(self):
        pid = self.d.proc.pid
        hwm0 = vm_kib(pid, "VmHWM")
        start = time.monotonic()
        self.send(["h@huge.test", "w2@ok.test"], "huge-and-ok")
        wait_until(lambda: self.ok.messages_containing("huge-and-ok"), timeout=10, what="ok.test delivery")
        self.assertLess(time.monotonic() - start, 2.0, "ok.test waited for the huge reply")
        wait_until(lambda: self.outcome_lines("h@huge.test"), timeout=15, what="huge.test outcome")
        self.assertRegex(self.outcome_lines("h@huge.test")[0], r"status=deferred")
        self.assert_deferred_never_bounced("h@huge.test")
        grew = vm_kib(pid, "VmHWM") - hwm0
        print(f"[memory] VmHWM {hwm0} KiB before the 10 MiB reply line, +{grew} KiB after")
        # The reply parser stops at reply_line_octets (2048): the 10 MiB line is never held.
        self.assertLess(grew, 4 * 1024, f"peak RSS grew by {grew} KiB during a 10 MiB reply line")
        self.assert_once(self.huge, "huge-and-ok", "h@huge.test")

    def test_dns_garbage_and_silence_are_temporary(self):
        start = time.monotonic()
        self.send(["g@garbage.test", "s@silent.test", "w3@ok.test"], "dns-faults")
        wait_until(lambda: self.ok.messages_containing("dns-faults"), timeout=10, what="ok.test delivery")
        self.assertLess(time.monotonic() - start, 2.0, "ok.test waited for the broken DNS")
        wait_until(lambda: self.outcome_lines("g@garbage.test") and self.outcome_lines("s@silent.test"),
                   timeout=20, what="both DNS failures")
        self.assertGreater(len(self.dns.queries_for("garbage.test")), 0)
        self.assertGreater(len(self.dns.queries_for("silent.test")), 0)
        for rcpt in ("g@garbage.test", "s@silent.test"):
            self.assertRegex(self.outcome_lines(rcpt)[0], r"dsn=4\.\d\.\d+, status=deferred")
            self.assert_deferred_never_bounced(rcpt)
        self.assertEqual(self.dnsmx.messages, [], "no delivery without an answer")
        # The DNS behaves again: the next retry finds mx.<domain> and delivers each once.
        self.dns.set_mode("garbage.test", "good")
        self.dns.set_mode("silent.test", "good")
        got = wait_until(lambda: len(self.dnsmx.messages_containing("dns-faults")) >= 2 and
                         self.dnsmx.messages_containing("dns-faults"), timeout=30, what="delivery after DNS heals")
        time.sleep(2.5)
        got = self.dnsmx.messages_containing("dns-faults")
        self.assertEqual(sorted(r for m in got for r in m["rcpts"]),
                         ["RCPT TO:<g@garbage.test>", "RCPT TO:<s@silent.test>"], "each exactly once")
        wait_until(lambda: not self.d.queue_files(), timeout=10, what="the queue to empty")


if __name__ == "__main__":
    harness.main()
