"""A raw-socket SMTP server for remote-delivery tests, scripted byte by byte.

aiosmtpd refuses MAIL/RCPT parameters it does not know (555 for NOTIFY, ORCPT,
RET, ENVID) and upper-cases the ones it keeps, and it cannot fail a STARTTLS
handshake or drop a connection half-way through DATA on purpose. This server
can: it advertises exactly the EHLO keywords it is given, records every command
line per connection, and follows a few scripted misbehaviours. One thread
accepts, one thread per connection; every socket has a timeout, stop() ends all.
"""
import socket
import threading
import time


class ScriptedMX:
    """SMTP server on host:port.

    keywords: EHLO keywords to advertise (e.g. ["PIPELINING", "SIZE 10000000", "DSN"]).
    bad_starttls: advertise STARTTLS; answer it with 220 and then plain bytes, so the
                  client's TLS handshake fails; then close.
    drop_in_data: the first N transactions get 354, part of the body is read, and
                  the connection is closed without a reply.
    bad_greeting: "drip" sends the greeting one byte every drip_interval seconds;
                  "huge" sends a greeting line of huge_octets octets. Only the first
                  bad_connections connections get it; later ones are served normally.
    reject_rcpt: a function of the RCPT address (no brackets); true: answer 550 5.1.1.
    """

    def __init__(self, host, port, keywords=(), bad_starttls=False, drop_in_data=0,
                 bad_greeting=None, bad_connections=1, drip_interval=0.5, huge_octets=10 * 1024 * 1024,
                 reject_rcpt=None):
        self.keywords = list(keywords)
        self.reject_rcpt = reject_rcpt
        self.rejected = []      # RCPT addresses answered 550
        self.bad_starttls = bad_starttls
        self.drops_left = drop_in_data
        self.bad_greeting = bad_greeting
        self.bad_connections = bad_connections
        self.drip_interval = drip_interval
        self.huge_octets = huge_octets
        self.bad_greetings_sent = 0  # bad greetings started (a drip may be cut short by the client)
        self.lock = threading.Lock()
        self.connections = 0
        self.commands = []      # (connection number, command line as str)
        self.messages = []      # dicts: mail, rcpts, data (bytes), connection, time
        self.drops = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.stopping = False
        self.threads = []
        self.acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self.acceptor.start()

    def stop(self):
        self.stopping = True
        self.acceptor.join(5)
        self.sock.close()
        for t in self.threads:
            t.join(5)

    def commands_of(self, conn):
        with self.lock:
            return [c for n, c in self.commands if n == conn]

    def messages_containing(self, marker):
        with self.lock:
            return [m for m in self.messages if marker.encode() in m["data"]]

    def _accept_loop(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
                number = self.connections
            t = threading.Thread(target=self._serve, args=(conn, number), daemon=True)
            self.threads.append(t)
            t.start()

    def _serve(self, conn, number):
        conn.settimeout(30)
        try:
            _Session(self, conn, number).run()
        except (OSError, ConnectionError):
            pass
        finally:
            conn.close()


class _Session:
    """One connection's dialogue."""

    def __init__(self, mx, conn, number):
        self.mx, self.conn, self.number = mx, conn, number
        self.buf = b""
        self.mail, self.rcpts = None, []

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.conn.recv(65536)
            if not chunk:
                raise ConnectionError("peer closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def say(self, text):
        self.conn.sendall(text.encode() + b"\r\n")

    def run(self):
        if self.mx.bad_greeting and self.number <= self.mx.bad_connections:
            with self.mx.lock:
                self.mx.bad_greetings_sent += 1
            return self.bad_greeting()
        self.say("220 scripted.mx ESMTP")
        while not self.mx.stopping:
            cmd = self.line()
            with self.mx.lock:
                self.mx.commands.append((self.number, cmd))
            verb = cmd.split(" ", 1)[0].upper()
            if not self.handle(verb, cmd):
                return

    def bad_greeting(self):
        """Misbehave until the client gives up (closes) or the server stops; never a full reply."""
        if self.mx.bad_greeting == "huge":
            # One line far beyond any sane limit; the client must stop reading, not buffer it.
            self.conn.sendall(b"220 " + b"x" * self.mx.huge_octets + b"\r\n")
            return
        for b in b"220 scripted.mx ESMTP slowly\r\n"[:-1]:  # never the final LF: no reply completes
            if self.mx.stopping:
                return
            self.conn.sendall(bytes([b]))
            time.sleep(self.mx.drip_interval)
        # Hold the connection until the client closes it.
        while not self.mx.stopping and self.conn.recv(65536):
            pass

    def handle(self, verb, cmd):
        """Answer one command; False ends the connection."""
        if verb == "EHLO":
            keys = self.mx.keywords + (["STARTTLS"] if self.mx.bad_starttls else [])
            lines = ["scripted.mx"] + keys
            for i, text in enumerate(lines):
                self.say(("250 " if i == len(lines) - 1 else "250-") + text)
        elif verb == "STARTTLS" and self.mx.bad_starttls:
            self.say("220 2.0.0 go ahead")
            self.conn.sendall(b"this is not a TLS record\r\n")
            return False
        elif verb == "MAIL":
            self.mail, self.rcpts = cmd, []
            self.say("250 2.1.0 ok")
        elif verb == "RCPT":
            addr = cmd.split("<", 1)[-1].split(">", 1)[0]
            if self.mx.reject_rcpt and self.mx.reject_rcpt(addr):
                with self.mx.lock:
                    self.mx.rejected.append(addr)
                self.say("550 5.1.1 no such user here")
            else:
                self.rcpts.append(cmd)
                self.say("250 2.1.5 ok")
        elif verb == "DATA":
            return self.data()
        elif verb == "QUIT":
            self.say("221 2.0.0 bye")
            return False
        else:  # HELO, RSET, NOOP
            self.say("250 2.0.0 ok")
        return True

    def data(self):
        self.say("354 go ahead")
        with self.mx.lock:
            drop = self.mx.drops_left > 0
            if drop:
                self.mx.drops_left -= 1
                self.mx.drops += 1
        if drop:
            # Lost connection mid-body: take some of it, then vanish without a reply.
            if not self.buf:
                self.buf = self.conn.recv(16)
            return False
        while b"\r\n.\r\n" not in b"\r\n" + self.buf:
            chunk = self.conn.recv(65536)
            if not chunk:
                raise ConnectionError("peer closed in DATA")
            self.buf += chunk
        data, self.buf = (b"\r\n" + self.buf).split(b"\r\n.\r\n", 1)
        with self.mx.lock:
            self.mx.messages.append({"mail": self.mail, "rcpts": list(self.rcpts), "data": data[2:],
                                     "connection": self.number, "time": time.monotonic()})
        self.say("250 2.0.0 queued")
        return True
