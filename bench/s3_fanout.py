#!/usr/bin/python3
"""S3 fan-out, postrider and Postfix side by side in one run.

One message of SIZE octets to RECIPIENTS recipients spread evenly over DOMAINS
domains (d0.test ...); every domain is routed to its own smtp-sink on
127.0.0.1 (postrider: transport_table; Postfix: transport_maps, texthash), so
each destination has its own queue, connection and transaction. We time from
the end of DATA until the MTA has logged RECIPIENTS "status=sent" lines, and
the CPU time of all the MTA's processes over that interval (injection included).

The client pipelines (RFC 2920) as an MTA relaying to us would: MAIL, every RCPT
and DATA go out in one group while the replies are read. `--client smtplib`
sends one command per round trip instead (Python's smtplib has no pipelining):
then acceptance measures the client's round trips more than either MTA.

Usage: bench/s3_fanout.py [--recipients 5000] [--domains 100] [--size 4096] [--mta postrider,postfix]
                          [--client pipelined|smtplib]
Run on demand (as root: Postfix needs it), never from the test suite.
"""
import argparse
import os
import smtplib
import socket
import threading
import time

from relay import RelayPostfix, RelayPostrider, Sinks, wait_sent

HERE = os.path.dirname(os.path.abspath(__file__))


def pipelined_send(port, sender, recipients, body):
    """One transaction with MAIL, the RCPTs and DATA in one pipelined group (RFC 2920).

    A writer thread sends the group while this thread reads the replies, so neither side
    blocks on a full socket buffer. Returns the number of refused recipients.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=300) as s:
        f = s.makefile("rb")

        def reply(want=None):
            while True:
                line = f.readline()
                if not line:
                    raise SystemExit("the MTA closed the connection")
                if line[3:4] != b"-":
                    code = int(line[:3])
                    if want is not None and code != want:
                        raise SystemExit(f"expected {want}, got {line!r}")
                    return code

        reply(220)
        s.sendall(b"EHLO bench.test\r\n")
        reply(250)
        group = "".join([f"MAIL FROM:<{sender}>\r\n"] + [f"RCPT TO:<{r}>\r\n" for r in recipients] + ["DATA\r\n"])
        writer = threading.Thread(target=s.sendall, args=(group.encode(),))
        writer.start()
        reply(250)
        refused = sum(1 for _ in recipients if reply() != 250)
        writer.join()
        reply(354)
        s.sendall(body.encode() + b".\r\n")  # no body line starts with "."
        reply(250)
        s.sendall(b"QUIT\r\n")
        reply(221)
        return refused


def fanout(mta, args, recipients):
    mta.start()
    try:
        body = "Subject: fan-out\r\n\r\n" + ("x" * 76 + "\r\n") * max(1, args.size // 78)
        cpu0, t0 = mta.cpu(), time.monotonic()
        if args.client == "smtplib":
            with smtplib.SMTP("127.0.0.1", mta.port, timeout=300) as s:
                refused = len(s.sendmail("list@example.org", recipients, body))
        else:
            refused = pipelined_send(mta.port, "list@example.org", recipients, body)
        if refused:
            raise SystemExit(f"{mta.name} refused {refused} recipients")
        t_accepted = time.monotonic()
        t_done = wait_sent(mta, len(recipients), 900)
        cpu1 = mta.cpu()
    finally:
        mta.stop()
    return {"accept_s": t_accepted - t0, "rcpt_per_s": len(recipients) / (t_done - t0),
            "seconds": t_done - t0, "cpu_ms": (cpu1 - cpu0) * 1000}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipients", type=int, default=5000)
    p.add_argument("--domains", type=int, default=100)
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--mta", default="postrider,postfix")
    p.add_argument("--client", choices=("pipelined", "smtplib"), default="pipelined")
    p.add_argument("--bin", default=os.path.join(HERE, "..", "build", "src", "postrider"))
    args = p.parse_args()
    domains = [f"d{i}.test" for i in range(args.domains)]
    recipients = [f"u{i}@{domains[i % args.domains]}" for i in range(args.recipients)]
    sinks = Sinks(args.domains)
    routes = {d: f"[127.0.0.1]:{port}" for d, port in zip(domains, sinks.ports)}
    makers = {"postrider": lambda: RelayPostrider(args.bin, domains, routes=routes),
              "postfix": lambda: RelayPostfix(routes=routes)}
    results = {}
    try:
        for name in args.mta.split(","):
            results[name] = r = fanout(makers[name](), args, recipients)
            print(f"S3 {name:9} 1 message x {args.recipients} recipients over {args.domains} domains/sinks: "
                  f"{r['rcpt_per_s']:6.0f} rcpt/s ({r['seconds']:.2f} s, accepted in {r['accept_s']:.2f} s), "
                  f"CPU {r['cpu_ms']:7.1f} ms per message = {r['cpu_ms'] * 1000 / args.recipients:6.1f} us/rcpt",
                  flush=True)
    finally:
        sinks.stop()
    if len(results) == 2:
        a, b = results["postrider"], results["postfix"]
        print(f"S3 ratio postrider/postfix: rcpt/s {a['rcpt_per_s'] / b['rcpt_per_s']:.2f}x, "
              f"CPU {a['cpu_ms'] / b['cpu_ms']:.2f}x")


if __name__ == "__main__":
    main()
