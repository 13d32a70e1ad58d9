#!/usr/bin/env python3
"""Two Follicle servers on one PostgreSQL database share the job queue: N booking
confirmations (default 1,000) are sent to a local SMTP server while one server is killed with
SIGKILL part-way through. Checks that every message arrives once: none lost, none doubled,
but for the window crates/follicle-web/src/relay.rs documents (a mail of the killed server
recorded as sent at the gate, killed before its final dot: named in the table, at most one per
connection of the killed server).
Run through scripts/queue-out, which builds the binary.

Usage: queue_out.py FOLLICLE_BIN
Env:   FOLLICLE_TEST_POSTGRES_URL, QUEUE_OUT_MESSAGES (default 1000), QUEUE_OUT_PORTS (first-last,
       default 18200-18299)

Standard library only (the SMTP server is Debian's python3-aiosmtpd, run as its own process).
Prints a Markdown table; exits 1 when a check fails, 2 when the set-up fails.
"""

import concurrent.futures
import datetime
import email
import email.utils
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scale_out import (SetupError, Server, clean_up, free_ports, psql, wait_until,  # noqa: E402
                       with_database)
import scale_out  # noqa: E402

OWNER_EMAIL = "owner@queue-out.test"
PASSWORD = "queue-out owner password 7"
LEASE_SECONDS = 6  # a killed server's jobs are taken up by the other after this
MAIL_TIMEOUT_SECONDS = 2
SENDS_AT_ONCE = 2  # each server's messages in flight at once


def address(i):
    """The email address of the script's client number `i`."""
    return f"client{i:04d}@queue-out.test"


def maildir_count(folder):
    """How many messages the SMTP server wrote (read often while waiting: names only)."""
    new = os.path.join(folder, "new")
    return len(os.listdir(new)) if os.path.isdir(new) else 0


def maildir_messages(folder):
    """Every message the SMTP server wrote, parsed."""
    new = os.path.join(folder, "new")
    if not os.path.isdir(new):
        return []
    out = []
    for name in os.listdir(new):
        with open(os.path.join(new, name), "rb") as f:
            out.append(email.message_from_bytes(f.read()))
    return out


def recipients(messages):
    """The addresses the messages went to."""
    return {email.utils.parseaddr(m["To"])[1] for m in messages}


def query(url, sql):
    return subprocess.run(["psql", "-X", "-At", "-F", "\t", "-d", url, "-c", sql],
                          capture_output=True, text=True, timeout=30).stdout.strip()


def not_done(url):
    """How many jobs are not done (queued, running, failed or dead)."""
    return int(query(url, "SELECT COUNT(*) FROM jobs WHERE state <> 'done'") or 0)


JOB_FIELDS = ("email", "state", "tries", "run_at", "finished_at", "last_error", "worker", "logged")


def jobs_of(url, emails):
    """The booking confirmation jobs of the clients with these emails: their state, tries and
    times, the worker that last worked each, and whether the mail is logged as sent on the
    client's record."""
    if not emails:
        return []
    listed = ", ".join(f"'{e}'" for e in emails)  # the script's own addresses: no quoting needed
    rows = query(url, "SELECT c.email, j.state, j.attempts, j.run_at, j.finished_at, j.last_error, "
                      "COALESCE(j.locked_by, ''), (SELECT COUNT(*) FROM messages m WHERE m.job_id = j.id) "
                      f"FROM jobs j JOIN clients c ON c.id = j.client_id WHERE c.email IN ({listed}) "
                      "ORDER BY c.email")
    jobs = [dict(zip(JOB_FIELDS, line.split("\t"))) for line in rows.splitlines()]
    for job in jobs:
        job["logged"] = int(job["logged"])
    return jobs


def missing(count, received):
    """The script's client addresses that received nothing."""
    return [address(i) for i in range(count) if address(i) not in received]


