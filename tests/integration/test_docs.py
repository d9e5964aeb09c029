#!/usr/bin/python3
"""The man pages render without warnings (groff -ww, mandoc lint, man -l)."""
import os
import shutil
import subprocess
import unittest

import harness

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
PAGES = ["docs/postrider.8", "docs/postrider.conf.5", "docs/sendmail.1"]


class ManPages(unittest.TestCase):
    def run_tool(self, argv):
        return subprocess.run(argv, capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, MANWIDTH="80", LANG="C.UTF-8"))

    @unittest.skipUnless(shutil.which("groff"), "groff not installed")
    def test_groff_has_no_warnings(self):
        for page in PAGES:
            with self.subTest(page=page):
                r = self.run_tool(["groff", "-ww", "-z", "-man", os.path.join(REPO, page)])
                self.assertEqual((r.returncode, r.stderr), (0, ""))

    @unittest.skipUnless(shutil.which("mandoc"), "mandoc not installed (Debian package mandoc)")
    def test_mandoc_lint_is_clean(self):
        for page in PAGES:
            with self.subTest(page=page):
                r = self.run_tool(["mandoc", "-T", "lint", "-W", "style", os.path.join(REPO, page)])
                self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))

    @unittest.skipUnless(shutil.which("man"), "man-db not installed")
    def test_man_renders_name_and_synopsis(self):
        for page in PAGES:
            with self.subTest(page=page):
                r = self.run_tool(["man", "-l", os.path.join(REPO, page)])
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stderr, "")
                self.assertIn("NAME", r.stdout)
                self.assertIn("SYNOPSIS", r.stdout)


if __name__ == "__main__":
    harness.main()
