"""Integration-test harness: the real postrider binary on loopback.

Each Daemon gets its own temporary state directory and configuration file,
listens on 127.0.0.1 port 0 (the kernel picks a free port; we read it back from
the log), and is stopped by PID. Peers started by tests get PR_SET_PDEATHSIG so
a crashed test leaves nothing running, and their output never goes to our stdout.
"""
import ctypes
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

BIN = os.environ.get("POSTRIDER_BIN", os.path.join(os.path.dirname(__file__), "../../build/src/postrider"))
_libc = ctypes.CDLL("libc.so.6", use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def wait_until(predicate, timeout=10.0, step=0.02, what="condition"):
    """Poll predicate until true; bounded in time. Returns its last value or raises."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def vm_kib(pid, field):
    """A memory figure of a process in KiB from /proc/PID/status (VmRSS, VmHWM, ...)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_socket(test, backlog=16):
    """A TCP socket listening on 127.0.0.1 (free port) that never speaks: a busy port, a
    black-hole server, or a listener to pass to the daemon. Closed when test ends."""
    s = socket.socket()
    test.addCleanup(s.close)
    s.bind(("127.0.0.1", 0))
    s.listen(backlog)
    return s


def flood(test, port, count=120):
    """Open up to count idle connections to port (bounded; stops at the first refusal),
    closed when the test ends; for descriptor-exhaustion tests."""
    conns = []
    for _ in range(count):
        try:
            conns.append(socket.create_connection(("127.0.0.1", port), timeout=2))
        except OSError:
            break
    test.addCleanup(lambda: [c.close() for c in conns])
    return conns


def start_peer(argv, env=None, log_path=None):
    """Start a helper process (sink, DNS...) that dies with us; output to a file."""
    out = open(log_path or os.devnull, "wb")
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                            env=env, preexec_fn=_die_with_parent)


def stop_process(proc, timeout=15.0):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode


def make_certificate(directory, name="c", san="DNS:localhost", cn="localhost"):
    """Self-signed P-256 certificate (TOOLCHAIN.md 5); returns (cert, key) paths."""
    cert, key = os.path.join(directory, f"{name}.pem"), os.path.join(directory, f"{name}-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", f"/CN={cn}",
                    "-addext", f"subjectAltName={san}"], check=True, capture_output=True)
    return cert, key


def listening_ports(log, start=0):
    """Every 'listening on 127.0.0.1:PORT[ (kind)]' line of a daemon log: {kind or 'smtp': [ports]}."""
    out = {}
    for m in re.finditer(r"listening on 127\.0\.0\.1:(\d+)(?: \(([^)]*)\))?", log[start:]):
        out.setdefault(m.group(2) or "smtp", []).append(int(m.group(1)))
    return out



def journal_live(queue_dir):
    """Ids of the messages in queue_dir/journal/ segments without a done record (docs/queue-format.md
    "Journal"): message records (type 4) minus done records (type 6); a cut record ends a segment."""
    live = set()
    jdir = os.path.join(queue_dir, "journal")
    for name in sorted(os.listdir(jdir)) if os.path.isdir(jdir) else []:
        try:
            data = open(os.path.join(jdir, name), "rb").read()
        except FileNotFoundError:  # retired meanwhile
            continue
        at = 0
        while at + 9 <= len(data) and data[at] != 0:
            length = int.from_bytes(data[at + 1:at + 5], "little")
            if at + 9 + length > len(data):
                break
            idlen = int.from_bytes(data[at + 5:at + 9], "little")
            qid = data[at + 9:at + 9 + idlen].decode("ascii", "replace")
            if data[at] == 4:
                live.add(qid)
            elif data[at] == 6:
                live.discard(qid)
            at += 9 + length
    return live

