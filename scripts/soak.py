#!/usr/bin/env python3
"""A bounded soak of a release build: reads, writes and hostile requests at once, with the
server's resident memory sampled every second and held to a bound.

    cargo build --release
    python3 scripts/soak.py --duration 45 --rss-limit-mb 400

It starts `target/release/diplograph` on a fresh data dir (port 0 is not used: it picks a free
port), makes a writer key with the CLI, runs --clients threads for --duration seconds, then
stops the server with SIGTERM and runs `diplograph check` on the data dir. It exits non-zero if
the RSS bound was passed, a request got a 5xx, the health check failed, or the check found
damage. Only loopback traffic; every loop is bounded by the duration.
"""

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

READS = [
    '{ country(code: "XK") { name relations(first: 20) { edges { node { kind since } } } } }',
    '{ statements(first: 20, filter: { about: "KE" }) { totalCount edges { node { text } } } }',
    '{ search(query: "embassy Jerusalem", first: 10) { score snippet } }',
    '{ agreements(first: 20, filter: { party: "SRB" }) { edges { node { title signedOn } } } }',
    '{ missions(first: 50) { edges { node { city status } } } }',
    '{ people(first: 20, filter: { name: "Vucic" }) { edges { node { name } } } }',
]

# Hostile requests: (body, content type) pairs the server must refuse without a 5xx.
HOSTILE = [
    ("{not json", "application/json"),
    ("[]", "application/json"),
    (json.dumps([{"query": "{ __typename }"}] * 50), "application/json"),
    (json.dumps({"query": "{ " + " ".join(f"a{i}: countries(first: 100) {{ edges {{ node {{ name }} }} }}" for i in range(30)) + " }"}), "application/json"),
    (json.dumps({"query": "{ __typename @nope }"}), "application/json"),
    (json.dumps({"query": "query { " + "country(code: \"XK\") { relations { edges { node { agreement { " * 6 + "title" + " } } } }" * 6 + " }"}), "application/json"),
    ("x" * 70_000, "application/json"),
    (json.dumps({"query": "{ __typename }"}), "text/plain"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def post(base, body, content_type="application/json", key=None, timeout=10):
    headers = {"Content-Type": content_type}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(f"{base}/graphql", data=body.encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, OSError):
        return -1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default="target/release/diplograph")
    parser.add_argument("--duration", type=float, default=45)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--rss-limit-mb", type=float, default=400)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="diplograph-soak-")
    data = os.path.join(work, "data")
    key = subprocess.run(
        [args.binary, "keys", "create", "--name", "soak", "--data-dir", data],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [args.binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "RUST_LOG": "warn"},
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    start_rss = rss_mb(server.pid)
    statuses = {}
    lock = threading.Lock()
    end = time.time() + args.duration

    def client(n):
        rng = random.Random(n)
        i = 0
        while time.time() < end:
            i += 1
            roll = rng.random()
            if roll < 0.70:
                status = post(base, json.dumps({"query": rng.choice(READS)}))
            elif roll < 0.85:
                title = f"Soak {n}-{i}"
                q = 'mutation($t: String!) { createSource(input: { title: $t, text: "Soaked." }) { id } }'
                status = post(base, json.dumps({"query": q, "variables": {"t": title}}), key=key)
            else:
                body, content_type = rng.choice(HOSTILE)
                status = post(base, body, content_type)
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    for t in threads:
        t.start()
    samples = []
    while time.time() < end:
        samples.append(rss_mb(server.pid))
        time.sleep(1)
    for t in threads:
        t.join()
    health = post(base, json.dumps({"query": "{ __typename }"}))
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    check = subprocess.run([args.binary, "check", "--data-dir", data], capture_output=True, text=True)

    peak = max(samples or [start_rss])
    total = sum(statuses.values())
    print(f"requests: {total} in {args.duration:.0f} s ({total / args.duration:.0f}/s), by status: "
          + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())))
    print(f"RSS: {start_rss:.0f} MiB at start, peak {peak:.0f} MiB, {samples[-1] if samples else 0:.0f} MiB at the end (bound {args.rss_limit_mb:.0f})")
    print(f"check: {check.stdout.strip().splitlines()[-1] if check.stdout.strip() else check.stderr.strip()}")
    failures = []
    if peak > args.rss_limit_mb:
        failures.append("the RSS bound was passed")
    # -1 is a connection the server closed: it does so after refusing an oversized body.
    if any(s >= 500 for s in statuses):
        failures.append("a request got a 5xx")
    if health != 200:
        failures.append(f"the server answered {health} at the end")
    if check.returncode != 0:
        failures.append("check found damage")
    for failure in failures:
        print(f"FAILED: {failure}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
