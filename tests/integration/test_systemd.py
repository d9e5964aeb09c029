#!/usr/bin/python3
"""systemd integration: the unit files verify and are hardened; sd_notify READY/RELOADING/
STOPPING reach a NOTIFY_SOCKET; socket activation serves on a listener passed as fd 3."""
import configparser
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest

import harness
from harness import BIN, Client, Daemon, wait_until

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
PACKAGING = os.path.join(REPO, "packaging")
ANALYZE = shutil.which("systemd-analyze")


def unit_copy(tmp):
    """The unit files with ExecStart pointing at the build's binary (verify checks it exists)."""
    for name in ("postrider.service", "postrider.socket"):
        text = open(os.path.join(PACKAGING, name)).read().replace("/usr/sbin/postrider", os.path.abspath(BIN))
        with open(os.path.join(tmp, name), "w") as f:
            f.write(text)
    return os.path.join(tmp, "postrider.service"), os.path.join(tmp, "postrider.socket")


@unittest.skipUnless(ANALYZE, "systemd-analyze not installed (Debian package systemd)")
class Units(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="postrider-units-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_units_verify(self):
        service, sock = unit_copy(self.tmp)
        r = subprocess.run([ANALYZE, "verify", "--man=no", service, sock], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("postrider.s", r.stderr, r.stderr)  # no warning about our units

    def test_service_is_notify_and_hardened(self):
        unit = configparser.ConfigParser(strict=False, interpolation=None)
        unit.optionxform = str
        unit.read(os.path.join(PACKAGING, "postrider.service"))
        svc = unit["Service"]
        want = {"Type": "notify", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes",
                "ReadWritePaths": "/var/spool/postrider /var/mail/vhosts",
                "CapabilityBoundingSet": "CAP_NET_BIND_SERVICE",
                "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
                "SystemCallFilter": "@system-service"}
        for k, v in want.items():
            self.assertEqual(svc.get(k), v, k)
        self.assertIn("-HUP", svc["ExecReload"])

    def test_security_exposure_is_low(self):
        service, _ = unit_copy(self.tmp)
        r = subprocess.run([ANALYZE, "security", "--offline=true", "--threshold=25", "--no-pager", service],
                           capture_output=True, text=True, timeout=60)  # threshold in tenths: 2.5
        m = re.search(r"Overall exposure level for postrider.service: ([\d.]+)", r.stdout)
        self.assertTrue(m, r.stdout + r.stderr)
        print(f"systemd-analyze security: exposure {m.group(1)}")
        self.assertEqual(r.returncode, 0, r.stdout[-2000:])
        self.assertLess(float(m.group(1)), 2.5)

    def test_sysusers_and_tmpfiles_create_user_and_private_dirs(self):
        root = os.path.join(self.tmp, "root")
        os.makedirs(os.path.join(root, "etc"))
        r = subprocess.run(["systemd-sysusers", f"--root={root}", os.path.join(PACKAGING, "postrider.sysusers")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        entry = [l for l in open(os.path.join(root, "etc/passwd")) if l.startswith("postrider:")]
        self.assertEqual(len(entry), 1)
        uid = int(entry[0].split(":")[2])
        r = subprocess.run(["systemd-tmpfiles", f"--root={root}", "--create",
                            os.path.join(PACKAGING, "postrider.tmpfiles")], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        # The queue is 0710 and the maildrop 1730 for the postdrop group (security.md rule 1).
        gid = [int(l.split(":")[2]) for l in open(os.path.join(root, "etc/group")) if l.startswith("postdrop:")]
        self.assertEqual(len(gid), 1)
        for d, mode, group in (("var/spool/postrider", 0o710, gid[0]), ("var/spool/postrider/maildrop", 0o1730, gid[0]),
                               ("var/spool/postrider/maildrop/quarantine", 0o700, None), ("var/mail/vhosts", 0o700, None)):
            st = os.stat(os.path.join(root, d))
            self.assertEqual(st.st_mode & 0o7777, mode, d)
            self.assertEqual(st.st_uid, uid, d)
            if group is not None:
                self.assertEqual(st.st_gid, group, d)


class Notify(unittest.TestCase):
    def test_ready_after_bind_then_reloading_and_stopping(self):
        tmp = tempfile.mkdtemp(prefix="postrider-notify-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(path)
        sock.settimeout(15)
        old = os.environ.get("NOTIFY_SOCKET")
        os.environ["NOTIFY_SOCKET"] = path
        self.hole = harness.listening_socket(self)  # accepts TCP, never speaks
        self.hole.settimeout(15)
        try:
            d = Daemon(relay_domains="far.test", relayhost=f"[127.0.0.1]:{self.hole.getsockname()[1]}",
                       shutdown_grace="3s")
            d.start()
        finally:
            if old is None:
                del os.environ["NOTIFY_SOCKET"]
            else:
                os.environ["NOTIFY_SOCKET"] = old
        self.addCleanup(d.__exit__, None, None, None)

        def message():
            return dict(l.split("=", 1) for l in sock.recv(4096).decode().splitlines() if "=" in l)

        ready = message()
        self.assertEqual(ready.get("READY"), "1", ready)
        m = re.search(r"accepting mail on 127\.0\.0\.1:(\d+)", ready.get("STATUS", ""))
        self.assertTrue(m, ready)
        # READY=1 promises a bound listener: the advertised port answers at once.
        c = Client(int(m.group(1)))
        self.assertEqual(c.reply()[0], "220")
        c.close()

        d.proc.send_signal(signal.SIGHUP)
        reloading = message()
        self.assertEqual(reloading.get("RELOADING"), "1", reloading)
        self.assertRegex(reloading.get("MONOTONIC_USEC", ""), r"^\d+$")
        again = message()
        self.assertEqual(again.get("READY"), "1", again)
        self.assertIn("reloaded", again.get("STATUS", ""))

        # A remote delivery to a host that never greets keeps the daemon in its grace period;
        # a SIGHUP then reloads nothing (no RELOADING=1 / READY=1 after STOPPING=1).
        c = Client(int(m.group(1)))
        self.assertEqual(c.reply()[0], "220")
        for line, code in (("EHLO t.example", "250"), ("MAIL FROM:<a@localhost>", "250"),
                           ("RCPT TO:<b@far.test>", "250"), ("DATA", "354"), ("Subject: x\r\n\r\nx\r\n.", "250")):
            self.assertEqual(c.cmd(line)[0], code, line)
        c.close()
        conn, _ = self.hole.accept()  # the delivery is connected and waits for a greeting
        self.addCleanup(conn.close)
        d.proc.send_signal(signal.SIGTERM)
        stopping = message()
        self.assertEqual(stopping.get("STOPPING"), "1", stopping)
        d.proc.send_signal(signal.SIGHUP)
        sock.settimeout(1.0)
        with self.assertRaises(socket.timeout):
            print("unexpected notification after STOPPING=1:", message())
        self.assertIsNone(d.proc.poll(), "still in its grace period\n" + d.log())
        self.assertEqual(d.stop(), 0)


class SocketActivation(unittest.TestCase):
    def start_activated(self, fd_name=None):
        """Start the daemon with one listening socket as fd 3, as systemd would; returns (daemon, port)."""
        listener = harness.listening_socket(self)
        port = listener.getsockname()[1]
        d = Daemon(listen="127.0.0.1:1")  # ignored under socket activation (port 1 would fail)
        self.addCleanup(d.__exit__, None, None, None)
        with open(d.config, "w") as f:
            for k, v in d.settings.items():
                f.write(f"{k} = {v}\n")
        log = open(d.log_path, "ab")

        def child():
            harness._die_with_parent()
            os.dup2(listener.fileno(), 3)  # SD_LISTEN_FDS_START

        env = dict(os.environ, LISTEN_FDS="1")
        env.pop("LISTEN_PID", None)
        env.pop("LISTEN_FDNAMES", None)
        if fd_name:
            env["LISTEN_FDNAMES"] = fd_name  # the socket unit's FileDescriptorName=
        # LISTEN_PID must name the daemon itself: the shell sets its own PID, then execs.
        d.proc = subprocess.Popen(["/bin/sh", "-c", 'LISTEN_PID=$$ exec "$0" serve -c "$1"', BIN, d.config],
                                  stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, pass_fds=(3,),
                                  preexec_fn=child)
        wait_until(lambda: f"listening on 127.0.0.1:{port}" in d.log() or d.proc.poll() is not None,
                   what="adopted listener")
        self.assertIsNone(d.proc.poll(), d.log())
        self.assertIn("socket activation: 1 listener(s) from systemd", d.log())
        listener.close()  # the daemon has its own copy now
        d.port = port
        return d, port

    def test_serves_on_the_passed_listener(self):
        d, port = self.start_activated()
        c = Client(port)
        self.assertEqual(c.reply()[0], "220")
        self.assertEqual(c.cmd("EHLO t.example")[0], "250")
        self.assertEqual(c.cmd("QUIT")[0], "221")
        c.close()
        self.assertEqual(d.stop(), 0)

    def test_a_socket_named_submission_is_a_submission_listener(self):
        d, port = self.start_activated("submission")
        self.assertIn(f"listening on 127.0.0.1:{port} (submission)", d.log())
        c = Client(port)
        self.assertEqual(c.reply()[0], "220")
        self.assertEqual(c.cmd("EHLO t.example")[0], "250")
        self.assertEqual(c.cmd("MAIL FROM:<a@localhost>")[0], "530")  # AUTH first
        self.assertEqual(c.cmd("QUIT")[0], "221")
        c.close()
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    harness.main()
