#!/usr/bin/python3
"""The real daemon on loopback, driven byte by byte: replies, limits, abuse.

Every case here sends exact bytes with a raw socket, so it checks what is on the
wire rather than what a client library makes of it.
"""
import os
import socket
import time
import unittest

import harness
from harness import Client, Daemon, wait_until


def transaction(c, rcpt="alice@localhost", body="Subject: t\r\n\r\nhello\r\n"):
    assert c.cmd("MAIL FROM:<sender@example.org>")[0] == "250"
    assert c.cmd(f"RCPT TO:<{rcpt}>")[0] == "250"
    assert c.cmd("DATA")[0] == "354"
    c.send(body + ".\r\n")
    return c.reply()


class Protocol(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(command_timeout="3s", max_sessions_per_ip=8, message_size_limit="64k")
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        assert rc == 0, f"daemon exit code {rc}\n{cls.d.log()}"

    def client(self):
        c = Client(self.d.port)
        self.addCleanup(c.close)
        code, lines = c.reply()
        self.assertEqual(code, "220")
        self.assertIn("mx.test", lines[0])
        return c

    def test_ehlo_advertises_extensions(self):
        c = self.client()
        code, lines = c.cmd("EHLO client.example")
        self.assertEqual(code, "250")
        keywords = {l[4:].split()[0].upper() for l in lines[1:]}
        for kw in ("PIPELINING", "8BITMIME", "SIZE", "ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING", "DSN"):
            self.assertIn(kw, keywords)
        self.assertTrue(any(l[4:] == "SIZE 65536" for l in lines), lines)

    def test_out_of_sequence_commands_get_503_and_session_goes_on(self):
        c = self.client()
        self.assertEqual(c.cmd("MAIL FROM:<a@example.org>")[0], "503")  # before HELO
        c.cmd("EHLO client.example")
        self.assertEqual(c.cmd("RCPT TO:<alice@localhost>")[0], "503")
        self.assertEqual(c.cmd("DATA")[0], "503")
        self.assertEqual(c.cmd("MAIL FROM:<a@example.org>")[0], "250")
        self.assertEqual(c.cmd("MAIL FROM:<a@example.org>")[0], "503")  # nested
        self.assertEqual(c.cmd("DATA")[0], "503")                       # no recipients
        self.assertEqual(c.cmd("NOOP")[0], "250")

    def test_syntax_errors(self):
        c = self.client()
        c.cmd("EHLO client.example")
        self.assertEqual(c.cmd("FROB")[0], "500")
        self.assertEqual(c.cmd("")[0], "500")
        self.assertEqual(c.cmd("MAIL FROM:alice")[0], "501")
        self.assertEqual(c.cmd("MAIL FROM:<a@example.org> FOO=BAR")[0], "555")
        self.assertEqual(c.cmd("MAIL FROM:<a@example.org> SIZE=99999999")[0], "552")
        self.assertEqual(c.cmd("MAIL FROM:<a@example.org>")[0], "250")
        self.assertEqual(c.cmd("RCPT TO:<bad address@localhost>")[0], "501")
        self.assertEqual(c.cmd("VRFY alice")[0], "252")
        self.assertEqual(c.cmd("HELP")[0], "214")
        self.assertEqual(c.cmd("QUIT")[0], "221")
        self.assertTrue(c.closed_by_peer())

    def test_no_open_relay(self):
        c = self.client()
        c.cmd("EHLO client.example")
        c.cmd("MAIL FROM:<a@example.org>")
        for rcpt in ("<victim@example.com>", "<user%victim@example.com@localhost>",
                     "<@localhost:victim@example.com>", "<victim@example.com.>"):
            code, lines = c.cmd(f"RCPT TO:{rcpt}")
            self.assertIn(code, ("554", "550", "501", "553"), (rcpt, lines))
        self.assertEqual(c.cmd("DATA")[0], "503")

    def test_message_is_delivered_with_trace_header(self):
        c = self.client()
        c.cmd("EHLO client.example")
        code, lines = transaction(c, "bob@localhost")
        self.assertEqual(code, "250", lines)
        self.assertIn("queued as", lines[0])
        [msg] = [m for m in self.d.read_delivered_wait("bob", 1)]
        self.assertIn(b"Received: from client.example ([127.0.0.1])", msg)
        self.assertIn(b"\n\nhello\n", msg)  # maildir lines end in LF

    def test_pipelined_transaction_in_one_write(self):
        c = self.client()
        c.send("EHLO p.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<carol@localhost>\r\n"
               "RCPT TO:<nobody@example.com>\r\nDATA\r\n")
        codes = [c.reply()[0] for _ in range(5)]
        self.assertEqual(codes, ["250", "250", "250", "554", "354"])
        c.send("Subject: p\r\n\r\nbody\r\n.\r\nQUIT\r\n")
        self.assertEqual(c.reply()[0], "250")
        self.assertEqual(c.reply()[0], "221")
        self.d.wait_delivered("carol", 1)

    def test_bare_lf_cannot_smuggle_a_second_message(self):
        c = self.client()
        c.cmd("EHLO s.example")
        smuggle = ("Subject: outer\r\n\r\nx\n.\r\nMAIL FROM:<evil@example.org>\r\n"
                   "RCPT TO:<dave@localhost>\r\nDATA\r\nSubject: smuggled\r\n\r\nend\r\n")
        code, _ = transaction(c, "dave@localhost", smuggle)
        self.assertEqual(code, "250")
        self.assertEqual(c.cmd("NOOP")[0], "250")  # nothing else was pending
        [msg] = self.d.read_delivered_wait("dave", 1)
        time.sleep(0.3)
        self.assertEqual(len(self.d.delivered("dave")), 1, "smuggled message was delivered")
        # It all stayed body text of the one message (maildir lines end in LF).
        self.assertIn(b"\nx\n.\nMAIL FROM:<evil@example.org>\nRCPT TO:<dave@localhost>\nDATA\n", msg)
        self.assertIn(b"\nSubject: smuggled\n\nend\n", msg)

    def test_disconnect_mid_data_queues_nothing(self):
        c = self.client()
        c.cmd("EHLO x.example")
        c.cmd("MAIL FROM:<a@example.org>")
        c.cmd("RCPT TO:<erin@localhost>")
        c.cmd("DATA")
        c.send("Subject: cut\r\n\r\npartial")
        c.close()
        wait_until(lambda: "erin" not in self.d.log() or "disconnect" in self.d.log(), what="disconnect")
        time.sleep(0.5)
        self.assertEqual(self.d.delivered("erin"), [])

    def test_oversize_message_gets_552_and_session_goes_on(self):
        c = self.client()
        c.cmd("EHLO big.example")
        code, _ = transaction(c, "frank@localhost", "Subject: big\r\n\r\n" + ("y" * 998 + "\r\n") * 80)
        self.assertEqual(code, "552")
        self.assertEqual(c.cmd("RSET")[0], "250")
        self.assertEqual(transaction(c, "frank@localhost")[0], "250")

    def test_long_line_without_newline_is_refused_not_buffered(self):
        c = self.client()
        c.send(b"EHLO " + b"a" * (10 * 1024 * 1024))
        code, lines = c.reply()
        self.assertIn(code, ("500", "421"), lines)
        rss = self.d_rss_kib()
        self.assertLess(rss, 200 * 1024, "daemon RSS grew past 200 MiB on a 10 MB line")

    def test_nul_bytes_and_binary_garbage(self):
        c = self.client()
        c.send(b"EHLO a\x00b\r\n")
        self.assertIn(c.reply()[0], ("500", "501"))
        c.send(os.urandom(4096) + b"\r\n")
        # Garbage gets error replies (or a 421 at the hard error limit), never a crash.
        code, _ = c.reply()
        self.assertIn(code, ("500", "501", "421", "503"))
        d2 = self.client()
        self.assertEqual(d2.cmd("NOOP")[0], "250")

    def test_ten_thousand_rsets(self):
        c = self.client()
        c.send("RSET\r\n" * 10000)
        for _ in range(10000):
            self.assertEqual(c.reply()[0], "250")
        self.assertEqual(c.cmd("QUIT")[0], "221")

    def test_bdat_chunks(self):
        c = self.client()
        c.cmd("EHLO chunk.example")
        c.cmd("MAIL FROM:<a@example.org>")
        c.cmd("RCPT TO:<gina@localhost>")
        part1 = b"Subject: chunked\r\n\r\n"
        part2 = b"line one\r\nline two\r\n"
        c.send(b"BDAT %d\r\n" % len(part1) + part1)
        self.assertEqual(c.reply()[0], "250")
        c.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
        self.assertEqual(c.reply()[0], "250")
        [msg] = self.d.read_delivered_wait("gina", 1)
        self.assertIn(b"Subject: chunked\n\nline one\nline two\n", msg)

    def test_idle_client_is_dropped_with_421(self):
        c = self.client()
        code, lines = c.reply()  # nothing sent: the 3 s command timeout fires
        self.assertEqual(code, "421", lines)
        self.assertIn("4.4.2", lines[0])
        self.assertTrue(c.closed_by_peer())

    def d_rss_kib(self):
        with open(f"/proc/{self.d.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


class SessionCaps(unittest.TestCase):
    def test_sessions_per_ip_are_capped(self):
        with Daemon(max_sessions_per_ip=8) as d:
            clients = [Client(d.port) for _ in range(8)]
            for c in clients:
                self.assertEqual(c.reply()[0], "220")
            extra = Client(d.port)
            code, lines = extra.reply()
            self.assertEqual(code, "421", lines)
            self.assertTrue(extra.closed_by_peer())
            for c in clients + [extra]:
                c.close()

class SessionBudget(unittest.TestCase):
    def test_busy_slow_client_is_cut_at_the_session_budget(self):
        # Each NOOP arrives well inside command_timeout, so only the budget can end it.
        with Daemon(command_timeout="2s", session_budget="3s") as d:
            c = Client(d.port)
            self.addCleanup(c.close)
            self.assertEqual(c.reply()[0], "220")
            start = time.monotonic()
            code, lines = "", []
            for _ in range(40):  # bounded: 40 x 0.25 s = 10 s at most
                time.sleep(0.25)
                try:
                    code, lines = c.cmd("NOOP")
                except (BrokenPipeError, ConnectionResetError):
                    break
                if code != "250":
                    break
            elapsed = time.monotonic() - start
            self.assertEqual(code, "421", lines)
            self.assertIn("4.4.2", lines[0])
            self.assertLess(elapsed, 5.0)
            self.assertGreater(elapsed, 2.5)


if __name__ == "__main__":
    harness.main()
