#!/usr/bin/python3
"""Metrics and health: scrape /metrics after real traffic, check it with promtool (Debian's
prometheus package) and a strict parser of the text format; /healthz; /readyz turns 503 on SIGTERM."""
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import unittest
import urllib.error
import urllib.request

import harness
from harness import Client, Daemon, wait_until

PROMTOOL = shutil.which("promtool")
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\\\|\\"|\\n)*"'
SAMPLE = re.compile(rf"^({NAME})(\{{{LABEL}(?:,{LABEL})*\}})? (-?[0-9.e+]+|\+Inf|-Inf|NaN)$")


def parse_exposition(text):
    """Strict enough for our output: every family has HELP then TYPE before its samples,
    samples belong to the declared family, histograms have cumulative buckets ending in +Inf."""
    assert text.endswith("\n"), "no final newline"
    families, samples, current = {}, [], None
    for line in text.split("\n")[:-1]:
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            assert name not in families, f"family {name} declared twice"
            families[name] = None
            current = name
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name == current and kind in ("counter", "gauge", "histogram"), line
            families[name] = kind
        else:
            m = SAMPLE.match(line)
            assert m, f"bad sample line: {line!r}"
            name = m.group(1)
            base = re.sub(r"_(bucket|sum|count)$", "", name) if families.get(current) == "histogram" else name
            assert base == current, f"sample {name} outside its family {current}"
            samples.append((name, m.group(2) or "", float(m.group(3))))
    for name, kind in families.items():
        assert kind, f"family {name} has no TYPE"
    return families, samples


