#!/usr/bin/env python3
"""Two Follicle servers on one PostgreSQL database and one S3 bucket (moto's server): sign-in,
sessions, sign-in throttling, the settings cache, photos and idempotency keys must behave as
on one server. Run through scripts/scale-out, which builds the binary and installs moto.

Usage: scale_out.py FOLLICLE_BIN MOTO_SERVER
Env:   FOLLICLE_TEST_POSTGRES_URL (the server to create a throwaway database on; default
       postgres://postgres@127.0.0.1:5432/test), SCALE_OUT_PORTS (first-last, default 18100-18199)

Standard library only. Prints a Markdown table; exits 1 when a check fails, 2 when the set-up
fails. Every HTTP call has a timeout and the whole run a deadline; the servers, moto, the
database and the temporary folder are removed at exit, whatever happened.
"""

import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zlib
import xml.etree.ElementTree as ET

CALL_TIMEOUT = 30  # seconds for one HTTP call
DEADLINE = time.monotonic() + 170  # the whole run, after the build
BUCKET = "follicle-photos"
OWNER_EMAIL = "owner@scale-out.test"
PASSWORD = "scale-out owner password 7"
# The throttle's defaults (crates/follicle-store/src/store/throttle.rs, SigninLimits): five
# attempts on one account without delay, then 1 s doubling.
ACCOUNT_FREE_ATTEMPTS = 5
SESSION_CACHE_SECONDS = 5  # what the servers are configured with: must not delay a sign-out
SETTINGS_CACHE_SECONDS = 5

# No proxy for loopback, whatever the environment says.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class SetupError(Exception):
    pass


def left():
    remaining = DEADLINE - time.monotonic()
    if remaining <= 0:
        raise SetupError("the run took longer than its deadline")
    return remaining


def http(method, url, body=None, headers=None, timeout=CALL_TIMEOUT):
    """(status, headers, bytes); never raises for an HTTP status."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None and not (headers and "Content-Type" in headers):
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with OPENER.open(req, timeout=min(timeout, left())) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def s3(method, url):
    """A request to moto's S3 API. moto checks no signature, but a request without one is
    anonymous and may not read a private object: an Authorization header of the right form
    (with the servers' access key) makes it the bucket owner's."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return http(method, url, headers={
        "Authorization": f"AWS4-HMAC-SHA256 Credential=scale-out/{stamp[:8]}/us-east-1/s3/aws4_request, "
                         "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + "0" * 64,
        "x-amz-date": stamp,
        "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
    })


class Server:
    def __init__(self, name, port):
        self.name, self.port = name, port
        self.api = f"http://127.0.0.1:{port}/api/v1"
        self.process = None

    def call(self, method, path, body=None, token=None, cookies=None, headers=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        if cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
            if method not in ("GET", "HEAD") and "follicle_csrf" in cookies:
                h["X-CSRF-Token"] = cookies["follicle_csrf"]
        return http(method, self.api + path, body, h)


def cookies_of(headers):
    jar = {}
    for line in headers.get_all("Set-Cookie") or []:
        name, _, rest = line.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]
    return jar


