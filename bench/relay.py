"""Relay benchmarks' shared parts: smtp-sink peers and relay-configured MTAs.

Sinks are Postfix's smtp-sink (accept and discard, no dump), one process per
port on 127.0.0.1, stopped by PID. RelayPostrider and RelayPostfix wrap the
controllers in mta.py with relay settings: a relayhost, or per-domain routes
(postrider's transport_table, Postfix's transport_maps). Completion is counted
from each MTA's own log: one "status=sent" line per delivered recipient in both.
"""
import os
import re
import signal
import socket
import subprocess
import time

from mta import Postfix, Postrider, free_port, wait_for


class Sinks:
    """count smtp-sink processes on 127.0.0.1, each on its own free port."""

    def __init__(self, count):
        self.ports, self.procs = [], []
        for _ in range(count):
            port = free_port()
            self.procs.append(subprocess.Popen(["smtp-sink", "-u", "nobody", f"127.0.0.1:{port}", "1024"],
                                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL))
            self.ports.append(port)
        for port in self.ports:
            wait_for(lambda: _connects(port), 10, f"smtp-sink on {port}")

    def stop(self):
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            p.wait(10)


def _connects(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def count_sent(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b"status=sent")
    except FileNotFoundError:
        return 0


class RelayPostrider(Postrider):
    """postrider relaying relay_domains to a relayhost or along a transport table."""

    def __init__(self, binary, domains, relayhost=None, routes=None, extra=(), options=()):
        super().__init__(binary, options)
        self.domains, self.relayhost, self.routes, self.extra = domains, relayhost, routes, list(extra)

    def start(self):
        args = ["--relay_domains", ",".join(self.domains), "--remote_smtp_port", "25", "--retry_first", "5s",
                "--delay_warning_time", "0"] + self.extra
        if self.relayhost:
            args += ["--relayhost", self.relayhost]
        if self.routes:
            table = os.path.join(self.state, "transport")
            with open(table, "w") as f:
                f.writelines(f"{d} {hop}\n" for d, hop in self.routes.items())
            args += ["--transport_table", table]
        log = os.path.join(self.state, "postrider.log")
        self.log_path = log
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--listen", "127.0.0.1:0", "--hostname", "bench.test",
             "--queue_dir", os.path.join(self.state, "queue"), "--mail_root", os.path.join(self.state, "mail"),
             "--max_sessions_per_ip", "20000", "--max_sessions", "20000", "--recipient_limit", "100000"] + args
            + self.options,
            stdout=subprocess.DEVNULL, stderr=open(log, "wb"))
        self.port = int(wait_for(lambda: (re.search(r"listening on 127\.0\.0\.1:(\d+)", open(log).read())
                                          or [None, None])[1], 10, "postrider to listen"))

    def sent(self):
        return count_sent(self.log_path)


class RelayPostfix(Postfix):
    """Private Postfix relaying to a relayhost or along transport_maps (texthash: no postmap)."""

    def __init__(self, relayhost=None, routes=None):
        super().__init__()
        self.relayhost, self.routes = relayhost, routes

    def start(self):
        extra = ["smtpd_recipient_limit = 100000", "smtp_tls_security_level = none",
                 "smtp_dns_support_level = disabled"]
        if self.relayhost:
            extra.append(f"relayhost = {self.relayhost}")
        if self.routes:
            table = os.path.join(self.state, "transport")
            os.makedirs(self.state, exist_ok=True)
            with open(table, "w") as f:
                f.writelines(f"{d} smtp:{hop}\n" for d, hop in self.routes.items())
            extra.append(f"transport_maps = texthash:{table}")
        self.extra_main_cf = "\n".join(extra) + "\n"
        super().start()

    def sent(self):
        return count_sent(os.path.join(self.state, "maillog"))


def wait_sent(mta, n, timeout):
    """Seconds until mta logged n deliveries (monotonic time when done)."""
    wait_for(lambda: mta.sent() >= n, timeout, f"{mta.name}: {n} deliveries")
    return time.monotonic()
