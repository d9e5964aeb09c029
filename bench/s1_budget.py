#!/usr/bin/python3
"""Where the machine's CPU goes during S1: postrider, the load generator, the kernel's threads, idle.

One postrider (state under BENCH_STATE_DIR or /var/tmp), 2,000 messages of warm-up, then
MESSAGES more from `smtp-source -s 20`. Busy and idle time come from /proc/stat, postrider's
from /proc/PID/stat, smtp-source's from its rusage; the rest of the busy time is the kernel's
threads (writeback, journal, loop device, softirq threads) and anything else running.

Usage: bench/s1_budget.py [--messages 10000] [--bin build-opt/src/postrider]
"""
import argparse
import os
import resource
import subprocess
import time

from mta import CLK, Postrider, count_files, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))


def machine():
    """(busy, idle) seconds of all CPUs so far."""
    with open("/proc/stat") as f:
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, f.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / CLK, (idle + iowait) / CLK


def source(port, n, size):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["smtp-source", "-s", "20", "-m", str(n), "-l", str(size), "-f", "source@example.org",
                    "-t", "bench@localhost", f"127.0.0.1:{port}"], check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--messages", type=int, default=10000)
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--bin", default=os.path.join(HERE, "..", "build", "src", "postrider"))
    args = p.parse_args()
    mta = Postrider(args.bin)
    mta.start()
    try:
        source(mta.port, 2000, args.size)
        wait_for(lambda: count_files(mta.maildir_new("bench")) >= 2000, 300, "warm-up deliveries")
        busy0, idle0 = machine()
        own0, t0 = mta.cpu(), time.monotonic()
        client = source(mta.port, args.messages, args.size)
        wall = time.monotonic() - t0
        own = mta.cpu() - own0
        busy1, idle1 = machine()
    finally:
        mta.stop()
    n = args.messages
    rest = (busy1 - busy0) - own - client
    print(f"S1 budget {n} x {args.size} B: {n / wall:.0f} msg/s; of {os.cpu_count() * wall:.2f} CPU-seconds: "
          f"postrider {own:.2f} ({own / n * 1000:.3f} ms/msg), smtp-source {client:.2f} ({client / n * 1000:.3f} ms/msg), "
          f"kernel threads and rest {rest:.2f} ({rest / n * 1000:.3f} ms/msg), idle {idle1 - idle0:.2f} "
          f"({(idle1 - idle0) / (os.cpu_count() * wall) * 100:.0f}%)")


if __name__ == "__main__":
    main()
