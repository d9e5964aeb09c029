#!/usr/bin/python3
"""Remote delivery end to end against real peers on loopback.

dnsmasq serves MX and A records for *.test (MX hosts are 127.0.0.x); Postfix's
smtp-sink plays an MX that accepts everything; aiosmtpd plays a scripted MX
(per-recipient 550 and 451); a bare socket plays an MX that accepts TCP and
never speaks. Mail is submitted to postrider over SMTP for relay_domains.
"""
import os
import re
import shutil
import smtplib
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import Daemon, free_port, start_peer, stop_process, wait_until

from aiosmtpd.controller import Controller

SINK = "127.0.0.2"      # smtp-sink
DEAD = "127.0.0.3"      # nothing listens: connection refused
SCRIPTED = "127.0.0.4"  # aiosmtpd
HANG = "127.0.0.5"      # accepts, never greets


def port_free_on_all(port):
    for host in (SINK, DEAD, SCRIPTED, HANG):
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def pick_port():
    for _ in range(50):
        p = free_port()
        if port_free_on_all(p):
            return p
    raise AssertionError("no free port on all test addresses")


class Scripted:
    """aiosmtpd handler: 550 for reject@, 451 once for later@, 250 otherwise; records transactions."""

    def __init__(self):
        self.transactions = []  # (mail_from, [rcpts], data)
        self.mails = 0
        self.later_seen = 0
        self.lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.lock:
            self.mails += 1
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local == "reject":
            return "550 5.1.1 no such user here"
        if local == "later":
            with self.lock:
                self.later_seen += 1
                if self.later_seen == 1:
                    return "451 4.2.1 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.transactions.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 accepted"