def free_ports(first, last, count):
    ports = []
    for port in range(first, last + 1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == count:
            return ports
    raise SetupError(f"fewer than {count} free ports in {first}-{last}")


def wait_until(what, ok, seconds, process=None, log=None):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        left()
        if process is not None and process.poll() is not None:
            tail = open(log, errors="replace").read()[-3000:] if log else ""
            raise SetupError(f"{what}: exited with {process.returncode}\n{tail}")
        try:
            if ok():
                return
        except OSError:
            pass
        time.sleep(0.1)
    tail = open(log, errors="replace").read()[-3000:] if log else ""
    raise SetupError(f"{what}: not ready within {seconds} s\n{tail}")


def psql(url, sql):
    out = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise SetupError(f"psql {sql!r}: {out.stderr.strip()}")


def clean_up(processes, admin_url, database, work):
    """Stops the processes (SIGTERM, then SIGKILL after 10 s), drops the database (when made)
    and removes the temporary folder, whatever happened before."""
    for proc in reversed(processes):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in processes:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    if database:
        try:
            psql(admin_url, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        except (SetupError, subprocess.TimeoutExpired) as e:
            print(f"could not drop database {database}: {e}", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)


def with_database(url, name):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def png(width, height, seed):
    rows = b"".join(b"\x00" + bytes((x * 7 + y * 13 + seed) % 256 for x in range(width * 3))
                    for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


class Checks:
    def __init__(self):
        self.rows = []

    def check(self, name, ok, figure):
        self.rows.append((name, bool(ok), figure))
        print(f"  {'ok  ' if ok else 'FAIL'} {name}: {figure}", flush=True)

    def failed(self):
        return [r for r in self.rows if not r[1]]


def sha(data):
    return hashlib.sha256(data).hexdigest()[:16]


def run_checks(a, b, moto, checks):
    # ---- sign-in on A, the session on B; sign-out on B ends it on A at once ----------------
    status, headers, body = a.call("POST", "/auth/login", {"email": OWNER_EMAIL, "password": PASSWORD})
    if status != 200:
        raise SetupError(f"owner sign-in on A: {status} {body[:300]!r}")
    owner = json.loads(body)["token"]
    jar = cookies_of(headers)
    me_b_bearer = b.call("GET", "/me", token=owner)[0]
    me_b_cookie = b.call("GET", "/me", cookies=jar)[0]
    checks.check("signed in on A: the session works on B (bearer, cookie)",
                 me_b_bearer == 200 and me_b_cookie == 200, f"GET /me on B: {me_b_bearer}, {me_b_cookie}")

    status, headers, body = a.call("POST", "/auth/login", {"email": OWNER_EMAIL, "password": PASSWORD})
    session = json.loads(body)["token"] if status == 200 else ""
    cookies = cookies_of(headers)
    # Both servers have just found the session valid (and would have cached it).
    warm = [s.call("GET", "/me", cookies=cookies)[0] for s in (a, b, a, b)]
    t0 = time.monotonic()
    out = b.call("POST", "/auth/logout", cookies=cookies)[0]
    after_a = a.call("GET", "/me", cookies=cookies)[0]
    after_a_bearer = a.call("GET", "/me", token=session)[0]
    gap_ms = (time.monotonic() - t0) * 1000
    checks.check(
        f"sign-out on B, next request on A refused (session_cache_seconds = {SESSION_CACHE_SECONDS})",
        warm == [200] * 4 and out == 204 and after_a == 401 and after_a_bearer == 401,
        f"before {warm}; logout on B {out}; A {after_a} (cookie), {after_a_bearer} (bearer), "
        f"{gap_ms:.0f} ms after the sign-out was sent")

    # "Sign out everywhere" on A ends sessions used on B.
    tokens = []
    for _ in range(2):
        status, _, body = b.call("POST", "/auth/login", {"email": OWNER_EMAIL, "password": PASSWORD})
        tokens.append(json.loads(body)["token"] if status == 200 else "")
    warm = [b.call("GET", "/me", token=t)[0] for t in tokens]
    listed = a.call("GET", "/me/sessions", token=tokens[0])
    seen = len(json.loads(listed[2])) if listed[0] == 200 else -1
    everywhere = a.call("DELETE", "/me/sessions", token=tokens[0])[0]
    after = [b.call("GET", "/me", token=t)[0] for t in tokens] + [b.call("GET", "/me", token=owner)[0]]
    checks.check("sign out everywhere on A: every session refused on B at once",
                 warm == [200, 200] and seen >= 3 and everywhere in (200, 204) and after == [401, 401, 401],
                 f"sessions listed on A {seen}; DELETE /me/sessions {everywhere}; B then {after}")

    status, _, body = b.call("POST", "/auth/login", {"email": OWNER_EMAIL, "password": PASSWORD})
    if status != 200:
        raise SetupError(f"owner sign-in on B: {status} {body[:300]!r}")
    owner = json.loads(body)["token"]

    # ---- deactivation on A ends a colleague's session on B ---------------------------------
    colleague_email = "practitioner@scale-out.test"
    status, _, body = a.call("POST", "/users", {"email": colleague_email, "name": "Pat Practitioner",
                                                "role": "practitioner", "password": PASSWORD + " p"},
                             token=owner)
    colleague_id = json.loads(body)["id"] if status == 201 else None
    status, _, body = b.call("POST", "/auth/login", {"email": colleague_email, "password": PASSWORD + " p"})
    colleague = json.loads(body)["token"] if status == 200 else ""
    role_before = b.call("GET", "/me", token=colleague)
    changed = a.call("PUT", f"/users/{colleague_id}", {"role": "front_desk", "active": True}, token=owner)[0]
    role_after = b.call("GET", "/me", token=colleague)
    off = a.call("PUT", f"/users/{colleague_id}", {"role": "front_desk", "active": False}, token=owner)[0]
    after = b.call("GET", "/me", token=colleague)[0]
    role = lambda r: json.loads(r[2])["user"]["role"] if r[0] == 200 else r[0]  # noqa: E731
    checks.check("role change and deactivation on A: seen by B on its next request",
                 role(role_before) == "practitioner" and changed == 200 and role(role_after) == "front_desk"
                 and off == 200 and after == 401,
                 f"B: {role(role_before)} → PUT on A {changed} → B: {role(role_after)} → deactivated on A "
                 f"{off} → B: {after}")

    # ---- sign-in throttling counted across servers -----------------------------------------
    victim = "frontdesk@scale-out.test"
    a.call("POST", "/users", {"email": victim, "name": "Fran Desk", "role": "front_desk",
                              "password": PASSWORD + " f"}, token=owner)
    answers = []
    for i in range(ACCOUNT_FREE_ATTEMPTS + 3):
        server = (a, b)[i % 2]
        status, headers, _ = server.call("POST", "/auth/login", {"email": victim, "password": f"wrong guess {i}"})
        answers.append((server.name, status, headers.get("Retry-After")))
    checked = sum(1 for _, s, _ in answers if s == 401)
    refused = [(n, s, r) for n, s, r in answers if s == 429]
    right = b.call("POST", "/auth/login", {"email": victim, "password": PASSWORD + " f"})
    checks.check(
        f"wrong passwords alternating A/B: {ACCOUNT_FREE_ATTEMPTS} checked, then 429 on both",
        checked == ACCOUNT_FREE_ATTEMPTS and len(refused) == 3 and {n for n, _, _ in refused} == {"A", "B"}
        and all(r for _, _, r in refused) and right[0] == 429,
        "; ".join(f"{n}:{s}" for n, s, _ in answers)
        + f"; Retry-After {[r for _, _, r in refused]}; the right password on B next: {right[0]}")

    # ---- a settings change on A reaches B within settings_cache_seconds ---------------------
    client_file = open("examples/clients/norwood-3-hairline.toml").read()
    plan_body = {"client_toml": client_file, "date": "2026-12-01", "start": "2026-12-07"}

    def quote(server):
        status, _, body = server.call("POST", "/plan", plan_body, token=owner)
        if status != 200:
            raise SetupError(f"POST /plan on {server.name}: {status} {body[:300]!r}")
        return hashlib.sha256(body).hexdigest()

    clinic = json.loads(a.call("GET", "/clinic", token=owner)[2])
    before_a, before_b = quote(a), quote(b)  # B has the old settings in its cache now
    status, _, body = a.call("PUT", "/clinic/settings",
                             {"settings_toml": "[pricing]\nsession_fee = 777\nhourly_rate = 333\n",
                              "retention_years": clinic.get("retention_years", 10)}, token=owner)
    changed_at = time.monotonic()
    if status != 200:
        raise SetupError(f"PUT /clinic/settings on A: {status} {body[:300]!r}")
    after_a = quote(a)
    # Every request to B sent later than settings_cache_seconds after the change must see it
    # (B's entry was cached before the change): the start times of B's old and new answers.
    last_old, first_new = None, None
    while time.monotonic() - changed_at < SETTINGS_CACHE_SECONDS + 5:
        sent = time.monotonic() - changed_at
        if quote(b) == after_a:
            first_new = sent
            break
        last_old = sent
        time.sleep(0.05)
    checks.check(
        f"settings changed on A: seen by B within settings_cache_seconds = {SETTINGS_CACHE_SECONDS}",
        before_a == before_b and after_a != before_a and first_new is not None
        and (last_old or 0) <= SETTINGS_CACHE_SECONDS,
        f"A's plan changed at once; B's last old plan asked {last_old or 0:.2f} s after the change, "
        f"its first new one {first_new:.2f} s after" if first_new is not None
        else "B never answered the new plan")

    # ---- idempotency key: POST on A, retry on B --------------------------------------------
    key = str(uuid.uuid4())
    new_client = {"name": "Robin Scaleout", "phone": "", "email": "", "notes": "two servers"}
    first = a.call("POST", "/clients", new_client, token=owner, headers={"Idempotency-Key": key})
    retry = b.call("POST", "/clients", new_client, token=owner, headers={"Idempotency-Key": key})
    found = b.call("GET", "/clients?q=" + urllib.parse.quote("Robin Scaleout"), token=owner)
    ids = {c["id"] for c in json.loads(found[2]) if c["name"] == "Robin Scaleout"} if found[0] == 200 else set()
    first_id = json.loads(first[2]).get("id") if first[0] == 201 else None
    retry_id = json.loads(retry[2]).get("id") if retry[0] == 201 else None
    checks.check(
        "POST /clients on A, same Idempotency-Key retried on B: one record",
        first[0] == 201 and retry[0] == 201 and first_id == retry_id
        and retry[1].get("Idempotent-Replayed") == "true" and ids == {first_id},
        f"A {first[0]}, B {retry[0]} (Idempotent-Replayed: {retry[1].get('Idempotent-Replayed')}), "
        f"same id {first_id == retry_id}; clients named so: {len(ids)}")

    # The same key sent to both at once: still one record.
    import threading
    key = str(uuid.uuid4())
    racer = {"name": "Quinn Race", "phone": "", "email": "", "notes": ""}
    answers = {}

    def post(server):
        answers[server.name] = server.call("POST", "/clients", racer, token=owner, headers={"Idempotency-Key": key})

    threads = [threading.Thread(target=post, args=(s,)) for s in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(CALL_TIMEOUT)
    found = a.call("GET", "/clients?q=" + urllib.parse.quote("Quinn Race"), token=owner)
    count = sum(1 for c in json.loads(found[2]) if c["name"] == "Quinn Race") if found[0] == 200 else -1
    statuses = sorted(r[0] for r in answers.values())
    checks.check("the same Idempotency-Key on A and B at once: one record",
                 count == 1 and 201 in statuses and set(statuses) <= {201, 409},
                 f"answers {statuses}; clients named so: {count}")

    # ---- photos: uploaded on A, read on B, really in the bucket -----------------------------
    photo_bytes = png(96, 64, 3)
    status, _, body = a.call("POST", f"/clients/{first_id}/photos?angle=top&taken_at=2026-11-20T10:00:00Z",
                             photo_bytes, token=owner, headers={"Content-Type": "image/png"})
    photo_id = json.loads(body)["id"] if status == 201 else None
    on_a = a.call("GET", f"/photos/{photo_id}", token=owner)
    on_b = b.call("GET", f"/photos/{photo_id}", token=owner)
    listing = s3("GET", f"{moto}/{BUCKET}")
    keys = [e.text for e in ET.fromstring(listing[2]).iter() if e.tag.endswith("Key")] if listing[0] == 200 else []
    objects = {k: s3("GET", f"{moto}/{BUCKET}/{urllib.parse.quote(k)}")[2] for k in keys}
    matching = [k for k, v in objects.items() if v == on_b[2]]
    checks.check(
        "photo uploaded on A: B answers the same bytes, which are the object in moto's bucket",
        status == 201 and on_a[0] == 200 and on_b[0] == 200 and on_a[2] == on_b[2] and len(on_b[2]) > 0
        and len(keys) == 1 and len(matching) == 1,
        f"upload {status}; A {on_a[0]} {len(on_a[2])} B, sha256 {sha(on_a[2])}; B {on_b[0]} "
        f"{len(on_b[2])} B, sha256 {sha(on_b[2])}; bucket keys {keys}")

    # The client's archive built on B holds the photo A stored.
    archive = b.call("GET", f"/clients/{first_id}/archive", token=owner)
    checks.check("the client's archive from B holds the photo's bytes",
                 archive[0] == 200 and on_a[2] in archive[2] if archive[0] == 200 else False,
                 f"GET /clients/{{id}}/archive on B: {archive[0]}, {len(archive[2])} B")


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, moto_server = sys.argv[1], sys.argv[2]
    admin_url = os.environ.get("FOLLICLE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
    first, last = (int(p) for p in os.environ.get("SCALE_OUT_PORTS", "18100-18199").split("-"))
    work = tempfile.mkdtemp(prefix="follicle-scale-out.")
    database = f"follicle_scaleout_{os.getpid()}"
    processes = []
    created = False
    checks = Checks()
    started = time.monotonic()
    try:
        moto_port, port_a, port_b = free_ports(first, last, 3)
        moto = f"http://127.0.0.1:{moto_port}"
        moto_log = os.path.join(work, "moto.log")
        proc = subprocess.Popen([moto_server, "-H", "127.0.0.1", "-p", str(moto_port)],
                                stdout=open(moto_log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
        processes.append(proc)
        wait_until("moto_server", lambda: http("GET", moto + "/", timeout=2)[0] == 200, 30, proc, moto_log)
        status, _, body = s3("PUT", f"{moto}/{BUCKET}")
        if status != 200:
            raise SetupError(f"creating the bucket: {status} {body[:300]!r}")

        psql(admin_url, f"CREATE DATABASE {database}")
        created = True
        url = with_database(admin_url, database)
        env = {k: v for k, v in os.environ.items()
               if not (k.startswith("AWS_") or k.startswith("FOLLICLE__") or k.lower().endswith("_proxy"))}
        env.update({
            "NO_PROXY": "127.0.0.1,localhost",
            "AWS_ENDPOINT": moto,
            "AWS_ALLOW_HTTP": "true",
            "AWS_ACCESS_KEY_ID": "scale-out",
            "AWS_SECRET_ACCESS_KEY": "scale-out",
            "AWS_DEFAULT_REGION": "us-east-1",
            "FOLLICLE__DATABASE__URL": url,
            "FOLLICLE__STORAGE__PHOTOS": "s3",
            "FOLLICLE__STORAGE__S3_BUCKET": BUCKET,
            "FOLLICLE__SERVER__SESSION_CACHE_SECONDS": str(SESSION_CACHE_SECONDS),
            "FOLLICLE__SERVER__SETTINGS_CACHE_SECONDS": str(SETTINGS_CACHE_SECONDS),
            "FOLLICLE__SERVER__SHUTDOWN_GRACE_SECONDS": "2",
            "FOLLICLE__DATABASE__RETENTION_EVERY_HOURS": "0",
            "RUST_LOG": "warn",
        })
        out = subprocess.run([binary, "clinic", "create", "--name", "Scale-out Clinic",
                              "--owner-email", OWNER_EMAIL, "--owner-name", "Olive Owner",
                              "--data-dir", os.path.join(work, "admin")],
                             env=dict(env, FOLLICLE_OWNER_PASSWORD=PASSWORD), capture_output=True, text=True,
                             timeout=60)
        if out.returncode != 0:
            raise SetupError(f"follicle clinic create: {out.stderr.strip()}")

        servers = []
        for name, port in (("A", port_a), ("B", port_b)):
            server = Server(name, port)
            log = os.path.join(work, f"server-{name}.log")
            server.process = subprocess.Popen(
                [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(work, name)],
                env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
            server.log = log
            processes.append(server.process)
            servers.append(server)
        for server in servers:
            wait_until(f"server {server.name}", lambda s=server: s.call("GET", "/health")[0] == 200, 60,
                       server.process, server.log)
        print(f"moto_server at {moto} (bucket {BUCKET}); database {database}; "
              f"A {servers[0].api}, B {servers[1].api}", flush=True)
        run_checks(servers[0], servers[1], moto, checks)
        for server in servers:
            if server.process.poll() is not None:
                checks.check(f"server {server.name} still running", False, f"exited {server.process.returncode}")
            errors = [line for line in open(server.log, errors="replace") if " ERROR " in line]
            checks.check(f"server {server.name} logged no error", not errors,
                         f"{len(errors)} ERROR lines" + (f": {errors[0].strip()[:200]}" if errors else ""))
    except SetupError as e:
        print(f"set-up failed: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # a check that could not even be made is a failure, with its cause
        import traceback
        traceback.print_exc()
        checks.check("the checks ran to the end", False, f"{type(e).__name__}: {e}")
    finally:
        clean_up(processes, admin_url, database if created else None, work)

    elapsed = time.monotonic() - started
    print()
    print(f"| two servers, one PostgreSQL, one S3 bucket (moto) — {elapsed:.1f} s | result | figures |")
    print("|---|---|---|")
    for name, ok, figure in checks.rows:
        print(f"| {name} | {'pass' if ok else '**FAIL**'} | {figure} |")
    failed = checks.failed()
    print()
    print(f"{len(checks.rows) - len(failed)} of {len(checks.rows)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
