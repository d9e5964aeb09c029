#!/usr/bin/python3
"""S4 idle sessions: N concurrent sessions that said EHLO and wait; memory of
all the MTA's processes (RSS and PSS summed) per session, postrider and Postfix
side by side.

Usage: bench/s4_idle.py [--sessions 2000] [--mta postrider,postfix]
Run on demand as root (Postfix, and raising the descriptor limit).
"""
import argparse
import os
import resource
import socket
import time

from mta import Postfix, Postrider

HERE = os.path.dirname(os.path.abspath(__file__))


def tree_pids(root):
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                ppid = int(open(f"/proc/{name}/stat").read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(name))
    out, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        out.append(pid)
        frontier += children.get(pid, [])
    return out


def memory_kib(pids):
    rss = pss = 0
    for pid in pids:
        try:
            for line in open(f"/proc/{pid}/smaps_rollup"):
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            pass
    return rss, pss


def ehlo_session(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"EHLO idle.example\r\n")
    while True:
        line = f.readline()
        if not line or line[3:4] == b" ":
            break
    return s, f


def measure(mta, n):
    mta.start()
    try:
        time.sleep(0.5)
        base = memory_kib(tree_pids(mta.pids()[0]))
        sockets = [ehlo_session(mta.port) for _ in range(n)]
        time.sleep(1.0)
        loaded = memory_kib(tree_pids(mta.pids()[0]))
        procs = len(tree_pids(mta.pids()[0]))
        for s, f in sockets:
            f.close()
            s.close()
    finally:
        mta.stop()
    return {"rss_per": (loaded[0] - base[0]) / n, "pss_per": (loaded[1] - base[1]) / n,
            "rss_total": loaded[0], "pss_total": loaded[1], "procs": procs}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessions", type=int, default=2000)
    p.add_argument("--mta", default="postrider,postfix")
    p.add_argument("--bin", default=os.path.join(HERE, "..", "build", "src", "postrider"))
    args = p.parse_args()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by the MTAs we start
    makers = {"postrider": lambda: Postrider(args.bin), "postfix": Postfix}
    results = {}
    for name in args.mta.split(","):
        results[name] = r = measure(makers[name](), args.sessions)
        print(f"S4 {name:9} {args.sessions} idle sessions: {r['rss_per']:8.1f} KiB RSS/session, "
              f"{r['pss_per']:8.1f} KiB PSS/session (total RSS {r['rss_total'] / 1024:.1f} MiB, "
              f"PSS {r['pss_total'] / 1024:.1f} MiB, {r['procs']} processes)", flush=True)
    if len(results) == 2:
        a, b = results["postrider"], results["postfix"]
        print(f"S4 ratio postrider/postfix: PSS per session {a['pss_per'] / b['pss_per']:.3f}x")


if __name__ == "__main__":
    main()
