#!/usr/bin/python3
"""Program delivery: "|command" lines of forward files (docs/addressing.md "Program delivery").

One daemon on loopback with allow_program_delivery = yes and a 2 s program_timeout; the
programs are shell scripts written to the test's directory; mail goes in through SMTP.
"""
import os
import re
import smtplib
import time
import unittest

from harness import Daemon, wait_until

SCRIPTS = {
    # Saves what it got: stdin, argv, environment, working directory.
    "save": 'cat > "$HOME/got"; printf "[%s]" "$@" > "$HOME/args"; /usr/bin/env > "$HOME/env"; pwd > "$HOME/pwd"',
    "hard": 'cat >/dev/null; echo "no such list: $LOCAL" >&2; exit 100',
    "soft": 'echo "mailbox busy, try later"; exit 111',
    "stop": 'cat > "$HOME/stopped"; exit 99',
    "ok": 'cat > "$HOME/ran"; exit 0',
    "slow": 'echo started; exec /bin/sleep 30',
}


class ProgramDelivery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(mynetworks="127.0.0.0/8", recipient_delimiter="+", allow_program_delivery="yes",
                       program_timeout="2s")
        d = cls.d
        cls.bin = os.path.join(d.dir, "bin")
        os.makedirs(cls.bin)
        for name, body in SCRIPTS.items():
            path = os.path.join(cls.bin, name)
            with open(path, "w") as f:
                f.write("#!/bin/sh\n" + body + "\n")
            os.chmod(path, 0o755)
        cls.forward("piper", ".qmail-default", f"|{cls.bin}/save arg1 'two words' \"$SENDER\"\n")
        cls.forward("hardy", ".qmail", f"# a list that no longer exists\n|{cls.bin}/hard\n")
        cls.forward("softy", ".qmail", f"|{cls.bin}/soft\n")
        cls.forward("stopper", ".qmail", f"|{cls.bin}/stop\n./Maildir/\n|{cls.bin}/ok\n")
        cls.forward("goer", ".qmail", f"|{cls.bin}/ok\n./Maildir/\n")
        cls.forward("sleepy", ".qmail", f"|{cls.bin}/slow\n")
        cls.forward("typo", ".qmail", "|bin/relative --x\n")
        d.start()

    def test_root_without_user_is_warned_about(self):
        warning = "allow_program_delivery with root: forward-file programs will run as root"
        if os.geteuid() == 0:  # the tests run as root without `user`: the development mode
            self.assertIn(warning, self.d.log())
        else:
            self.assertNotIn(warning, self.d.log())

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        assert rc == 0, f"daemon exit code {rc}\n{cls.d.log()[-3000:]}"

    @classmethod
    def forward(cls, user, name, text):
        home = cls.home(user)
        os.makedirs(home, exist_ok=True)
        with open(os.path.join(home, name), "w") as f:
            f.write(text)

    @classmethod
    def home(cls, user):
        return os.path.join(cls.d.settings["mail_root"], "localhost", user)

    def send(self, sender, rcpt, data):
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10) as s:
            s.sendmail(sender, [rcpt], data)

    def log_line(self, pattern, what):
        return wait_until(lambda: re.search(pattern, self.d.log()), what=what)

    def test_message_on_stdin_argv_environment_and_cwd(self):
        msg = b"Subject: marker-save\r\n\r\nline one\r\nline two\r\n"
        self.send("poster@example.org", "piper+news@localhost", msg)
        self.log_line(r"to=<piper\+news@localhost>, relay=local, .*status=sent \(delivered to command: "
                      + re.escape(self.bin) + r"/save\)", "the program delivery")
        home = self.home("piper")
        got = open(os.path.join(home, "got"), "rb").read()
        self.assertTrue(got.startswith(b"Return-Path: <poster@example.org>\nDelivered-To: piper+news@localhost\n"
                                       b"Received: "), got[:200])
        self.assertTrue(got.endswith(b"\nSubject: marker-save\n\nline one\nline two\n"), got[-200:])
        self.assertNotIn(b"\r", got)
        # Split without a shell: "$SENDER" stays a literal word.
        self.assertEqual(open(os.path.join(home, "args")).read(), "[arg1][two words][$SENDER]")
        env = dict(l.split("=", 1) for l in open(os.path.join(home, "env")).read().splitlines())
        want = {"SENDER": "poster@example.org", "RECIPIENT": "piper+news@localhost", "LOCAL": "piper+news",
                "EXT": "news", "HOST": "localhost", "DEFAULT": "news", "HOME": os.path.abspath(home),
                "PATH": "/usr/bin:/bin"}
        self.assertEqual({k: env.get(k) for k in want}, want)
        # Nothing from the daemon's environment; only what /bin/sh itself adds.
        self.assertLessEqual(set(env) - set(want), {"PWD", "OLDPWD", "SHLVL", "_"})
        self.assertEqual(open(os.path.join(home, "pwd")).read().strip(), os.path.abspath(home))
        self.assertEqual(self.d.delivered("piper"), [])

    def test_exit_100_bounces_to_the_sender_with_the_output(self):
        self.send("hsender@localhost", "hardy@localhost", b"Subject: marker-hard\r\n\r\nx\r\n")
        [b] = wait_until(lambda: [m for m in self.d.read_delivered("hsender") if b"marker-hard" in m],
                         what="the bounce")
        self.assertIn(b"Status: 5.3.0", b)
        self.assertIn(b"program " + self.bin.encode() + b"/hard exited 100: no such list: hardy", b)
        self.assertRegex(self.d.log(), r"to=<hardy@localhost>, relay=local, .*dsn=5\.3\.0, status=bounced "
                                       r"\(program .*/hard exited 100: no such list: hardy\)")

    def test_exit_111_defers_with_the_output(self):
        self.send("ssender@localhost", "softy@localhost", b"Subject: marker-soft\r\n\r\nx\r\n")
        self.log_line(r"to=<softy@localhost>, relay=local, .*dsn=4\.3\.0, status=deferred \(program .*/soft "
                      r"exited 111: mailbox busy, try later\)", "the deferral")
        self.assertEqual([m for m in self.d.read_delivered("ssender") if b"marker-soft" in m], [])

    def test_exit_99_skips_the_rest_of_the_file(self):
        self.send("x@localhost", "stopper@localhost", b"Subject: marker-stop\r\n\r\nx\r\n")
        self.send("x@localhost", "goer@localhost", b"Subject: marker-go\r\n\r\nx\r\n")
        self.d.wait_delivered("goer", 1)  # exit 0: the next line (the maildir) runs
        self.assertTrue(os.path.exists(os.path.join(self.home("goer"), "ran")))
        self.log_line(r"to=<stopper@localhost>, relay=local, .*status=sent \(delivered to command: .*/stop\)",
                      "the exit-99 delivery")
        self.assertTrue(os.path.exists(os.path.join(self.home("stopper"), "stopped")))
        self.assertEqual(self.d.delivered("stopper"), [])
        self.assertFalse(os.path.exists(os.path.join(self.home("stopper"), "ran")))

    def test_a_program_past_the_timeout_is_killed_and_deferred(self):
        started = time.monotonic()
        self.send("x@localhost", "sleepy@localhost", b"Subject: marker-slow\r\n\r\nx\r\n")
        self.log_line(r"to=<sleepy@localhost>, relay=local, .*dsn=4\.3\.0, status=deferred \(program .*/slow "
                      r"timed out \(program_timeout\) and was killed: started\)", "the timeout")
        self.assertLess(time.monotonic() - started, 15)
        # Killed and reaped: the daemon has no child left, not even a zombie.
        self.assertEqual([p for p in os.listdir("/proc") if p.isdigit() and self.ppid(p) == self.d.proc.pid], [])

    def test_an_unusable_command_line_defers(self):
        self.send("x@localhost", "typo@localhost", b"Subject: marker-typo\r\n\r\nx\r\n")
        self.log_line(r"to=<typo@localhost>, relay=local, .*dsn=4\.3\.0, status=deferred \(unusable program line "
                      r"in forward file: program is not an absolute path", "the deferral")

    @staticmethod
    def ppid(pid):
        try:
            return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return None


