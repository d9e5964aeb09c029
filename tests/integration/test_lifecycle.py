#!/usr/bin/python3
"""Signals: SIGHUP reloads configuration and tables without dropping sessions; a bad new
configuration is refused and logged; SIGTERM answers 421, stops accepting and exits 0."""
import os
import re
import signal
import socket
import unittest

import harness
from harness import Client, Daemon, wait_until


def write_config(d):
    with open(d.config, "w") as f:
        for k, v in d.settings.items():
            f.write(f"{k} = {v}\n")


def hup(d, outcome):
    """SIGHUP and wait for one more 'outcome' line ('reloaded' or 'refused')."""
    pattern = {"reloaded": "reload: configuration reloaded", "refused": "reload refused"}[outcome]
    before = d.log().count(pattern)
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: d.log().count(pattern) > before, what=f"reload {outcome}")
    return d.log()


def rcpt_code(d, rcpt):
    c = Client(d.port)
    try:
        c.reply()
        c.cmd("EHLO t.example")
        c.cmd("MAIL FROM:<s@example.com>")
        return c.cmd(f"RCPT TO:<{rcpt}>")[0]
    finally:
        c.close()


class Reload(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(local_domains="example.org")
        self.table = os.path.join(self.d.dir, "mailboxes")
        with open(self.table, "w") as f:
            f.write("alice@example.org  example.org/alice/Maildir\n")
        self.d.settings["mailbox_table"] = self.table
        self.d.start()

    def tearDown(self):
        rc = self.d.stop()
        self.d.__exit__(None, None, None)
        self.assertEqual(rc, 0)

    def test_session_open_across_sighup_completes(self):
        c = Client(self.d.port)
        self.addCleanup(c.close)
        self.assertEqual(c.reply()[0], "220")
        self.assertEqual(c.cmd("EHLO t.example")[0], "250")
        self.assertEqual(c.cmd("MAIL FROM:<s@example.com>")[0], "250")
        hup(self.d, "reloaded")
        self.assertEqual(c.cmd("RCPT TO:<alice@example.org>")[0], "250")
        self.assertEqual(c.cmd("DATA")[0], "354")
        self.assertEqual(c.cmd("Subject: across HUP\r\n\r\nstill here\r\n.")[0], "250")
        self.assertEqual(c.cmd("QUIT")[0], "221")
        self.d.wait_delivered("alice", 1, domain="example.org")

    def test_changed_mailbox_table_takes_effect(self):
        self.assertEqual(rcpt_code(self.d, "bob@example.org"), "550")
        with open(self.table, "a") as f:
            f.write("bob@example.org  example.org/bob/Maildir\n")
        hup(self.d, "reloaded")
        self.assertEqual(rcpt_code(self.d, "bob@example.org"), "250")
        self.assertEqual(rcpt_code(self.d, "alice@example.org"), "250")

    def test_changed_local_domains_take_effect(self):
        self.assertEqual(rcpt_code(self.d, "carol@example.net"), "554")  # not ours, no relay
        with open(self.table, "a") as f:
            f.write("carol@example.net  example.net/carol/Maildir\n")
        self.d.settings["local_domains"] = "example.org, example.net"
        write_config(self.d)
        hup(self.d, "reloaded")
        self.assertEqual(rcpt_code(self.d, "carol@example.net"), "250")

    def test_broken_table_is_refused_and_logged(self):
        with open(self.table, "w") as f:
            f.write("alice@example.org  example.org/alice/Maildir\nbob@example.org  ../../etc\n")
        log = hup(self.d, "refused")
        self.assertRegex(log, r"reload refused, old configuration kept: .*mailboxes:2: ")
        self.assertIsNone(self.d.proc.poll())
        self.assertEqual(rcpt_code(self.d, "alice@example.org"), "250")  # the old table still serves
        self.assertEqual(rcpt_code(self.d, "bob@example.org"), "550")

    def test_bad_setting_is_refused_and_a_good_one_applies(self):
        self.d.settings["no_such_option"] = "1"
        write_config(self.d)
        log = hup(self.d, "refused")
        self.assertRegex(log, r"reload refused, old configuration kept: .*no_such_option")
        del self.d.settings["no_such_option"]
        self.d.settings["log_level"] = "warn"
        self.d.settings["max_sessions"] = "500"  # needs a restart: reported, not applied
        write_config(self.d)
        log = hup(self.d, "reloaded")
        self.assertIn("take effect only after a restart", log)
        # log_level=warn is live: a new session logs no info-level "connect from" line any more
        # (a refused reload, logged at error level, marks the end of that session's lines).
        connects = log.count("connect from")
        self.assertEqual(rcpt_code(self.d, "alice@example.org"), "250")
        with open(self.table, "a") as f:
            f.write("broken line\n")
        self.assertEqual(hup(self.d, "refused").count("connect from"), connects)


class ReloadRoutes(unittest.TestCase):
    def test_changed_transport_table_takes_effect_and_a_broken_one_is_refused(self):
        hole = harness.listening_socket(self)  # accepts TCP, never speaks: proves a connection was routed here
        hole.settimeout(15)
        d = Daemon(relay_domains="far.test", retry_first="1s", retry_max="1s", remote_host_down_time="0",
                   shutdown_grace="2s")
        routes = os.path.join(d.dir, "transport")
        with open(routes, "w") as f:
            f.write(f"far.test  [127.0.0.1]:{harness.free_port()}\n")  # nothing listens: refused, deferred
        d.settings["transport_table"] = routes
        d.start()
        self.addCleanup(d.__exit__, None, None, None)
        c = Client(d.port)
        c.reply()
        c.cmd("EHLO t.example")
        c.cmd("MAIL FROM:<s@localhost>")
        self.assertEqual(c.cmd("RCPT TO:<x@far.test>")[0], "250")
        c.cmd("DATA")
        self.assertEqual(c.cmd("Subject: r\r\n\r\nrouted\r\n.")[0], "250")
        c.cmd("QUIT")
        c.close()
        wait_until(lambda: re.search(r"to=<x@far\.test>.*status=deferred", d.log()), what="first deferral")
        with open(routes, "w") as f:
            f.write("far.test  [127.0.0.1\n")
        self.assertRegex(hup(d, "refused"), r"reload refused, old configuration kept: .*transport:1: ")
        with open(routes, "w") as f:
            f.write(f"far.test  [127.0.0.1]:{hole.getsockname()[1]}\n")
        hup(d, "reloaded")
        conn, _ = hole.accept()  # the retry follows the new route
        conn.close()
        self.assertEqual(d.stop(), 0)
        self.assertEqual(len(d.queue_files()), 2)  # still deferred, whole


class Stop(unittest.TestCase):
    def test_sigterm_mid_data_answers_421_and_leaves_no_partial_queue_file(self):
        d = Daemon(shutdown_grace="5s")
        d.start()
        self.addCleanup(d.__exit__, None, None, None)
        c = Client(d.port)
        self.addCleanup(c.close)
        c.reply()
        c.cmd("EHLO t.example")
        c.cmd("MAIL FROM:<s@example.com>")
        c.cmd("RCPT TO:<dave@localhost>")
        self.assertEqual(c.cmd("DATA")[0], "354")
        c.send("Subject: half\r\n\r\nhalf a message\r\n")
        d.proc.send_signal(signal.SIGTERM)
        code, lines = c.reply()
        self.assertEqual(code, "421", lines)
        self.assertIn("4.3.2", lines[0])
        self.assertEqual(d.stop(), 0)
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", d.port), timeout=2).close()
        self.assertEqual(d.queue_files(), [])
        self.assertEqual(os.listdir(os.path.join(d.settings["queue_dir"], "tmp")), [])
        self.assertRegex(d.log(), r"signal 15 received: stopping")

    def test_sigterm_right_after_accepting_keeps_the_queue_consistent(self):
        d = Daemon()
        d.start()
        self.addCleanup(d.__exit__, None, None, None)
        c = Client(d.port)
        c.reply()
        c.cmd("EHLO t.example")
        n = 20
        for i in range(n):
            c.cmd("MAIL FROM:<s@localhost>")
            self.assertEqual(c.cmd("RCPT TO:<x@localhost>")[0], "250")
            c.cmd("DATA")
            code, lines = c.cmd(f"Subject: {i}\r\n\r\nmessage {i}\r\n.")
            self.assertEqual(code, "250", lines)
        d.proc.send_signal(signal.SIGTERM)  # deliveries are in flight now
        self.assertEqual(c.reply()[0], "421")
        c.close()
        self.assertEqual(d.stop(), 0)
        # Whatever was not delivered is still whole in the queue; a restart delivers it, once.
        d.start()
        d.wait_delivered("x", n)
        wait_until(lambda: d.queue_files() == [], what="queue drained")
        self.assertEqual(len(d.delivered("x")), n)
        self.assertEqual(d.stop(), 0)

if __name__ == "__main__":
    harness.main()
