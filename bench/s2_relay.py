#!/usr/bin/python3
"""S2 relay, postrider and Postfix side by side in one run.

smtp-source -s SESSIONS pushes MESSAGES messages of SIZE octets, one recipient
each at relay.test; both MTAs relay everything to one smtp-sink through a
relayhost ([127.0.0.1]:port, no DNS). We time from the first injected message
until the MTA has logged MESSAGES "status=sent" lines, and the CPU time of all
the MTA's processes over that interval (accepting and relaying).

Usage: bench/s2_relay.py [--messages 10000] [--size 4096] [--sessions 20] [--mta postrider,postfix]
Run on demand (as root: Postfix needs it), never from the test suite.
"""
import argparse
import os
import subprocess
import time

from mta import Steal, compare
from relay import RelayPostfix, RelayPostrider, Sinks, wait_sent

HERE = os.path.dirname(os.path.abspath(__file__))


def relay(mta, args):
    mta.start()
    try:
        env = dict(os.environ, MAIL_CONFIG=mta.state)
        cpu0, t0, steal = mta.cpu(), time.monotonic(), Steal()
        src = subprocess.run(["smtp-source", "-c", "-s", str(args.sessions), "-m", str(args.messages),
                              "-l", str(args.size), "-f", "source@example.org", "-t", "user@relay.test",
                              f"127.0.0.1:{mta.port}"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        t_accepted = time.monotonic()
        if src.returncode != 0:
            raise SystemExit(f"smtp-source against {mta.name} failed: {src.stderr.decode()}")
        t_relayed = wait_sent(mta, args.messages, 900)
        cpu1 = mta.cpu()
    finally:
        mta.stop()
    return {"accepted": args.messages / (t_accepted - t0), "relayed": args.messages / (t_relayed - t0),
            "steal": steal.percent(),
            "cpu_ms": (cpu1 - cpu0) * 1000 / args.messages}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--messages", type=int, default=10000)
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--mta", default="postrider,postfix")
    p.add_argument("--repeat", type=int, default=1, help="rounds, the order reversed every other round; medians printed")
    p.add_argument("--bin", default=os.path.join(HERE, "..", "build", "src", "postrider"))
    args = p.parse_args()
    sinks = Sinks(1)
    hop = f"[127.0.0.1]:{sinks.ports[0]}"
    # Same per-destination limit for both: Postfix's default_destination_concurrency_limit is 20.
    makers = {"postrider": lambda: RelayPostrider(args.bin, ["relay.test"], relayhost=hop,
                                                  extra=["--remote_destination_concurrency", "20"]),
              "postfix": lambda: RelayPostfix(relayhost=hop),
              # the same binary without the write-ahead journal (files per message)
              "postrider-classic": lambda: RelayPostrider(args.bin, ["relay.test"], relayhost=hop,
                                                          extra=["--remote_destination_concurrency", "20"],
                                                          options=["--queue_journal", "no"])}
    try:
        compare("S2", args.mta.split(","), args.repeat, lambda name: relay(makers[name](), args),
                lambda r: f"{args.messages} x {args.size} B via relayhost to smtp-sink, {args.sessions} sessions in: "
                          f"accepted {r['accepted']:6.0f} msg/s, relayed {r['relayed']:6.0f} msg/s, CPU {r['cpu_ms']:6.3f} ms/msg",
                [("relayed", "relayed"), ("CPU", "cpu_ms")])
    finally:
        sinks.stop()

if __name__ == "__main__":
    main()
