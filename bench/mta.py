"""MTA controllers for benchmarks: postrider and a private Postfix instance.

Both run on 127.0.0.1 with their state in a temporary directory under /var/tmp,
deliver mail for `localhost` into maildirs, and report CPU time of all their
processes. The private Postfix is configured the way an admin would for a local
maildir host (virtual(8) delivery, durability defaults untouched); it is started
and stopped with `postfix -c DIR` and never touches the system instance.
"""
import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

CLK = os.sysconf("SC_CLK_TCK")


def state_root():
    """Where the MTAs' queues and maildirs go: BENCH_STATE_DIR, or /var/tmp."""
    return os.environ.get("BENCH_STATE_DIR", "/var/tmp")


def remove_state(path):
    """Delete a run's state when the script ends, not between runs.

    Deleting 10,000+ files right before the next MTA's run skews it: this disk is
    mounted with online discard, and ext4 without a journal (as here) skips
    recently freed inodes when it allocates, scanning past every one (`recently_deleted`
    in the profile). BENCH_KEEP_STATE=1 keeps the directories (the caller removes them).
    """
    if os.environ.get("BENCH_KEEP_STATE") != "1":
        atexit.register(shutil.rmtree, path, ignore_errors=True)


def run_order(names, repeat):
    """The order of each round: as given, then reversed every other round, so that neither
    MTA always runs first (the filesystem's state drifts within a session: see remove_state)."""
    for i in range(repeat):
        yield list(names) if i % 2 == 0 else list(reversed(names))


def medians(runs, keys):
    """Per key, the median over a list of result dicts (the middle run, or the mean of two)."""
    out = {}
    for k in keys:
        v = sorted(r[k] for r in runs)
        n = len(v)
        out[k] = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    return out


def compare(tag, names, repeat, run_one, line, ratios):
    """Run each MTA in names `repeat` rounds (run_order), print every run (with its steal), then the
    medians and the ratio postrider/postfix of the medians.

    run_one(name) returns a dict of figures plus "steal"; line(r) formats the figures;
    ratios is [(label, key)]. Returns the medians by MTA name."""
    runs = {}
    for order in run_order(names, repeat):
        for name in order:
            r = run_one(name)
            runs.setdefault(name, []).append(r)
            print(f"{tag} {name:17} {line(r)}, steal {r['steal']:4.1f}%", flush=True)
    keys = [k for k in runs[names[0]][0] if k != "steal"]
    results = {name: medians(rs, keys) for name, rs in runs.items()}
    if repeat > 1:
        for name, r in results.items():
            print(f"{tag} {name:17} median of {repeat}: {line(r)}")
    if "postrider" in results and "postfix" in results:
        a, b = results["postrider"], results["postfix"]
        text = ", ".join(f"{label} {a[k] / b[k]:.2f}x" for label, k in ratios)
        print(f"{tag} ratio postrider/postfix{' (medians)' if repeat > 1 else ''}: {text}")
    return results


class Steal:
    """The share of the CPUs' time the hypervisor took (/proc/stat "steal") between start and percent().

    On a shared VM it is what moves figures most between runs: print it with every figure."""

    def __init__(self):
        self.t0 = self._read()

    @staticmethod
    def _read():
        with open("/proc/stat") as f:
            v = list(map(int, f.readline().split()[1:9]))
        return v[7], sum(v)

    def percent(self):
        s1, t1 = self._read()
        return 100.0 * (s1 - self.t0[0]) / max(1, t1 - self.t0[1])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise SystemExit(f"timed out waiting for {what}")


def proc_stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            head, tail = f.read().rsplit(")", 1)
    except OSError:
        return None
    fields = tail.split()
    return {"ppid": int(fields[1]), "cpu": sum(int(x) for x in fields[11:15]) / CLK}  # u+s+cu+cs


def tree_cpu(root):
    """CPU seconds of root and its live descendants, including reaped children (cutime/cstime)."""
    stats = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name))
            if st:
                stats[int(name)] = st
    total, frontier = 0.0, [root]
    while frontier:
        pid = frontier.pop()
        if pid in stats:
            total += stats[pid]["cpu"]
            frontier += [p for p, st in stats.items() if st["ppid"] == pid]
    return total


def count_files(path):
    try:
        return len(os.listdir(path))
    except FileNotFoundError:
        return 0


class Postrider:
    name = "postrider"

    def __init__(self, binary, options=()):
        self.binary = binary
        self.options = list(options)  # extra serve options, e.g. ["--queue_journal", "no"]
        self.state = tempfile.mkdtemp(prefix="bench-postrider-", dir=state_root())
        self.proc = None

    def start(self):
        log = os.path.join(self.state, "postrider.log")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--listen", "127.0.0.1:0", "--hostname", "bench.test",
             "--queue_dir", os.path.join(self.state, "queue"), "--mail_root", os.path.join(self.state, "mail"),
             "--max_sessions_per_ip", "20000", "--max_sessions", "20000"] + self.options,
            stdout=subprocess.DEVNULL, stderr=open(log, "wb"))
        self.port = int(wait_for(lambda: (re.search(r"listening on 127\.0\.0\.1:(\d+)", open(log).read())
                                          or [None, None])[1], 10, "postrider to listen"))

    def maildir_new(self, user):
        return os.path.join(self.state, "mail", "localhost", user, "Maildir", "new")

    def cpu(self):
        return tree_cpu(self.proc.pid)

    def pids(self):
        return [self.proc.pid]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)
        remove_state(self.state)


class Postfix:
    name = "postfix"

    def __init__(self):
        self.state = tempfile.mkdtemp(prefix="bench-postfix-", dir=state_root())
        os.chmod(self.state, 0o755)
        self.etc = os.path.join(self.state, "etc")

    def start(self):
        self.port = free_port()
        s = self.state
        for d in ("etc", "queue", "data", "mail"):
            os.makedirs(os.path.join(s, d), exist_ok=True)
        shutil.chown(os.path.join(s, "data"), "postfix")
        shutil.chown(os.path.join(s, "mail"), "nobody")
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(f"""compatibility_level = 3.6
queue_directory = {s}/queue
data_directory = {s}/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = pf.bench.test
mydestination =
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = localhost
virtual_mailbox_base = {s}/mail
virtual_mailbox_maps = static:bench/Maildir/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
maillog_file = {s}/maillog
maillog_file_prefixes = {s}
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_client_connection_count_limit = 0
default_process_limit = 2000
biff = no
{getattr(self, "extra_main_cf", "")}""")
        with open("/etc/postfix/master.cf") as f:
            master = f.read()
        master = re.sub(r"^smtp\s+inet\s+n\s+-\s+y\s+-\s+-\s+smtpd",
                        f"127.0.0.1:{self.port} inet n - n - - smtpd", master, flags=re.M)
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(master)
        subprocess.run(["postfix", "-c", self.etc, "set-permissions"], capture_output=True)
        subprocess.run(["postfix", "-c", self.etc, "start"], check=True, capture_output=True)
        pidfile = os.path.join(s, "queue", "pid", "master.pid")
        self.master = int(wait_for(lambda: os.path.exists(pidfile) and open(pidfile).read().strip(), 10,
                                   "postfix master"))

        def accepting():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_for(accepting, 10, "postfix smtpd")

    def maildir_new(self, user):
        return os.path.join(self.state, "mail", user, "Maildir", "new")

    def cpu(self):
        return tree_cpu(self.master)

    def pids(self):
        return [self.master]

    def stop(self):
        subprocess.run(["postfix", "-c", self.etc, "stop"], capture_output=True)
        remove_state(self.state)