class Daemon:
    """postrider serve with a private state dir; use as a context manager."""

    def __init__(self, nofile=None, **settings):
        self.nofile = nofile  # RLIMIT_NOFILE for the daemon (descriptor-exhaustion tests)
        self.dir = tempfile.mkdtemp(prefix="postrider-it-")
        self.settings = {
            "hostname": "mx.test",
            "listen": "127.0.0.1:0",
            "queue_dir": os.path.join(self.dir, "queue"),
            "mail_root": os.path.join(self.dir, "mail"),
            "local_domains": "localhost",
            "log_level": "debug",
        }
        self.settings.update({k: str(v) for k, v in settings.items()})
        self.config = os.path.join(self.dir, "postrider.conf")
        self.log_path = os.path.join(self.dir, "postrider.log")
        self.proc = None
        self.port = None
        self.log_start = 0  # offset of this run's first line in the log

    def write_table(self, setting, text):
        """Write text to a file in the state dir named after setting (alias_table, transport_table,
        ...) and point the setting at it; returns the path. Call before start (or reload)."""
        path = os.path.join(self.dir, setting)
        with open(path, "w") as f:
            f.write(text)
        self.settings[setting] = path
        return path

    def start_with_peers(self, *peers):
        """start(); when that fails, stop the peers started for this daemon (ScriptedMX) too."""
        try:
            self.start()
        except BaseException:
            for p in peers:
                p.stop()
            raise

    def stop_with_peers(self, *peers):
        """stop(), then the peers; asserts the daemon exited 0 (its log tail in the message)."""
        rc = self.stop()
        for p in peers:
            p.stop()
        assert rc == 0, f"daemon exit code {rc}\n{self.log()[-3000:]}"

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        if not exc[0]:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            sys.stderr.write(f"[harness] kept {self.dir}; log tail:\n{self.log()[-3000:]}\n")

    def start(self):
        with open(self.config, "w") as f:
            for k, v in self.settings.items():
                f.write(f"{k} = {v}\n")
        log = open(self.log_path, "ab")
        start_offset = self.log_start = log.tell()  # a restart appends: read the port from this run's lines only
        def child_setup():
            _die_with_parent()
            if self.nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))

        self.proc = subprocess.Popen([BIN, "serve", "-c", self.config], stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log, preexec_fn=child_setup)

        def bound():
            if self.proc.poll() is not None:
                raise AssertionError(f"postrider exited with {self.proc.returncode}:\n{self.log()}")
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", self.log()[start_offset:])
            return int(m.group(1)) if m else None

        self.port = wait_until(bound, what="postrider to listen")

    def listener_port(self, kind):
        """This run's first port of a listener kind ('implicit TLS', 'submission'), once it listens."""
        return wait_until(lambda: listening_ports(self.log(), self.log_start).get(kind, [None])[0],
                          what=f"the {kind} listener")

    def stop(self):
        return stop_process(self.proc) if self.proc else None

    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def maildir(self, user, domain="localhost"):
        return os.path.join(self.settings["mail_root"], domain, user, "Maildir")

    def delivered(self, user, domain="localhost"):
        new = os.path.join(self.maildir(user, domain), "new")
        return sorted(os.listdir(new)) if os.path.isdir(new) else []

    def read_delivered(self, user, domain="localhost"):
        new = os.path.join(self.maildir(user, domain), "new")
        return [open(os.path.join(new, n), "rb").read() for n in self.delivered(user, domain)]

    def read_delivered_wait(self, user, count, domain="localhost"):
        self.wait_delivered(user, count, domain)
        return self.read_delivered(user, domain)

    def wait_delivered(self, user, count, domain="localhost", timeout=20.0):
        return wait_until(lambda: len(self.delivered(user, domain)) >= count and self.delivered(user, domain),
                          timeout=timeout, what=f"{count} deliveries to {user}@{domain}")

    def queued_ids(self):
        """Queue ids of the messages queued as classic files (mess/) or live in the journal."""
        q = self.settings["queue_dir"]
        ids = set(os.listdir(os.path.join(q, "mess"))) if os.path.isdir(os.path.join(q, "mess")) else set()
        return ids | journal_live(q)

    def queue_files(self):
        out = []
        for sub in ("mess", "env", "journal"):
            d = os.path.join(self.settings["queue_dir"], sub)
            if os.path.isdir(d):
                out += [os.path.join(sub, n) for n in os.listdir(d)]
        return out


class RelayedDaemonCase(unittest.TestCase):
    """One daemon for the whole class, its remote mail relayed to a ScriptedMX on loopback
    (relayhost [127.0.0.1]:PORT; DNS points at a dead port, so nothing else is reached).
    A subclass sets mx_keywords (the EHLO keywords), mx_options (more ScriptedMX arguments)
    and daemon_settings (more settings)."""
    mx_keywords = ["PIPELINING", "8BITMIME"]
    mx_options = {}
    daemon_settings = {}

    @classmethod
    def setUpClass(cls):
        from scripted_mx import ScriptedMX  # here: crash_harness imports this module too
        cls.mx = ScriptedMX("127.0.0.1", 0, cls.mx_keywords, **cls.mx_options)
        port = cls.mx.sock.getsockname()[1]
        cls.d = Daemon(relayhost=f"[127.0.0.1]:{port}", dns_servers="127.0.0.1:9", **cls.daemon_settings)
        cls.d.start_with_peers(cls.mx)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop_with_peers(cls.mx)
        shutil.rmtree(cls.d.dir, ignore_errors=True)


class Client:
    """A raw SMTP client that sends exact bytes and reads whole replies."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def reply(self):
        """One (possibly multiline) reply: (code, [lines]). ('', []) on EOF."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return ("", lines)
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            text = line.decode("utf-8", "replace")
            lines.append(text)
            if len(text) < 4 or text[3] != "-":
                return (text[:3], lines)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def closed_by_peer(self, timeout=5.0):
        self.sock.settimeout(timeout)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False


def main():
    """Run the calling module's tests; print 'N passed, N failed'; exit non-zero on failure."""
    module = sys.modules["__main__"]
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 and result.testsRun > 0 else 1)