class ProgramAtShutdown(unittest.TestCase):
    """SIGTERM while a program runs: after shutdown_grace the daemon kills it and exits 0."""

    def test_stop_kills_a_running_program(self):
        d = Daemon(mynetworks="127.0.0.0/8", allow_program_delivery="yes", program_timeout="60s",
                   shutdown_grace="1s")
        with d:
            home = os.path.join(d.settings["mail_root"], "localhost", "lingerer")
            os.makedirs(home)
            prog = os.path.join(d.dir, "linger")
            with open(prog, "w") as f:
                f.write('#!/bin/sh\necho $$ > "$HOME/pid"\nexec /bin/sleep 30\n')
            os.chmod(prog, 0o755)
            with open(os.path.join(home, ".qmail"), "w") as f:
                f.write(f"|{prog}\n")
            with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as s:
                s.sendmail("x@localhost", ["lingerer@localhost"], b"Subject: marker-linger\r\n\r\nx\r\n")
            pid_file = os.path.join(home, "pid")
            wait_until(lambda: os.path.exists(pid_file) and open(pid_file).read().strip(), what="the program to start")
            pid = int(open(pid_file).read())
            started = time.monotonic()
            self.assertEqual(d.stop(), 0)
            self.assertLess(time.monotonic() - started, 10)
            self.assertIn("stop grace period over", d.log())
            # Killed, not left behind: gone, or a zombie waiting for init to reap it.
            self.assertTrue(wait_until(lambda: self.gone(pid), what="the program to be killed"))
            # The message stays queued for the next start (the program's run never finished).
            self.assertTrue(any(n.startswith("env/") for n in d.queue_files()))

    @staticmethod
    def gone(pid):
        try:
            return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            return True


if __name__ == "__main__":
    from harness import main
    main()