class RemoteDelivery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="postrider-remote-")
        cls.smtp_port = pick_port()
        cls.dns_port = free_port()
        cls.procs = []
        dns = [
            "dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--pid-file", f"--port={cls.dns_port}",
            "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
            "--local=/test/", "--log-facility=-",
            "--mx-host=ok.test,mx.ok.test,10", f"--host-record=mx.ok.test,{SINK}",
            "--mx-host=fallback.test,mx1.fallback.test,10", f"--host-record=mx1.fallback.test,{DEAD}",
            "--mx-host=fallback.test,mx2.fallback.test,20", f"--host-record=mx2.fallback.test,{SINK}",
            "--mx-host=scripted.test,mx.scripted.test,10", f"--host-record=mx.scripted.test,{SCRIPTED}",
            "--mx-host=hang.test,mx.hang.test,10", f"--host-record=mx.hang.test,{HANG}",
            "--mx-host=nullmx.test,.,0",
            f"--host-record=implicit.test,{SINK}",  # no MX: RFC 5321 implicit MX
        ]
        cls.procs.append(start_peer(dns, log_path=os.path.join(cls.tmp, "dnsmasq.log")))
        cls.sink_dir = os.path.join(cls.tmp, "sink")
        os.mkdir(cls.sink_dir)
        sink = ["smtp-sink", "-u", "nobody", "-d", os.path.join(cls.sink_dir, "%M."), f"{SINK}:{cls.smtp_port}", "100"]
        os.chmod(cls.tmp, 0o755)  # smtp-sink runs as nobody and must reach sink_dir
        os.chmod(cls.sink_dir, 0o777)
        cls.procs.append(start_peer(sink, log_path=os.path.join(cls.tmp, "sink.log")))
        cls.hang = socket.socket()
        cls.hang.bind((HANG, cls.smtp_port))
        cls.hang.listen(16)
        cls.scripted = Scripted()
        cls.controller = Controller(cls.scripted, hostname=SCRIPTED, port=cls.smtp_port)
        cls.controller.start()
        wait_until(lambda: cls._dns_ready(), what="dnsmasq")
        wait_until(lambda: cls._connects(SINK), what="smtp-sink")
        cls.d = Daemon(
            relay_domains="ok.test fallback.test scripted.test hang.test nullmx.test nx.test implicit.test",
            dns_servers=f"127.0.0.1:{cls.dns_port}", remote_smtp_port=cls.smtp_port,
            remote_command_timeout="2s", remote_connect_timeout="2s", retry_first="1s", retry_max="2s",
            remote_host_down_time="60s", delay_warning_time="0")
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        cls.controller.stop()
        cls.hang.close()
        for p in cls.procs:
            stop_process(p)
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert rc == 0, f"daemon exit code {rc}\n{cls.d.log()}"

    @classmethod
    def _dns_ready(cls):
        out = subprocess.run(["dig", "+short", "+time=1", "+tries=1", "-p", str(cls.dns_port), "@127.0.0.1",
                              "mx.ok.test"], capture_output=True, text=True) if shutil.which("dig") else None
        if out is not None:
            return SINK in out.stdout
        return cls._udp_listening()

    @classmethod
    def _udp_listening(cls):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.2)
            return s.connect_ex(("127.0.0.1", cls.dns_port)) == 0

    @staticmethod
    def _connects(host):
        with socket.socket() as s:
            s.settimeout(0.2)
            return s.connect_ex((host, RemoteDelivery.smtp_port)) == 0

    def send(self, sender, rcpts, body):
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10) as s:
            s.sendmail(sender, rcpts, body)

    def sink_files(self):
        return sorted(os.listdir(self.sink_dir))

    def sink_containing(self, marker):
        found = []
        for n in self.sink_files():
            with open(os.path.join(self.sink_dir, n), "rb") as f:
                if marker.encode() in f.read():
                    found.append(n)
        return found

    def bounces_for(self, user, marker):
        return [m for m in self.d.read_delivered(user) if marker.encode() in m]

    def test_mx_delivery_to_smtp_sink_with_dot_stuffing(self):
        body = "Subject: mx-ok\r\n\r\nline one\r\n.leading dot\r\n..two dots\r\n"
        self.send("alice@localhost", ["bob@ok.test", "carol@ok.test"], body)
        files = wait_until(lambda: self.sink_containing("mx-ok"), timeout=20, what="sink delivery")
        self.assertEqual(len(files), 1, "both recipients in one transaction, delivered once")
        with open(os.path.join(self.sink_dir, files[0]), "rb") as f:
            dump = f.read()
        self.assertIn(b"bob@ok.test", dump)
        self.assertIn(b"carol@ok.test", dump)
        self.assertIn(b"\n.leading dot", dump)  # stuffed on the wire, unstuffed by the sink
        self.assertIn(b"\n..two dots", dump)
        # The relay may name another MX host of the same address: connections are cached per address.
        wait_until(lambda: re.search(r"to=<bob@ok\.test>, relay=[a-z0-9.]+\[127\.0\.0\.2\]:\d+, .*status=sent",
                                     self.d.log()), what="sent log line")

    def test_implicit_mx(self):
        self.send("alice@localhost", ["x@implicit.test"], "Subject: implicit-mx\r\n\r\nhi\r\n")
        wait_until(lambda: self.sink_containing("implicit-mx"), timeout=20, what="implicit MX delivery")

    def test_dead_mx_falls_back_and_is_remembered(self):
        self.send("alice@localhost", ["y@fallback.test"], "Subject: fallback-1\r\n\r\nhi\r\n")
        wait_until(lambda: self.sink_containing("fallback-1"), timeout=20, what="delivery via the second MX")
        self.assertIn(f"remote host {DEAD}:{self.smtp_port} marked down", self.d.log())
        self.send("alice@localhost", ["z@fallback.test"], "Subject: fallback-2\r\n\r\nhi\r\n")
        wait_until(lambda: self.sink_containing("fallback-2"), timeout=20, what="second delivery")
        self.assertEqual(self.d.log().count(f"remote host {DEAD}:{self.smtp_port} marked down"), 1,
                         "the downed host was skipped, not retried")

    def test_partial_failure_bounces_only_the_failed_recipient(self):
        self.send("carol@localhost", ["good@scripted.test", "reject@scripted.test"],
                  "Subject: partial-550\r\n\r\nhi\r\n")
        bounce = wait_until(lambda: self.bounces_for("carol", "reject@scripted.test"), timeout=20, what="bounce")[0]
        self.assertIn(b"5.1.1", bounce)
        self.assertIn(b"no such user here", bounce)
        self.assertNotIn(b"good@scripted.test", bounce.split(b"Content-Type: text/rfc822-headers")[0])
        got = [t for t in self.scripted.transactions if b"partial-550" in t[2]]
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0][1], ["good@scripted.test"])

    def test_4xx_is_retried(self):
        self.send("alice@localhost", ["later@scripted.test"], "Subject: retry-451\r\n\r\nhi\r\n")
        wait_until(lambda: [t for t in self.scripted.transactions if b"retry-451" in t[2]], timeout=30,
                   what="delivery after the retry")
        log = self.d.log()
        self.assertIn("to=<later@scripted.test>, relay=mx.scripted.test", log)
        self.assertIn("451 4.2.1 try again later", log)
        self.assertGreaterEqual(self.scripted.later_seen, 2)

    def test_null_mx_bounces(self):
        self.send("dave@localhost", ["u@nullmx.test"], "Subject: null-mx\r\n\r\nhi\r\n")
        bounce = wait_until(lambda: self.bounces_for("dave", "u@nullmx.test"), timeout=20, what="null MX bounce")[0]
        self.assertIn(b"5.1.10", bounce)

    def test_nxdomain_bounces(self):
        self.send("erin@localhost", ["u@nx.test"], "Subject: nxdomain\r\n\r\nhi\r\n")
        bounce = wait_until(lambda: self.bounces_for("erin", "u@nx.test"), timeout=20, what="NXDOMAIN bounce")[0]
        self.assertIn(b"5.1.2", bounce)

    def test_hanging_server_times_out_and_others_are_unaffected(self):
        start = time.monotonic()
        self.send("frank@localhost", ["h@hang.test", "w@ok.test"], "Subject: hang-and-ok\r\n\r\nhi\r\n")
        wait_until(lambda: self.sink_containing("hang-and-ok"), timeout=20, what="ok.test delivery")
        self.assertLess(time.monotonic() - start, 2.0, "ok.test waited for the hanging domain")
        wait_until(lambda: "to=<h@hang.test>" in self.d.log() and "greeting failed: timeout" in self.d.log(),
                   timeout=20, what="hang.test deferred after the greeting timeout")
        self.assertNotIn(b"h@hang.test", b"".join(self.d.read_delivered("frank")))


if __name__ == "__main__":
    harness.main()
