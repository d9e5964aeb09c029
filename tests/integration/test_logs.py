#!/usr/bin/python3
"""Event logs of a real session: valid JSON on every line, Postfix-style fields, escaping, caps."""
import json
import os
import re
import unittest

import harness
from harness import Client, Daemon, wait_until

# A HELO name with a quote, a backslash, control bytes and an invalid UTF-8 byte.
NASTY_HELO = b'evil"\\\x01\x1b[31m\xff' + b"x" * 400


def session(d, rcpts, bad_helo=None):
    """One SMTP transaction (after a refused bad_helo, if given); returns the queue id."""
    c = Client(d.port)
    try:
        assert c.reply()[0] == "220"
        if bad_helo:
            c.send(b"EHLO " + bad_helo + b"\r\n")
            assert c.reply()[0] == "501"
        assert c.cmd("EHLO client.test")[0] == "250"
        assert c.cmd("MAIL FROM:<sender@localhost>")[0] == "250"
        for r in rcpts:
            code, lines = c.cmd(f"RCPT TO:<{r}>")
            assert code == "250", lines
        assert c.cmd("DATA")[0] == "354"
        code, lines = c.cmd("Subject: log test\r\n\r\nbody\r\n.")
        assert code == "250", lines
        assert c.cmd("QUIT")[0] == "221"
        m = re.search(r"queued as (\S+)", lines[-1])
        assert m, lines
        return m.group(1)
    finally:
        c.close()


class JsonLog(unittest.TestCase):
    def test_every_line_is_json_and_keyed(self):
        with Daemon(log_format="json") as d:
            qid = session(d, ["bob@localhost", "carol@localhost"], bad_helo=NASTY_HELO)
            d.wait_delivered("bob", 1)
            d.wait_delivered("carol", 1)
            wait_until(lambda: f'"id":"{qid}","msg":"removed"' in d.log(), what="removal logged")
            self.assertEqual(d.stop(), 0)
            raw = open(d.log_path, "rb").read()
        lines = raw.split(b"\n")
        self.assertEqual(lines[-1], b"")  # every line ends in a newline
        events = []
        for line in lines[:-1]:
            with self.subTest(line=line[:120]):
                self.assertLessEqual(len(line), 4096 + 200)  # the cap, plus ts/level wrapping
                obj = json.loads(line.decode("utf-8"))  # strict: bytes must be UTF-8, JSON valid
                self.assertRegex(obj["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
                self.assertIn(obj["level"], ("debug", "info", "warning", "error"))
                events.append(obj)
        self.assertGreater(len(events), 8)
        by_id = {}
        for e in events:
            by_id.setdefault(e.get("id"), []).append(e["msg"])
        mine = by_id.get(qid, [])
        self.assertTrue(any(re.fullmatch(r"client=\[127\.0\.0\.1\] session=S\S+ size=\d+ nrcpt=2", m) for m in mine), mine)
        self.assertTrue(any(m.startswith("from=<sender@localhost>, size=") and "nrcpt=2" in m for m in mine), mine)
        sent = [m for m in mine if m.startswith("to=<")]
        self.assertEqual(len(sent), 2, mine)
        for m in sent:
            self.assertRegex(m, r"^to=<(bob|carol)@localhost>, relay=local, delay=[\d.]+, "
                                r"delays=[\d.]+/[\d.]+/0/[\d.]+, dsn=2\.0\.0, status=sent \(delivered to maildir\)$")
        # The session's own lines: connect, the escaped and capped HELO, disconnect.
        sessions = [k for k, msgs in by_id.items() if k and k.startswith("S")
                    and any(m.startswith("connect from [127.0.0.1]:") for m in msgs)]
        self.assertEqual(len(sessions), 1, by_id.keys())
        smsgs = by_id[sessions[0]]
        self.assertTrue(any(m.startswith("disconnect from [127.0.0.1] reason=") for m in smsgs), smsgs)
        helo = [m for m in smsgs if "evil" in m]
        self.assertTrue(helo, smsgs)
        self.assertIn('evil\\"\\\\\\x01\\x1b[31m\\xff', helo[0])  # core::escape's text, decoded once by JSON
        self.assertLess(len(helo[0]), 400)  # 400 x's were capped at the field limit


class TextLog(unittest.TestCase):
    def test_postfix_style_lines(self):
        d = Daemon()
        d.settings["queue_dir"] = os.path.join(d.dir, "my queue")  # a blank: the value gets logfmt quotes
        with d:
            qid = session(d, ["dave@localhost"])
            started = re.search(r"postrider started hostname=mx\.test queue_dir=(\S.*?) mail_root=(\S+)$", d.log(), re.M)
            self.assertTrue(started, d.log())
            self.assertEqual(started.group(1), '"' + d.settings["queue_dir"] + '"')
            self.assertEqual(started.group(2), d.settings["mail_root"])
            d.wait_delivered("dave", 1)
            line = wait_until(lambda: re.search(rf"^\S+ postrider\[\d+\] info: {qid}: to=<dave@localhost>.*$",
                                                d.log(), re.M), what="delivery line")
        self.assertRegex(line.group(0), r"relay=local, delay=[\d.]+, delays=[\d.]+/[\d.]+/0/[\d.]+, "
                                        r"dsn=2\.0\.0, status=sent \(delivered to maildir\)$")


if __name__ == "__main__":
    harness.main()
