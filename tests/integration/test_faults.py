#!/usr/bin/python3
"""Faults the daemon must survive: running out of descriptors under a
connection flood, and a corrupted queue file found at start-up."""
import os
import smtplib
import time
import unittest

import harness
from harness import Client, Daemon, wait_until


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def send(port, rcpt, subject):
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.sendmail("sender@example.org", [rcpt], f"Subject: {subject}\r\n\r\nbody\r\n".encode())


class DescriptorExhaustion(unittest.TestCase):
    def test_flood_beyond_the_descriptor_limit(self):
        # 48 descriptors: the queue, logs and listeners take some, a flood takes the rest.
        with Daemon(nofile=48, max_sessions=1000, max_sessions_per_ip=1000) as d:
            send(d.port, "before@localhost", "before")
            d.wait_delivered("before", 1)
            flood = harness.flood(self, d.port)  # the kernel backlog holds what is not accepted
            cpu0, t0 = cpu_seconds(d.proc.pid), time.monotonic()
            wait_until(lambda: "backing off" in d.log(), timeout=10, what="the accept back-off")
            time.sleep(2.0)
            busy = (cpu_seconds(d.proc.pid) - cpu0) / (time.monotonic() - t0)
            self.assertLess(busy, 0.5, f"daemon used {busy:.0%} of a CPU while out of descriptors")
            self.assertIsNone(d.proc.poll(), "daemon died")
            for s in flood:
                s.close()
            # Descriptors come back as the flooded sessions end: mail flows again.
            deadline = time.monotonic() + 30
            while True:
                try:
                    send(d.port, "after@localhost", "after")
                    break
                except (smtplib.SMTPException, OSError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            d.wait_delivered("after", 1)
            self.assertLessEqual(d.log().count("backing off"), 10, "back-off is logged once per episode")


class CorruptQueueFile(unittest.TestCase):
    def test_flipped_bits_are_quarantined_and_the_rest_flows(self):
        # A message for an unreachable relay domain stays queued (DNS does not answer).
        dead_dns = harness.free_port()
        d = Daemon(relay_domains="remote.test", dns_servers=f"127.0.0.1:{dead_dns}")
        d.start()
        try:
            send(d.port, "someone@remote.test", "stuck")
            env_dir = os.path.join(d.settings["queue_dir"], "env")
            [victim] = wait_until(lambda: os.listdir(env_dir), what="a queued envelope")
        finally:
            self.assertEqual(d.stop(), 0)
        path = os.path.join(env_dir, victim)
        data = bytearray(open(path, "rb").read())
        data[len(data) // 2] ^= 0xFF
        open(path, "wb").write(bytes(data))

        d.start()
        try:
            corrupt = os.path.join(d.settings["queue_dir"], "corrupt")
            wait_until(lambda: os.path.isdir(corrupt) and os.listdir(corrupt), what="quarantine")
            self.assertFalse(os.path.exists(path))
            self.assertIn("quarantined to corrupt/", d.log())
            send(d.port, "alice@localhost", "still flowing")
            d.wait_delivered("alice", 1)
        finally:
            self.assertEqual(d.stop(), 0)
        d.__exit__(None, None, None)


if __name__ == "__main__":
    harness.main()
