#!/usr/bin/env python3
"""Floods a `follicle serve --demo` and measures what issue 11 asks: the server's
memory (VmRSS sampled every 100 ms, VmHWM peak) and the health check's latency, probed from a
separate process every 100 ms on a fresh connection, during the flood and after it.

Not part of Follicle: a load generator and meter for scripts/attack-signin and
scripts/attack-preview (see them for the usage). Standard library only.

  attack.py signin  --bin BIN --concurrency 512  [--duration 20] [--spread]
  attack.py preview --bin BIN --concurrency 128  [--duration 20] [--size 2048]

`--spread` puts the server behind a trusted proxy (127.0.0.1) and gives every request its own
X-Forwarded-For address, so the per-address limit does not stop the flood early and the
per-account, global and argon2 limits are what is measured.
"""

import argparse
import asyncio
import http.client
import json
import multiprocessing
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

DEMO_PASSWORD = "follicle-demo"
DEMO_USERS = ["owner@demo.follicle.test", "practitioner@demo.follicle.test", "frontdesk@demo.follicle.test"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, body=None, headers=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = {"Content-Type": "application/json"} if body is not None else {}
    h.update(headers or {})
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def rss_kib(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    k, v = line.split(":")
                    out[k + ":"] = int(v.split()[0])
    except FileNotFoundError:
        pass
    return out


def prober(port, stop, out):
    """Health checks every 100 ms on a fresh connection, in its own process: (t, ms or None)."""
    results = []
    while not stop.is_set():
        t0 = time.monotonic()
        try:
            status, _ = request(port, "GET", "/api/v1/health", timeout=5)
            ms = (time.monotonic() - t0) * 1000 if status == 200 else None
        except Exception:
            ms = None
        results.append((t0, ms))
        time.sleep(max(0.0, 0.1 - (time.monotonic() - t0)))
    out.put(results)


async def one_exchange(reader, writer, raw):
    writer.write(raw)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length, chunked, close = 0, False, False
    for line in lines[1:]:
        k, _, v = line.partition(":")
        k = k.strip().lower()
        if k == "content-length":
            length = int(v)
        elif k == "transfer-encoding" and "chunked" in v.lower():
            chunked = True
        elif k == "connection" and "close" in v.lower():
            close = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(length)
    return status, close


async def flood(port, concurrency, duration, make_request, counts, latencies):
    deadline = time.monotonic() + duration

    async def worker(i):
        reader = writer = None
        n = 0
        while time.monotonic() < deadline:
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                t0 = time.monotonic()
                status, close = await asyncio.wait_for(
                    one_exchange(reader, writer, make_request(i, n)), timeout=max(0.1, deadline - time.monotonic() + 30)
                )
                latencies.append(time.monotonic() - t0)
                counts[status] = counts.get(status, 0) + 1
                if close:
                    writer.close()
                    writer = None
                n += 1
            except Exception as e:
                counts[type(e).__name__] = counts.get(type(e).__name__, 0) + 1
                if writer is not None:
                    writer.close()
                writer = None
                await asyncio.sleep(0.05)
        if writer is not None:
            writer.close()

    await asyncio.gather(*(worker(i) for i in range(concurrency)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["signin", "preview"])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--concurrency", type=int, default=512)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--spread", action="store_true")
    args = ap.parse_args()

    port = int(os.environ.get("ATTACK_PORT", "0")) or free_port()
    data = tempfile.mkdtemp(prefix="follicle-attack-")
    env = dict(os.environ)
    env.setdefault("FOLLICLE__LOG__LEVEL", "error")
    if args.spread:
        env["FOLLICLE__SERVER__TRUSTED_PROXIES"] = "127.0.0.1"
    server = subprocess.Popen(
        [args.bin, "serve", "--demo", "--listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(data, "d")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(data, "server.log"), "w"),
    )
    try:
        for _ in range(600):
            try:
                if request(port, "GET", "/api/v1/health", timeout=1)[0] == 200:
                    break
            except Exception:
                pass
            time.sleep(0.1)
        else:
            sys.exit("the server did not start; see " + os.path.join(data, "server.log"))

        if args.mode == "signin":
            def make_request(i, n):
                body = json.dumps({"email": f"guess{random.randrange(10**9)}@anywhere.example", "password": "a wrong guess"})
                xff = f"X-Forwarded-For: 10.{i % 250}.{n % 250}.{random.randrange(1, 250)}\r\n" if args.spread else ""
                return (
                    f"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{xff}"
                    f"Content-Length: {len(body)}\r\n\r\n{body}"
                ).encode()
        else:
            tokens = []
            for user in DEMO_USERS:
                status, body = request(port, "POST", "/api/v1/auth/login", {"email": user, "password": DEMO_PASSWORD})
                assert status == 200, (status, body)
                tokens.append(json.loads(body)["token"])
            status, body = request(port, "GET", "/api/v1/clients", headers={"Authorization": f"Bearer {tokens[1]}"})
            design = None
            for client in json.loads(body):
                s, b = request(port, "GET", f"/api/v1/clients/{client['id']}/designs", headers={"Authorization": f"Bearer {tokens[1]}"})
                if s == 200 and json.loads(b):
                    design = json.loads(b)[0]["id"]
                    break
            assert design, "the demo has a design"

            def make_request(i, n):
                # A new moment each time, so no two previews are the same picture.
                return (
                    f"GET /api/v1/designs/{design}/preview?size={args.size}&view=front HTTP/1.1\r\nHost: x\r\n"
                    f"Authorization: Bearer {tokens[i % len(tokens)]}\r\n\r\n"
                ).encode()

        time.sleep(1)
        load_before = os.getloadavg()[0]
        idle = rss_kib(server.pid)
        stop = multiprocessing.Event()
        out = multiprocessing.Queue()
        probe = multiprocessing.Process(target=prober, args=(port, stop, out))
        probe.start()
        samples = []
        sampling = threading.Event()

        def sample():
            while not sampling.is_set():
                samples.append((time.monotonic(), rss_kib(server.pid).get("VmRSS:", 0)))
                time.sleep(0.1)

        sampler = threading.Thread(target=sample)
        sampler.start()
        counts, latencies = {}, []
        t_start = time.monotonic()
        asyncio.run(flood(port, args.concurrency, args.duration, make_request, counts, latencies))
        t_end = time.monotonic()
        load_after = os.getloadavg()[0]
        time.sleep(5)
        after = rss_kib(server.pid)
        sampling.set()
        sampler.join()
        stop.set()
        probes = out.get()
        probe.join()

        during = [ms for t, ms in probes if t_start <= t <= t_end]
        ok = sorted(ms for ms in during if ms is not None)
        failed = sum(1 for ms in during if ms is None)
        peak_rss = max((kib for t, kib in samples if t_start <= t <= t_end), default=0)

        def pct(values, p):
            return values[min(len(values) - 1, int(p * len(values)))] if values else float("nan")

        what = f"{args.concurrency} concurrent {'sign-ins' + (' (spread)' if args.spread else '') if args.mode == 'signin' else f'{args.size}-px previews'}"
        print(f"| flood | requests | answers | RSS idle | RSS peak (VmHWM) | RSS 5 s after | health p50 | health p95 | health max | health failed |")
        print(f"|---|---|---|---|---|---|---|---|---|---|")
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items(), key=lambda kv: str(kv[0])))
        print(
            f"| {what}, {args.duration:.0f} s | {sum(v for v in counts.values())} | {answers} | "
            f"{idle.get('VmRSS:', 0) / 1024:.0f} MiB | {peak_rss / 1024:.0f} MiB ({after.get('VmHWM:', 0) / 1024:.0f} MiB) | "
            f"{after.get('VmRSS:', 0) / 1024:.0f} MiB | {pct(ok, 0.5):.1f} ms | {pct(ok, 0.95):.1f} ms | "
            f"{(ok[-1] if ok else float('nan')):.1f} ms | {failed} of {len(during)} |"
        )
        print(f"load (1 min) before the flood {load_before:.2f}, at its end {load_after:.2f}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
