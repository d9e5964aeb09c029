#!/usr/bin/python3
"""The command line: check-config, help, version, argv[0] dispatch, clean stop on SIGTERM."""
import glob
import os
import subprocess
import tempfile
import unittest

import harness
from harness import BIN, Client, Daemon

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
EXAMPLES = os.path.join(REPO, "examples")


def run(*args, **kw):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=30, **kw)


class Cli(unittest.TestCase):
    def test_usage_and_version(self):
        self.assertEqual(run().returncode, 64)  # EX_USAGE
        self.assertEqual(run("frobnicate").returncode, 64)
        v = run("version")
        self.assertEqual(v.returncode, 0)
        self.assertRegex(v.stdout, r"^postrider \d+\.\d+\.\d+")
        h = run("serve", "--help")
        self.assertEqual(h.returncode, 0)
        self.assertIn("message_size_limit", h.stdout)

    def test_check_config_accepts_defaults_and_examples(self):
        self.assertEqual(run("check-config").returncode, 0)
        examples = glob.glob(os.path.join(EXAMPLES, "*.conf"))
        self.assertTrue(examples, "no example configurations found")
        for conf in examples:
            with self.subTest(conf=conf):
                r = run("check-config", "-c", conf, cwd=REPO)  # example paths are repo-relative
                self.assertEqual(r.returncode, 0, r.stderr)

    def test_check_config_reports_each_mistake(self):
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write("listen = 127.0.0.1:99999\nrecipient_limit = 10\ncommand_timeout = soon\nverp_delimiters = +.\n")
        self.addCleanup(os.unlink, f.name)
        r = run("check-config", "-c", f.name)
        self.assertEqual(r.returncode, 78)  # EX_CONFIG
        self.assertIn("listen", r.stderr)
        self.assertIn("recipient_limit", r.stderr)
        self.assertIn("command_timeout", r.stderr)
        self.assertIn("verp_delimiters", r.stderr)
        self.assertIn(f.name, r.stderr)

    def test_check_config_rejects_unknown_option(self):
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write("no_such_option = 1\n")
        self.addCleanup(os.unlink, f.name)
        r = run("check-config", "-c", f.name)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no_such_option", r.stderr)

    def test_environment_overrides_file(self):
        env = dict(os.environ, POSTRIDER_RECIPIENT_LIMIT="5")
        r = run("check-config", env=env)
        self.assertEqual(r.returncode, 78)
        self.assertIn("recipient_limit", r.stderr)

    def test_check_config_names_an_unknown_postdrop_group(self):
        env = dict(os.environ, POSTRIDER_POSTDROP_GROUP="no-such-group-pr7")
        r = run("check-config", env=env)
        self.assertEqual(r.returncode, 78)
        self.assertIn("postdrop_group: no such group: no-such-group-pr7", r.stderr)
        self.assertEqual(run("check-config", env=dict(os.environ, POSTRIDER_POSTDROP_GROUP="root")).returncode, 0)

    def test_port_in_use_refuses_to_start_with_one_clear_line(self):
        port = harness.listening_socket(self).getsockname()[1]
        with tempfile.TemporaryDirectory() as tmp:
            for flag, setting in (("--listen", "listen"), ("--metrics_listen", "metrics_listen")):
                with self.subTest(setting=setting):
                    args = ["serve", "--queue_dir", tmp + "/q", "--mail_root", tmp + "/m", flag, f"127.0.0.1:{port}"]
                    if setting == "metrics_listen":
                        args += ["--listen", "127.0.0.1:0"]
                    r = run(*args)
                    self.assertEqual(r.returncode, 69, r.stderr)  # EX_UNAVAILABLE
                    errors = [l for l in r.stderr.splitlines() if " error: " in l]
                    self.assertEqual(len(errors), 1, r.stderr)
                    self.assertTrue(errors[0].endswith(f"error: fatal: {setting} 127.0.0.1:{port}: Address already in use"),
                                    errors[0])

    def test_sigterm_with_idle_session_exits_zero(self):
        d = Daemon()
        d.start()
        c = Client(d.port)
        self.assertEqual(c.reply()[0], "220")
        d.proc.send_signal(15)
        code, lines = c.reply()
        self.assertEqual(code, "421", lines)
        self.assertIn("4.3.2", lines[0])
        c.close()
        self.assertEqual(d.stop(), 0)
        d.__exit__(None, None, None)


if __name__ == "__main__":
    harness.main()
