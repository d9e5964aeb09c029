#!/usr/bin/python3
"""S1 inject, postrider and Postfix side by side in one run.

smtp-source -s SESSIONS pushes MESSAGES messages of SIZE octets, one local
recipient each; we time acceptance (smtp-source done) and final delivery (all
files in the maildir's new/), and the CPU time of all the MTA's processes.

Usage: bench/s1_inject.py [--messages 10000] [--size 4096] [--sessions 20] [--mta postrider,postfix,postrider-classic]
Run on demand (as root: Postfix needs it), never from the test suite.
"""
import argparse
import os
import subprocess
import time

from mta import Postfix, Postrider, Steal, compare, count_files, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))


def inject(mta, args):
    mta.start()
    try:
        new_dir = mta.maildir_new("bench")
        env = dict(os.environ, MAIL_CONFIG=mta.state)
        cpu0, t0, steal = mta.cpu(), time.monotonic(), Steal()
        src = subprocess.run(["smtp-source", "-c", "-s", str(args.sessions), "-m", str(args.messages),
                              "-l", str(args.size), "-f", "source@example.org", "-t", "bench@localhost",
                              f"127.0.0.1:{mta.port}"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        t_accepted = time.monotonic()
        if src.returncode != 0:
            raise SystemExit(f"smtp-source against {mta.name} failed: {src.stderr.decode()}")
        wait_for(lambda: count_files(new_dir) >= args.messages, 900, f"{mta.name} deliveries")
        t_delivered, cpu1 = time.monotonic(), mta.cpu()
    finally:
        mta.stop()
    return {"accepted": args.messages / (t_accepted - t0), "delivered": args.messages / (t_delivered - t0),
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
    # postrider-classic: the same binary without the write-ahead journal (files per message).
    makers = {"postrider": lambda: Postrider(args.bin), "postfix": Postfix,
              "postrider-classic": lambda: Postrider(args.bin, ["--queue_journal", "no"])}
    compare("S1", args.mta.split(","), args.repeat, lambda name: inject(makers[name](), args),
            lambda r: f"{args.messages} x {args.size} B, {args.sessions} sessions: accepted {r['accepted']:7.0f} msg/s, "
                      f"delivered {r['delivered']:7.0f} msg/s, CPU {r['cpu_ms']:6.3f} ms/msg",
            [("accepted", "accepted"), ("delivered", "delivered"), ("CPU", "cpu_ms")])

if __name__ == "__main__":
    main()