def value(samples, name, labels=""):
    for n, l, v in samples:
        if n == name and l == labels:
            return v
    return None


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def recv_all(s):
    """Everything until the endpoint closes; a reset (it closed with our request unread) ends it too."""
    data = b""
    try:
        while chunk := s.recv(4096):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def ask(port, request):
    """One raw request; the raw answer (b"" when the endpoint closed without one)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            return b""
        return recv_all(s)


def send(d, rcpt):
    c = Client(d.port)
    c.reply()
    c.cmd("EHLO t.example")
    c.cmd("MAIL FROM:<s@localhost>")
    assert c.cmd(f"RCPT TO:<{rcpt}>")[0] == "250"
    c.cmd("DATA")
    assert c.cmd("Subject: m\r\n\r\nbody\r\n.")[0] == "250"
    c.cmd("QUIT")
    c.close()


class Metrics(unittest.TestCase):
    def setUp(self):
        # A black hole relayhost: TCP connects, no greeting ever comes; remote mail is in flight
        # for remote_command_timeout, then deferred.
        self.hole = harness.listening_socket(self)
        self.d = Daemon(metrics_listen="127.0.0.1:0", relay_domains="far.test", remote_command_timeout="3s",
                        relayhost=f"[127.0.0.1]:{self.hole.getsockname()[1]}")
        self.d.start()
        self.addCleanup(self.d.__exit__, None, None, None)
        m = wait_until(lambda: re.search(r"metrics: listening on 127\.0\.0\.1:(\d+)", self.d.log()),
                       what="metrics endpoint")
        self.port = int(m.group(1))

    def test_scrape_after_traffic_passes_promtool_and_counts_it(self):
        send(self.d, "ann@localhost")
        send(self.d, "ben@far.test")
        self.d.wait_delivered("ann", 1)
        wait_until(lambda: re.search(r"to=<ben@far\.test>.*status=deferred", self.d.log()), what="deferral")
        status, text = get(self.port, "/metrics")
        self.assertEqual(status, 200)
        families, samples = parse_exposition(text)
        self.assertEqual(families["postrider_commit_duration_seconds"], "histogram")
        self.assertEqual(value(samples, "postrider_deliveries_total", '{result="sent",transport="local"}'), 1)
        self.assertEqual(value(samples, "postrider_deliveries_total", '{result="deferred",transport="remote"}'), 1)
        self.assertEqual(value(samples, "postrider_commits_total", '{result="ok"}'), 2)
        self.assertEqual(value(samples, "postrider_commit_duration_seconds_count"), 2)
        self.assertEqual(value(samples, "postrider_commit_duration_seconds_bucket", '{le="+Inf"}'), 2)
        self.assertEqual(value(samples, "postrider_delivery_duration_seconds_count", '{transport="local"}'), 1)
        self.assertEqual(value(samples, "postrider_queue_recipients", '{state="deferred",destination="far.test"}'), 1)
        self.assertEqual(value(samples, "postrider_queue_messages"), 1)
        self.assertGreaterEqual(value(samples, "postrider_sessions_total"), 2)
        # Two commits and a maildir copy (one round before its rename, one after): rounds happened.
        self.assertGreaterEqual(value(samples, "postrider_flush_rounds_total"), 2)
        if PROMTOOL:
            r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        else:
            self.skipTest("promtool not installed (Debian package prometheus); strict parser passed")

    def test_health_and_readiness(self):
        self.assertEqual(get(self.port, "/healthz"), (200, "ok\n"))
        self.assertEqual(get(self.port, "/readyz"), (200, "ready\n"))
        self.assertEqual(get(self.port, "/nope")[0], 404)
        # A delivery in flight keeps the daemon in its grace period after SIGTERM: not ready, still healthy.
        send(self.d, "x@far.test")
        active = '{state="active",destination="far.test"}'
        wait_until(lambda: value(parse_exposition(get(self.port, "/metrics")[1])[1], "postrider_queue_recipients",
                                 active) == 1, what="delivery in flight")
        self.d.proc.send_signal(signal.SIGTERM)
        wait_until(lambda: get(self.port, "/readyz")[0] == 503, what="not ready")
        self.assertEqual(get(self.port, "/readyz"), (503, "stopping\n"))
        self.assertEqual(get(self.port, "/healthz")[0], 200)
        self.assertEqual(self.d.stop(), 0)
        self.assertEqual(len(self.d.queue_files()), 2)  # the deferred message stays queued, whole

    def test_garbage_request_is_refused_and_the_endpoint_lives_on(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"\x00\xffNOT HTTP\r\n\r\n")
            s.settimeout(5)
            data = recv_all(s)
        self.assertNotIn(b"postrider_", data)
        self.assertEqual(get(self.port, "/healthz")[0], 200)

    def test_request_over_the_size_cap_gets_no_answer(self):
        # metrics/http.cpp: 8 KiB per request. The same request padded to just under the cap
        # is served, padded past it is dropped unanswered, and the endpoint lives on.
        def padded(total):
            head = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Pad: "
            return head + b"a" * (total - len(head) - 4) + b"\r\n\r\n"
        self.assertTrue(ask(self.port, padded(8000)).startswith(b"HTTP/1.1 200"))
        self.assertEqual(ask(self.port, padded(8300)), b"")
        self.assertEqual(get(self.port, "/healthz")[0], 200)

    def test_connection_cap_and_request_deadline(self):
        # At most 8 connections at once; a ninth is closed unanswered. Each connection has
        # 5 s for its request: silent ones are closed then, and the endpoint serves again.
        idle = [socket.create_connection(("127.0.0.1", self.port), timeout=15) for _ in range(8)]
        for s in idle:
            self.addCleanup(s.close)
        start = time.monotonic()
        self.assertEqual(ask(self.port, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"), b"")
        for s in idle:
            self.assertEqual(recv_all(s), b"")  # closed by the deadline (socket.timeout otherwise)
        elapsed = time.monotonic() - start
        self.assertGreater(elapsed, 3.5)
        self.assertLess(elapsed, 12)
        self.assertEqual(get(self.port, "/healthz")[0], 200)



def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class MetricsOutOfDescriptors(unittest.TestCase):
    def test_a_scrape_while_out_of_descriptors_does_not_spin(self):
        # An SMTP flood uses up the descriptors; a scraper then connects. Its accept fails
        # with EMFILE on a socket that stays readable: the endpoint must back off like the
        # SMTP listeners (net::listener), not retry at once on the daemon's one thread.
        with Daemon(nofile=48, max_sessions=1000, max_sessions_per_ip=1000, metrics_listen="127.0.0.1:0") as d:
            m = wait_until(lambda: re.search(r"metrics: listening on 127\.0\.0\.1:(\d+)", d.log()),
                           what="metrics endpoint")
            port = int(m.group(1))
            flood = harness.flood(self, d.port)  # the kernel backlog holds what is not accepted
            wait_until(lambda: "backing off" in d.log(), timeout=10, what="the SMTP accept back-off")
            scraper = socket.create_connection(("127.0.0.1", port), timeout=2)
            self.addCleanup(scraper.close)
            time.sleep(0.5)  # the endpoint has tried to accept it by now
            cpu0, t0 = cpu_seconds(d.proc.pid), time.monotonic()
            time.sleep(2.0)
            busy = (cpu_seconds(d.proc.pid) - cpu0) / (time.monotonic() - t0)
            self.assertLess(busy, 0.5, f"daemon used {busy:.0%} of a CPU while out of descriptors")
            self.assertIn(f"accept on {port} failed", d.log())  # the back-off's one warning
            for s in flood:
                s.close()
            def healthy():
                try:
                    return get(port, "/healthz")[0] == 200
                except OSError:  # urllib's URLError too: the endpoint may still be catching up
                    return False
            wait_until(healthy, timeout=30, step=0.2, what="the endpoint back")


if __name__ == "__main__":
    harness.main()
