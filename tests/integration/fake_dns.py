"""A tiny UDP DNS server for fault tests: per domain it answers garbage, stays
silent, or answers properly (MX 10 mx.<domain>, mx.<domain> A 127.0.0.1).

Garbage per query: one datagram of random bytes whose id never matches the
query, then one with the right id, QR set and rcode NOERROR, but a body that
does not parse (question count 1, answer count 3, random bytes after the
header). Neither may ever look like NXDOMAIN: that would be a permanent answer.
One thread, a socket timeout, stop() ends it; 127.0.0.1 only.
"""
import random
import socket
import struct
import threading

T_A, T_MX = 1, 15


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def parse_question(data):
    """(id, qname, qtype, question bytes) or None for a malformed query."""
    if len(data) < 12:
        return None
    qid = data[:2]
    i, labels = 12, []
    while i < len(data) and data[i] != 0:
        n = data[i]
        labels.append(data[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    if i + 5 > len(data):
        return None
    qtype = struct.unpack("!H", data[i + 1:i + 3])[0]
    return qid, ".".join(labels).lower(), qtype, data[12:i + 5]


class FakeDNS:
    def __init__(self, modes):
        """modes: {domain: "garbage" | "silent" | "good"}; a name under a domain gets its mode."""
        self.modes = dict(modes)
        self.lock = threading.Lock()
        self.queries = []  # (qname, qtype, mode)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.rng = random.Random(1010)
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def set_mode(self, domain, mode):
        with self.lock:
            self.modes[domain] = mode

    def queries_for(self, domain):
        with self.lock:
            return [q for q in self.queries if q[0] == domain or q[0].endswith("." + domain)]

    def stop(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()

    def _mode(self, qname):
        with self.lock:
            for domain, mode in self.modes.items():
                if qname == domain or qname.endswith("." + domain):
                    return mode
        return "good"

    def _loop(self):
        while not self.stopping:
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            q = parse_question(data)
            if not q:
                continue
            qid, qname, qtype, question = q
            mode = self._mode(qname)
            with self.lock:
                self.queries.append((qname, qtype, mode))
            for reply in self._replies(qid, qname, qtype, question, mode):
                self.sock.sendto(reply, peer)

    def _replies(self, qid, qname, qtype, question, mode):
        if mode == "silent":
            return []
        if mode == "garbage":
            wrong_id = bytes([qid[0] ^ 0xFF, qid[1]])
            junk = wrong_id + bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(0, 60)))
            body = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 80)))
            bad = qid + struct.pack("!HHHHH", 0x8180, 1, 3, 0, 0) + body
            return [junk, bad]
        answers = []
        if qtype == T_MX and not qname.startswith("mx."):
            rdata = struct.pack("!H", 10) + encode_name("mx." + qname)
            answers.append(struct.pack("!HHHIH", 0xC00C, T_MX, 1, 60, len(rdata)) + rdata)
        elif qtype == T_A and qname.startswith("mx."):
            rdata = socket.inet_aton("127.0.0.1")
            answers.append(struct.pack("!HHHIH", 0xC00C, T_A, 1, 60, len(rdata)) + rdata)
        # Anything else: NOERROR with no answer (NODATA for that type).
        header = qid + struct.pack("!HHHHH", 0x8180, 1, len(answers), 0, 0)
        return [header + question + b"".join(answers)]
