#!/usr/bin/env python3
"""Kill -9 during concurrent writes, then count acknowledged records lost (issue 11).

Starts `follicle serve --demo` on a fresh SQLite data folder or a fresh PostgreSQL database,
signs in as the front desk, sends WRITES concurrent `POST /api/v1/clients` (CONCURRENCY at a
time), and kills the server with SIGKILL once KILL_AFTER of them have been acknowledged
(201 with the new client's id). It then starts the server again on the same data and reads
every acknowledged client back: an acknowledged record that is missing is a lost write.
Requests that were in flight at the kill may or may not have been saved; they are counted
apart ("unacknowledged, saved").

Not part of Follicle: a check for scripts/kill-durability. Standard library only.

  kill_durability.py --bin BIN --backend sqlite|postgres [--postgres-url URL]
                     [--writes 1000] [--concurrency 64] [--kill-after 400]
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

DEMO_PASSWORD = "follicle-demo"
FRONT_DESK = "frontdesk@demo.follicle.test"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, body=None, token=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def start(bin_path, port, data_dir, database, log):
    args = [bin_path, "serve", "--demo", "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir]
    if database:
        args += ["--database", database]
    env = dict(os.environ)
    env.setdefault("FOLLICLE__LOG__LEVEL", "warn")
    server = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server stopped at start (exit {server.returncode}); see {log.name}")
        try:
            if request(port, "GET", "/api/v1/health", timeout=1)[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.kill()
    sys.exit(f"the server did not answer within 120 s; see {log.name}")


def sign_in(port):
    status, body = request(port, "POST", "/api/v1/auth/login", {"email": FRONT_DESK, "password": DEMO_PASSWORD})
    if status != 200:
        sys.exit(f"sign-in: {status} {body[:200]!r}")
    return json.loads(body)["token"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    ap.add_argument("--postgres-url", default=os.environ.get("FOLLICLE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--writes", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--kill-after", type=int, default=400)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="follicle-kill-")
    log = open(os.path.join(work, "server.log"), "w")
    database = None
    dbname = None
    if args.backend == "postgres":
        dbname = f"follicle_kill_{os.getpid()}"
        subprocess.run(["psql", "-q", "-d", args.postgres_url, "-c", f"CREATE DATABASE {dbname}"], check=True)
        u = urllib.parse.urlsplit(args.postgres_url)
        database = urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + dbname, u.query, u.fragment))
    server = None
    try:
        port = free_port()
        data_dir = os.path.join(work, "data")
        server = start(args.bin, port, data_dir, database, log)
        token = sign_in(port)

        acknowledged = []
        lock = threading.Lock()
        killed = threading.Event()
        outcomes = {"201": 0, "error or cut off": 0, "other": 0}

        def write(i):
            name = f"Durability {os.getpid()}-{i}"
            try:
                status, body = request(port, "POST", "/api/v1/clients", {"name": name, "phone": "", "email": "", "notes": ""}, token, timeout=20)
            except OSError:
                with lock:
                    outcomes["error or cut off"] += 1
                return
            with lock:
                if status == 201:
                    acknowledged.append((json.loads(body)["id"], name))
                    outcomes["201"] += 1
                    if len(acknowledged) >= args.kill_after and not killed.is_set():
                        killed.set()
                        server.send_signal(signal.SIGKILL)
                else:
                    outcomes["other"] += 1

        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            list(pool.map(write, range(args.writes)))
        elapsed = time.monotonic() - t0
        server.wait(timeout=30)
        if not killed.is_set():
            sys.exit(f"the server was never killed: only {len(acknowledged)} writes acknowledged")

        # Start again on the same data and read every acknowledged record back.
        port = free_port()
        server = start(args.bin, port, data_dir, database, log)
        token = sign_in(port)
        lost = []
        for client_id, name in acknowledged:
            status, body = request(port, "GET", f"/api/v1/clients/{client_id}", token=token)
            if status != 200 or json.loads(body).get("name") != name:
                lost.append((client_id, status))
        status, body = request(port, "GET", "/api/v1/clients?q=Durability&limit=200", token=token)
        print(f"| backend | writes sent | acknowledged before the kill | cut off or refused | lost after restart | seconds |")
        print(f"|---|---|---|---|---|---|")
        print(
            f"| {args.backend} | {args.writes} ({args.concurrency} at a time) | {outcomes['201']} | "
            f"{outcomes['error or cut off'] + outcomes['other']} | {len(lost)} | {elapsed:.1f} |"
        )
        if lost:
            print("lost:", lost[:20])
            sys.exit(1)
    finally:
        if server and server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        log.close()
        if dbname:
            subprocess.run(["psql", "-q", "-d", args.postgres_url, "-c", f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"])
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
