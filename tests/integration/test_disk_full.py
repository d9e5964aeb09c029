#!/usr/bin/python3
"""A really full disk: DATA gets 452 4.3.1, nothing accepted is lost, delivery resumes.

Two small tmpfs mounts made by this test (mail 4 MiB, queue 1 MiB) (root only; skipped with a message when
mount is not permitted): one for mail_root, one for queue_dir. First the mail
filesystem is filled with a filler file, so every accepted message is deferred
(maildir write ENOSPC, 4.2.0) and stays in the queue; the queue filesystem then
fills with those messages until DATA is answered 452 4.3.1. Removing the filler
lets the retries (retry_first = 1s) deliver every accepted message, which frees
the queue, and new mail is accepted again.
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import Client, Daemon, wait_until

MESSAGE_OCTETS = 64 * 1024


def mount_tmpfs(path, size):
    """Mount a tmpfs of size at path; returns an error text, or None on success."""
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", path],
                       capture_output=True, text=True)
    return None if r.returncode == 0 else (r.stderr.strip() or f"mount exit {r.returncode}")


def umount(path):
    subprocess.run(["umount", path], check=False)


def fill(path):
    """Write path until ENOSPC; returns the octets written."""
    written = 0
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                n = f.write(chunk)
            except OSError:
                break
            if not n:
                break
            written += n
    return written


def message(seq):
    lines = [f"Subject: disk full test {seq}", f"X-Seq: {seq}", ""]
    body = "".join(f"seq {seq:04d} line {i:05d} " + "x" * 40 + "\r\n" for i in range(MESSAGE_OCTETS // 64))
    return ("\r\n".join(lines) + "\r\n" + body).encode()


def send(port, data):
    """One transaction; returns the reply to the end of DATA as (code, text)."""
    c = Client(port)
    try:
        assert c.reply()[0] == "220"
        assert c.cmd("EHLO client.test")[0] == "250"
        assert c.cmd("MAIL FROM:<alice@localhost>")[0] == "250"
        assert c.cmd("RCPT TO:<bob@localhost>")[0] == "250"
        assert c.cmd("DATA")[0] == "354"
        c.send(data + b".\r\n")
        code, lines = c.reply()
        c.cmd("QUIT")
        return code, lines[-1] if lines else ""
    finally:
        c.close()


class DiskFull(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to mount a tmpfs")
        self.base = tempfile.mkdtemp(prefix="postrider-diskfull-")
        self.addCleanup(shutil.rmtree, self.base, True)
        self.mail = os.path.join(self.base, "mail")
        self.queue = os.path.join(self.base, "queue")
        for p, size in ((self.mail, "4m"), (self.queue, "1m")):
            os.makedirs(p)
            err = mount_tmpfs(p, size)
            if err:
                self.skipTest(f"mount -t tmpfs not permitted here: {err}")
            self.addCleanup(umount, p)  # cleanups run last-in first-out: after the daemon stops

    def delivered_seqs(self, d):
        seqs = []
        for raw in d.read_delivered("bob"):
            m = re.search(rb"\nX-Seq: (\d+)\n", raw)
            if m:
                seqs.append(int(m.group(1)))
        return sorted(seqs)

    def test_452_then_recovery(self):
        filler = os.path.join(self.mail, "filler")
        self.assertGreater(fill(filler), 0)
        d = Daemon(queue_dir=self.queue, mail_root=self.mail, retry_first="1s", retry_max="2s")
        d.start()
        self.addCleanup(d.stop)

        # 1. Fill the queue with accepted (deferred) messages until DATA gets 452.
        accepted, sent = [], {}
        last = None
        for seq in range(1, 64):
            sent[seq] = message(seq)
            code, text = send(d.port, sent[seq])
            if code == "250":
                accepted.append(seq)
                continue
            last = (code, text)
            break
        self.assertIsNotNone(last, "the 1 MiB queue never filled up")
        self.assertEqual(last, ("452", "452 4.3.1 Insufficient system storage"))
        self.assertGreater(len(accepted), 3)
        # Every accepted message is still queued (none delivered: the mail disk is full) ...
        self.assertEqual(self.delivered_seqs(d), [])
        # (as classic files, or still in the journal when its move to classic files hit the full disk)
        self.assertEqual(len(d.queued_ids()), len(accepted))
        self.assertEqual(os.listdir(os.path.join(self.queue, "tmp")), [])  # the failed commit was undone
        self.assertRegex(d.log(), r"status=deferred \(maildir delivery failed: No space left on device\)")
        # ... and the refused one left nothing behind. Still full: a second try gets 452 again.
        self.assertEqual(send(d.port, message(999))[0], "452")

        # 2. Space returns: the deferred messages are delivered at their next retry, once each.
        os.unlink(filler)
        try:
            wait_until(lambda: self.delivered_seqs(d) == accepted, timeout=30, what="deferred mail delivered")
        except AssertionError:
            self.fail(f"accepted {accepted}, delivered {self.delivered_seqs(d)}; log tail:\n{d.log()[-6000:]}")
        wait_until(lambda: not d.queue_files(), timeout=10, what="queue drained")
        for raw in d.read_delivered("bob"):
            seq = int(re.search(rb"\nX-Seq: (\d+)\n", raw).group(1))
            body = sent[seq].split(b"\r\n\r\n", 1)[1].replace(b"\r\n", b"\n")
            self.assertTrue(raw.endswith(b"\n\n" + body), f"message {seq} altered")

        # 3. New mail is accepted and delivered again.
        code, text = send(d.port, message(500))
        self.assertEqual(code, "250", text)
        wait_until(lambda: 500 in self.delivered_seqs(d), timeout=20, what="new mail delivered")
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    harness.main()
