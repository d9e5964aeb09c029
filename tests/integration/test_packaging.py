#!/usr/bin/python3
"""Container and Kubernetes packaging, checked without a container engine: the entrypoint's
logic against the real binary, shellcheck, the Dockerfile's structure, the manifests'
consistency, and every shipped configuration through check-config."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

import yaml

import harness
from harness import BIN, Client, free_port, wait_until

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
PACKAGING = os.path.join(REPO, "packaging")
ENTRYPOINT = os.path.join(PACKAGING, "docker-entrypoint.sh")


def check_config(text, tmp):
    path = os.path.join(tmp, "check.conf")
    with open(path, "w") as f:
        f.write(text)
    return subprocess.run([BIN, "check-config", "-c", path], capture_output=True, text=True, timeout=30)


class Entrypoint(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="postrider-entry-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.conf = os.path.join(self.tmp, "postrider.conf")
        self.smtp, self.http = free_port(), free_port()
        with open(self.conf, "w") as f:
            f.write(f"listen = 127.0.0.1:{self.smtp}\nmetrics_listen = 127.0.0.1:{self.http}\n"
                    f"queue_dir = {self.tmp}/spool/queue\nmail_root = {self.tmp}/mail\nhostname = c.test\n")
        self.env = {"PATH": os.environ["PATH"], "POSTRIDER_BIN": os.path.abspath(BIN), "POSTRIDER_CONFIG": self.conf,
                    "POSTRIDER_HEALTH": f"127.0.0.1:{self.http}", "POSTRIDER_ALLOW_ROOT": "1"}

    def run_ep(self, *args, env=None):
        return subprocess.run([ENTRYPOINT, *args], capture_output=True, text=True, timeout=30, env=env or self.env)

    @unittest.skipUnless(shutil.which("shellcheck"), "shellcheck not installed")
    def test_shellcheck(self):
        r = subprocess.run(["shellcheck", ENTRYPOINT], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout)

    def test_passes_commands_through(self):
        r = self.run_ep("version")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^postrider \d+\.\d+\.\d+")
        self.assertEqual(self.run_ep("check-config", "-c", self.conf).returncode, 0)

    def test_serve_logs_to_stdout_is_healthy_and_stops_on_sigterm(self):
        out = open(os.path.join(self.tmp, "stdout"), "w+")
        err = open(os.path.join(self.tmp, "stderr"), "w+")
        p = subprocess.Popen([ENTRYPOINT], stdout=out, stderr=err, env=self.env, preexec_fn=harness._die_with_parent)
        self.addCleanup(harness.stop_process, p)
        # "postrider started" comes after every listener, the metrics endpoint included: the
        # SMTP "listening on" line alone raced the healthcheck against the metrics bind.
        wait_until(lambda: "postrider started" in open(out.name).read() or p.poll() is not None,
                   what="daemon via entrypoint")
        self.assertIsNone(p.poll(), open(err.name).read())
        self.assertTrue(os.path.isdir(os.path.join(self.tmp, "spool/queue")))  # created by the entrypoint
        self.assertEqual(self.run_ep("healthcheck").returncode, 0)
        c = Client(self.smtp)
        self.assertEqual(c.reply()[0], "220")
        c.close()
        p.send_signal(signal.SIGTERM)  # the entrypoint exec'd: the signal reaches postrider itself
        self.assertEqual(p.wait(20), 0)
        self.assertIn("postrider stopped", open(out.name).read())
        self.assertNotIn("listening on", open(err.name).read())  # logs went to stdout
        env = dict(self.env, POSTRIDER_HEALTH=f"127.0.0.1:{free_port()}")
        self.assertEqual(self.run_ep("healthcheck", env=env).returncode, 1)  # nothing there: unhealthy

    def test_refuses_root_unless_allowed(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to test the root refusal")
        env = dict(self.env)
        del env["POSTRIDER_ALLOW_ROOT"]
        r = self.run_ep("serve", env=env)
        self.assertEqual(r.returncode, 77)
        self.assertIn("refusing to run as root", r.stderr)

    def test_unusable_queue_volume_is_one_clear_line(self):
        env = dict(self.env, POSTRIDER_QUEUE_DIR="/dev/null/queue")
        r = self.run_ep(env=env)
        self.assertEqual(r.returncode, 73, r.stderr)
        self.assertRegex(r.stderr, r"^docker-entrypoint: queue_dir /dev/null/queue cannot be created")

    def test_bad_configuration_stops_before_serving(self):
        env = dict(self.env, POSTRIDER_RECIPIENT_LIMIT="3")
        r = self.run_ep(env=env)
        self.assertEqual(r.returncode, 78, r.stderr)
        self.assertIn("recipient_limit", r.stderr)


class Dockerfile(unittest.TestCase):
    def test_structure(self):
        text = open(os.path.join(PACKAGING, "Dockerfile")).read()
        lines = re.sub(r"\\\n", " ", text).splitlines()
        instr = [l.split(None, 1) for l in lines if l.strip() and not l.lstrip().startswith("#")]
        froms = [rest for op, rest in instr if op == "FROM"]
        self.assertEqual(len(froms), 2, "multi-stage: build and runtime")
        self.assertTrue(all(f.startswith("debian:bookworm-slim") for f in froms), froms)
        users = [rest for op, rest in instr if op == "USER"]
        self.assertTrue(users and not users[-1].startswith("root") and not users[-1].startswith("0"), users)
        volumes = " ".join(rest for op, rest in instr if op == "VOLUME")
        for v in ("/var/spool/postrider", "/var/mail/vhosts"):
            self.assertIn(v, volumes)
        self.assertTrue(any(op == "HEALTHCHECK" and "healthcheck" in rest for op, rest in instr))
        for op, rest in instr:  # every file copied from the build context exists
            if op == "COPY" and not rest.startswith("--from"):
                for src in rest.split()[:-1]:
                    self.assertTrue(os.path.exists(os.path.join(REPO, src)), src)

    def test_image_configuration_is_valid(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = check_config(open(os.path.join(PACKAGING, "container.conf")).read(), tmp)
            self.assertEqual(r.returncode, 0, r.stderr)


class Kubernetes(unittest.TestCase):
    def setUp(self):
        docs = list(yaml.safe_load_all(open(os.path.join(PACKAGING, "kubernetes/postrider.yaml"))))
        self.kinds = {}
        for d in docs:
            self.kinds.setdefault(d["kind"], []).append(d)

    def test_statefulset_has_a_queue_claim_per_pod_and_probes(self):
        sts = self.kinds["StatefulSet"][0]
        spec = sts["spec"]
        claims = {c["metadata"]["name"] for c in spec["volumeClaimTemplates"]}
        self.assertIn("queue", claims)
        pod = spec["template"]["spec"]
        c = pod["containers"][0]
        mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
        conf = self.kinds["ConfigMap"][0]["data"]["postrider.conf"]
        queue_dir = re.search(r"^queue_dir = (\S+)", conf, re.M).group(1)
        self.assertEqual(mounts["queue"], queue_dir)
        self.assertEqual(c["readinessProbe"]["httpGet"]["path"], "/readyz")
        self.assertEqual(c["livenessProbe"]["httpGet"]["path"], "/healthz")
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        metrics_port = int(re.search(r"^metrics_listen = \S+:(\d+)", conf, re.M).group(1))
        self.assertEqual(ports[c["readinessProbe"]["httpGet"]["port"]], metrics_port)
        smtp_port = int(re.search(r"^listen = \S+:(\d+)", conf, re.M).group(1))
        self.assertEqual(ports["smtp"], smtp_port)
        grace = int(re.search(r"^\s*shutdown_grace = (\d+)s", conf, re.M).group(1))
        self.assertGreater(pod["terminationGracePeriodSeconds"], grace)
        self.assertTrue(pod["securityContext"]["runAsNonRoot"])

    def test_selectors_match_and_config_is_valid(self):
        labels = self.kinds["StatefulSet"][0]["spec"]["template"]["metadata"]["labels"]
        for kind in ("Service", "PodDisruptionBudget"):
            for d in self.kinds[kind]:
                sel = d["spec"]["selector"]
                sel = sel.get("matchLabels", sel)
                self.assertTrue(all(labels.get(k) == v for k, v in sel.items()), (kind, sel))
        with tempfile.TemporaryDirectory() as tmp:
            r = check_config(self.kinds["ConfigMap"][0]["data"]["postrider.conf"], tmp)
            self.assertEqual(r.returncode, 0, r.stderr)

    def test_drain_pod_mounts_a_claim_of_the_set_and_takes_no_outside_mail(self):
        sts = self.kinds["StatefulSet"][0]
        drain = yaml.safe_load(open(os.path.join(PACKAGING, "kubernetes/drain-pod.yaml")))
        claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in drain["spec"]["volumes"]
                  if "persistentVolumeClaim" in v}
        sts_name = sts["metadata"]["name"]
        for t in sts["spec"]["volumeClaimTemplates"]:  # <template>-<statefulset>-<ordinal>
            name = t["metadata"]["name"]
            self.assertRegex(claims[name], rf"^{name}-{sts_name}-\d+$")
        env = {e["name"]: e.get("value") for e in drain["spec"]["containers"][0]["env"]}
        self.assertTrue(env["POSTRIDER_LISTEN"].startswith("127.0.0.1:"))
        pod_labels = sts["spec"]["template"]["metadata"]["labels"]
        svc_sel = self.kinds["Service"][0]["spec"]["selector"]
        self.assertFalse(all(drain["metadata"]["labels"].get(k) == v for k, v in svc_sel.items()))
        self.assertNotEqual(drain["metadata"]["labels"], pod_labels)


if __name__ == "__main__":
    harness.main()