def missing_report(url, count, maildir, b_log):
    """What became of the messages that did not arrive: each one's job and message log, the
    queue's states, and the end of the killed server's log (for a run that failed)."""
    received = recipients(maildir_messages(maildir))
    states = query(url, "SELECT state, COUNT(*), MAX(attempts) FROM jobs GROUP BY state ORDER BY state")
    jobs = jobs_of(url, missing(count, received)[:10])
    tail = open(b_log, errors="replace").read()[-1500:]
    return (f"{len(received)} recipients received; jobs by state: {states.replace(chr(9), ' | ')}\n"
            f"{count - len(received)} not received, the first {len(jobs)} ({' | '.join(JOB_FIELDS)}):\n  "
            + "\n  ".join(" | ".join(str(j[f]) for f in JOB_FIELDS) for j in jobs)
            + f"\nend of server B's log:\n{tail}")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = sys.argv[1]
    count = int(os.environ.get("QUEUE_OUT_MESSAGES", "1000"))
    admin_url = os.environ.get("FOLLICLE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
    first, last = (int(p) for p in os.environ.get("QUEUE_OUT_PORTS", "18200-18299").split("-"))
    scale_out.DEADLINE = time.monotonic() + 280
    work = tempfile.mkdtemp(prefix="follicle-queue-out.")
    database = f"follicle_queueout_{os.getpid()}"
    processes = []
    created = False
    results = []
    failed = False
    started = time.monotonic()
    try:
        smtp_port, port_a, port_b = free_ports(first, last, 3)
        maildir = os.path.join(work, "maildir")
        smtp_log = os.path.join(work, "smtp.log")
        smtp = subprocess.Popen(["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{smtp_port}",
                                 "-c", "aiosmtpd.handlers.Mailbox", maildir],
                                stdout=open(smtp_log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
        processes.append(smtp)

        def smtp_up():
            import socket
            with socket.create_connection(("127.0.0.1", smtp_port), timeout=1):
                return True
        wait_until("aiosmtpd", smtp_up, 20, smtp, smtp_log)

        psql(admin_url, f"CREATE DATABASE {database}")
        created = True
        url = with_database(admin_url, database)
        env = {k: v for k, v in os.environ.items()
               if not (k.startswith("FOLLICLE__") or k.lower().endswith("_proxy"))}
        env.update({
            "NO_PROXY": "127.0.0.1,localhost",
            "FOLLICLE__DATABASE__URL": url,
            "FOLLICLE__DATABASE__RETENTION_EVERY_HOURS": "0",
            "FOLLICLE__SERVER__SHUTDOWN_GRACE_SECONDS": "2",
            "FOLLICLE__MAIL__SMTP_HOST": "127.0.0.1",
            "FOLLICLE__MAIL__SMTP_PORT": str(smtp_port),
            "FOLLICLE__MAIL__TLS": "none",
            "FOLLICLE__MAIL__TIMEOUT_SECONDS": str(MAIL_TIMEOUT_SECONDS),
            "FOLLICLE__MAIL__PUBLIC_URL": "https://studio.queue-out.test",
            "FOLLICLE__JOBS__POLL_SECONDS": "1",
            "FOLLICLE__JOBS__PLAN_EVERY_SECONDS": "1",
            "FOLLICLE__JOBS__LEASE_SECONDS": str(LEASE_SECONDS),
            "FOLLICLE__JOBS__BATCH": "10",
            "FOLLICLE__JOBS__SENDS_AT_ONCE": str(SENDS_AT_ONCE),
            "RUST_LOG": "warn",
        })
        out = subprocess.run([binary, "clinic", "create", "--name", "Queue-out Clinic",
                              "--owner-email", OWNER_EMAIL, "--owner-name", "Olive Owner",
                              "--data-dir", os.path.join(work, "admin")],
                             env=dict(env, FOLLICLE_OWNER_PASSWORD=PASSWORD), capture_output=True, text=True,
                             timeout=60)
        if out.returncode != 0:
            raise SetupError(f"follicle clinic create: {out.stderr.strip()}")

        def start(name, port, run_jobs):
            server = Server(name, port)
            server.log = os.path.join(work, f"server-{name}.log")
            server.process = subprocess.Popen(
                [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(work, name)],
                env=dict(env, FOLLICLE__JOBS__RUN="true" if run_jobs else "false"),
                stdout=open(server.log, "a"), stderr=subprocess.STDOUT, start_new_session=True)
            processes.append(server.process)
            wait_until(f"server {name}", lambda: server.call("GET", "/health")[0] == 200, 60,
                       server.process, server.log)
            return server

        # The clients and their visits, booked through a server that does not work the queue.
        seeder = start("seed", port_a, False)
        status, _, body = seeder.call("POST", "/auth/login", {"email": OWNER_EMAIL, "password": PASSWORD})
        if status != 200:
            raise SetupError(f"owner sign-in: {status} {body[:300]!r}")
        owner = json.loads(body)["token"]
        status, _, body = seeder.call(
            "PUT", "/clinic/settings",
            {"settings_toml": "[messages]\nsend = [\"booking_confirmation\"]\nquiet_from_hour = 0\nquiet_to_hour = 0\n",
             "retention_years": 8}, token=owner)
        if status != 200:
            raise SetupError(f"PUT /clinic/settings: {status} {body[:300]!r}")
        first_day = datetime.date.today() + datetime.timedelta(days=7)
        weekdays = [d for d in (first_day + datetime.timedelta(days=i) for i in range(60)) if d.weekday() < 5]

        def book(i):
            status, _, body = seeder.call("POST", "/clients", {
                "name": f"Client {i:04d} Queue", "date_of_birth": None, "age_years": 40,
                "phone": "", "email": address(i), "notes": ""}, token=owner)
            if status != 201:
                raise SetupError(f"POST /clients: {status} {body[:300]!r}")
            client = json.loads(body)["id"]
            day = weekdays[i // 40]
            starts = datetime.datetime.combine(day, datetime.time(9 + (i % 40) // 5, (i % 5) * 10),
                                               tzinfo=datetime.timezone.utc)
            status, _, body = seeder.call("POST", "/appointments", {
                "client_id": client, "practitioner_id": None, "starts_at": starts.isoformat(),
                "duration_minutes": 10, "notes": ""}, token=owner)
            if status != 201:
                raise SetupError(f"POST /appointments: {status} {body[:300]!r}")

        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(book, range(count)))
        booked_s = time.monotonic() - t0
        os.killpg(seeder.process.pid, signal.SIGTERM)
        seeder.process.wait(timeout=15)

        # Two servers work the queue; B is killed with SIGKILL once a third has arrived.
        t0 = time.monotonic()
        a = start("A", port_a, True)
        b = start("B", port_b, True)
        kill_at = count // 3
        wait_until(f"{kill_at} messages received", lambda: maildir_count(maildir) >= kill_at, 120,
                   a.process, a.log)

        def held_by_b():
            out = subprocess.run(["psql", "-X", "-At", "-d", url, "-c",
                                  "SELECT COUNT(*) FROM jobs WHERE state = 'running' "
                                  f"AND locked_by LIKE '%:{b.process.pid}:%'"],
                                 capture_output=True, text=True, timeout=30)
            return int(out.stdout.strip() or 0)
        # Killed while it holds jobs (its worker id names its process).
        wait_until("B holding jobs", lambda: held_by_b() > 0, 60, b.process, b.log)
        os.killpg(b.process.pid, signal.SIGKILL)
        held_at_kill = held_by_b()
        b.process.wait(timeout=10)
        killed_after = maildir_count(maildir)
        # Every message arrives, or the queue is settled: every job done and nothing more arriving.
        last = {"received": -1, "asked": 0.0}

        def delivered_or_settled():
            received = maildir_count(maildir)
            if received >= count:
                return True
            if time.monotonic() - last["asked"] < 1:
                return False
            settled = received == last["received"] and not_done(url) == 0
            last.update(received=received, asked=time.monotonic())
            return settled
        try:
            wait_until(f"{count} messages received", delivered_or_settled, 120, a.process, a.log)
        except SetupError as e:
            raise SetupError(f"{e}\n{missing_report(url, count, maildir, b.log)}") from e
        # Anything doubled would come within a lease of the last message.
        time.sleep(LEASE_SECONDS + 3)
        elapsed = time.monotonic() - t0
        messages = maildir_messages(maildir)
        ids = [m["Message-ID"] for m in messages]
        to = recipients(messages)
        lost = count - len(to)
        doubled = len(messages) - len(set(ids))
        # A mail is recorded as sent at the gate, then its final dot written (relay.rs): B killed
        # between the two leaves a job done, logged as sent by B, that the relay never completed.
        # That window (the commit's answer to one write) is the one loss the design allows; any
        # other loss fails, and so do more than one such mail per connection of B.
        in_window = [r for r in jobs_of(url, missing(count, to))
                     if r["state"] == "done" and r["logged"] == 1 and f":{b.process.pid}:" in r["worker"]]
        rows = subprocess.run(["psql", "-X", "-At", "-d", url, "-c",
                               "SELECT state, COUNT(*), SUM(CASE WHEN attempts > 1 THEN 1 ELSE 0 END) "
                               "FROM jobs GROUP BY state ORDER BY state"],
                              capture_output=True, text=True, timeout=30).stdout.split()
        logged = subprocess.run(["psql", "-X", "-At", "-d", url, "-c", "SELECT COUNT(*) FROM messages"],
                                capture_output=True, text=True, timeout=30).stdout.strip()
        results = [
            ("visits booked through the API", True, f"{count} in {booked_s:.1f} s"),
            ("messages received while B ran (then B killed with SIGKILL)", True,
             f"{killed_after}; B held {held_at_kill} jobs at the kill"),
            ("every client got its confirmation (none lost but in the commit-to-dot window at B's kill)",
             lost == len(in_window) <= SENDS_AT_ONCE,
             f"{count - lost}/{count} recipients"
             + (f"; not received: {', '.join(r['email'] for r in in_window)}, recorded as sent by B at the gate "
                "and killed before its final dot (the window of crates/follicle-web/src/relay.rs)"
                if in_window else "")),
            # Exactly once: a mail is recorded as sent before its final dot goes to the relay
            # (crates/follicle-web/src/relay.rs); B's unfinished mails are dropped by the relay
            # and sent by A after the lease, B's finished ones are never sent again.
            ("none doubled (each Message-ID once)", doubled == 0 and len(set(ids)) == count - len(in_window),
             f"{len(messages)} mails, {len(set(ids))} distinct Message-IDs, {doubled} doubled"),
            ("every job done (state|jobs|tried more than once: B's, taken up by A after the lease)",
             len(rows) == 1 and rows[0].startswith(f"done|{count}|"), " ".join(rows)),
            ("messages logged on the clients' records", logged == str(count), logged),
            ("all delivered, from the start of A and B", True, f"{elapsed - LEASE_SECONDS - 3:.1f} s"),
        ]
        if a.process.poll() is not None:
            results.append(("server A still running", False, f"exited {a.process.returncode}"))
        errors = [line for line in open(a.log, errors="replace") if " ERROR " in line]
        results.append(("server A logged no error", not errors,
                        f"{len(errors)} ERROR lines" + (f": {errors[0].strip()[:200]}" if errors else "")))
    except SetupError as e:
        print(f"set-up failed: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        import traceback
        traceback.print_exc()
        results.append(("the checks ran to the end", False, f"{type(e).__name__}: {e}"))
    finally:
        clean_up(processes, admin_url, database if created else None, work)

    print()
    print(f"| the job queue on two servers, one killed (SIGKILL) — {time.monotonic() - started:.1f} s | result | figures |")
    print("|---|---|---|")
    for name, ok, figure in results:
        failed |= not ok
        print(f"| {name} | {'ok' if ok else 'FAILED'} | {figure} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
