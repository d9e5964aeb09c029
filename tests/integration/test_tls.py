#!/usr/bin/python3
"""Inbound TLS: STARTTLS (RFC 3207) and implicit TLS (RFC 8314) with real clients.

Python ssl + smtplib and swaks --tls / --tlsc deliver over TLS; the CVE-2011-0411
injection test sends STARTTLS and RSET in one write and checks the RSET is never
answered; handshake garbage and a client that never finishes the handshake end
only their own sessions while another session delivers; SIGHUP reloads the
certificate.
"""
import os
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import unittest

import harness
from harness import Client, Daemon, make_certificate, wait_until

SAN = "DNS:localhost,IP:127.0.0.1"  # smtplib verifies the address it connected to


def client_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = True
    return ctx


def message(marker):
    return f"From: a@example.org\r\nTo: alice@localhost\r\nSubject: {marker}\r\n\r\nbody {marker}\r\n".encode()


class Tls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="postrider-tls-")
        cls.cert, cls.key = make_certificate(cls.tmp, san=SAN)
        cls.d = Daemon(tls_cert_file=cls.cert, tls_key_file=cls.key, listen_tls="127.0.0.1:0",
                       tls_handshake_timeout="4s")
        cls.d.start()
        cls.tls_port = cls.d.listener_port("implicit TLS")

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert rc == 0, f"daemon exit code {rc}\n{cls.d.log()}"

    def delivered_with(self, marker):
        def find():
            return [m for m in self.d.read_delivered("alice") if marker.encode() in m]
        [got] = wait_until(find, what=f"delivery of {marker}")
        return got

    def test_starttls_smtplib_and_trace_header(self):
        with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10) as s:
            s.ehlo("client.example")
            self.assertTrue(s.has_extn("starttls"))
            s.starttls(context=client_context(self.cert))
            self.assertIn(s.sock.version(), ("TLSv1.2", "TLSv1.3"))
            s.ehlo("client.example")
            self.assertFalse(s.has_extn("starttls"))  # RFC 3207 4.2: not offered twice
            s.sendmail("a@example.org", ["alice@localhost"], message("starttls-smtplib"))
        got = self.delivered_with("starttls-smtplib")
        self.assertIn(b"with ESMTPS id", got)
        self.assertRegex(got.decode(), r"\(using TLSv1\.[23] with cipher \S+ \(\d+/\d+ bits\)\)")
        wait_until(lambda: re.search(r"TLS connection established from \[127\.0\.0\.1\]: TLSv1\.[23] with cipher",
                                     self.d.log()), what="the TLS log line")

    def test_implicit_tls_smtplib(self):
        with smtplib.SMTP_SSL("127.0.0.1", self.tls_port, timeout=10, context=client_context(self.cert)) as s:
            code, _ = s.ehlo("client.example")
            self.assertEqual(code, 250)
            self.assertFalse(s.has_extn("starttls"))
            s.sendmail("a@example.org", ["alice@localhost"], message("implicit-smtplib"))
        self.assertIn(b"with ESMTPS id", self.delivered_with("implicit-smtplib"))

    def swaks(self, *args):
        return subprocess.run(["swaks", "--server", "127.0.0.1", "--from", "a@example.org", "--to", "alice@localhost",
                               "--helo", "client.example", "--timeout", "10", *args],
                              capture_output=True, text=True, timeout=60)

    def test_swaks_tls_and_tlsc(self):
        r = self.swaks("--port", str(self.d.port), "--tls", "--header", "Subject: swaks-tls")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("TLS started", r.stdout)
        r = self.swaks("--port", str(self.tls_port), "--tlsc", "--header", "Subject: swaks-tlsc")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(b"with ESMTPS", self.delivered_with("swaks-tls\n"))
        self.assertIn(b"with ESMTPS", self.delivered_with("swaks-tlsc"))

    def test_injection_after_starttls_is_never_answered(self):
        c = Client(self.d.port)
        try:
            self.assertEqual(c.reply()[0], "220")
            self.assertEqual(c.cmd("EHLO client.example")[0], "250")
            c.send("STARTTLS\r\nRSET\r\n")  # one write: the RSET is the injected command
            code, lines = c.reply()
            self.assertEqual((code, lines), ("220", ["220 2.0.0 Ready to start TLS"]))
            self.assertEqual(c.buf, b"")  # nothing else came in the clear
            tls = client_context(self.cert).wrap_socket(c.sock, server_hostname="localhost")
            tls.sendall(b"NOOP\r\n")
            first = tls.recv(4096)
            # Had the RSET been processed, its 250 2.0.0 Ok would precede NOOP's (or break the handshake).
            self.assertEqual(first, b"250 2.0.0 Ok\r\n")
            tls.sendall(b"MAIL FROM:<a@example.org>\r\n")
            self.assertEqual(tls.recv(4096), b"503 5.5.1 Error: send HELO/EHLO first\r\n")  # EHLO state reset
            tls.sendall(b"QUIT\r\n")
            self.assertTrue(tls.recv(4096).startswith(b"221"))
            tls.close()
        finally:
            c.close()
        wait_until(lambda: "protocol=pipelined_after_starttls discarded=6" in self.d.log(), what="the discard event")

    def test_garbage_and_stalled_handshakes_leave_others_working(self):
        garbage = Client(self.d.port)
        stalled = Client(self.d.port)
        stalled_implicit = socket.create_connection(("127.0.0.1", self.tls_port), timeout=10)
        try:
            for c in (garbage, stalled):
                self.assertEqual(c.reply()[0], "220")
                self.assertEqual(c.cmd("STARTTLS")[0], "220")
            garbage.send(b"this is not a TLS ClientHello\r\n" * 4)
            self.assertTrue(garbage.closed_by_peer(5))
            # While two handshakes hang, a third client delivers over STARTTLS.
            with smtplib.SMTP("127.0.0.1", self.d.port, timeout=10) as s:
                s.starttls(context=client_context(self.cert))
                s.sendmail("a@example.org", ["alice@localhost"], message("while-stalled"))
            self.assertFalse(stalled.closed_by_peer(0.05), "the stalled handshake should still be pending")
            self.assertTrue(stalled.closed_by_peer(10))  # tls_handshake_timeout = 4s
            stalled_implicit.settimeout(10)
            self.assertEqual(stalled_implicit.recv(100), b"")  # no plaintext greeting, closed at the timeout
        finally:
            garbage.close()
            stalled.close()
            stalled_implicit.close()
        self.delivered_with("while-stalled")
        wait_until(lambda: 'TLS handshake failed client=[127.0.0.1] reason="timeout"' in self.d.log(),
                   what="the handshake timeout log line")
        self.assertRegex(self.d.log(), r'TLS handshake failed client=\[127\.0\.0\.1\] reason="(?!timeout)')
        self.assertIsNone(self.d.proc.poll())

    def test_sighup_reloads_the_certificate(self):
        def served_certificate():
            with socket.create_connection(("127.0.0.1", self.tls_port), timeout=10) as raw:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                with ctx.wrap_socket(raw, server_hostname="localhost") as t:
                    return t.getpeercert(binary_form=True)

        before = served_certificate()
        newdir = tempfile.mkdtemp(dir=self.tmp)
        cert2, key2 = make_certificate(newdir, san=SAN, cn="renewed.example")
        # A broken key first: the reload fails and the old certificate keeps being served.
        with open(self.key, "rb") as f:
            old_key = f.read()
        with open(self.key, "w") as f:
            f.write("not a key\n")
        self.d.proc.send_signal(1)
        wait_until(lambda: "TLS certificate not reloaded" in self.d.log(), what="the failed reload")
        self.assertEqual(served_certificate(), before)
        shutil.copy(cert2, self.cert)
        shutil.copy(key2, self.key)
        self.d.proc.send_signal(1)
        wait_until(lambda: "TLS certificate reloaded" in self.d.log(), what="the reload")
        after = served_certificate()
        self.assertNotEqual(after, before)
        with open(cert2) as f:
            self.assertEqual(after, ssl.PEM_cert_to_DER_cert(f.read()))
        # Put the original back for the other tests (they verify against the first certificate).
        with open(self.key, "wb") as f:
            f.write(old_key)
        self.restore_original(before)

    def restore_original(self, der):
        with open(self.cert, "w") as f:
            f.write(ssl.DER_cert_to_PEM_cert(der))
        self.d.proc.send_signal(1)
        wait_until(lambda: self.d.log().count("TLS certificate reloaded") >= 2, what="the restoring reload")


class NoCertificate(unittest.TestCase):
    def test_starttls_is_neither_offered_nor_accepted(self):
        with Daemon() as d:
            c = Client(d.port)
            try:
                c.reply()
                code, lines = c.cmd("EHLO client.example")
                self.assertEqual(code, "250")
                self.assertNotIn("250-STARTTLS", lines)
                self.assertEqual(c.cmd("STARTTLS"), ("502", ["502 5.5.1 Error: command not implemented"]))
            finally:
                c.close()


if __name__ == "__main__":
    harness.main()
