"""Helper of scripts/schemathesis (Debian's python3, standard library only).

`config`  writes the schemathesis configuration of a run against a `follicle serve --demo`:
          which checks, and how to sign in (as the demo owner, again after a sign-out).
`verdict` reads the run's reports, sets the failures listed in the exclusions file apart, prints
          "N requests, M failures" and exits 1 when a failure is not listed (or the run broke).
"""

import argparse
import json
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

DEMO_OWNER = "owner@demo.follicle.test"
DEMO_PASSWORD = "follicle-demo"

# The checks that matter for this API, in every phase. Left out, each for a reason:
# - positive_data_acceptance: schema-valid data that breaks a rule the schema cannot say (an
#   RFC 3339 time, a TOML settings file that must parse, `to` within 366 days of `from`, a
#   record of another clinic) is rightly 422 or 404;
# - the checks that follow other resources (use_after_free, ensure_resource_availability) or
#   need a second user (ignored_auth, object_level_authorization): the isolation tests
#   (crates/follicle-web/tests/isolation.rs) do this across clinics and roles;
# - unsupported_method, allow_header_conformance, missing_required_header: probes of methods
#   and headers outside the document (axum answers 405 with Allow; tested in openapi.rs).
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
]


def toml_string(text: str) -> str:
    return json.dumps(text)


def write_config(args: argparse.Namespace) -> None:
    checks = "\n".join(
        f"{name}.enabled = {'true' if name in CHECKS else 'false'}"
        for name in [
            *CHECKS,
            "positive_data_acceptance",
            "use_after_free",
            "ensure_resource_availability",
            "ignored_auth",
            "object_level_authorization",
            "unsupported_method",
            "allow_header_conformance",
            "missing_required_header",
        ]
    )
    text = f"""# Written by scripts/schemathesis.py for one run; see scripts/schemathesis.
[checks]
{checks}

# Sign in as the demo owner; when an answer is 401 (the run signed itself out), sign in again
# and send the request once more.
[auth.dynamic.openapi.bearer]
path = "/auth/login"
method = "post"
payload = {{ email = {toml_string(DEMO_OWNER)}, password = {toml_string(DEMO_PASSWORD)} }}
extract_from = "body"
extract_selector = "/token"
retry_on = [401]
"""
    Path(args.out).write_text(text, encoding="utf-8")


def read_report(report: Path) -> tuple[int, list[dict], dict]:
    """The number of requests sent, the failures (operation, check, title, message), and the
    JSON report."""
    summary = json.loads((report / "report.json").read_text(encoding="utf-8"))
    requests = 0
    for line in (report / "events.ndjson").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        requests += count_interactions(event)
    failures = []
    junit = ET.parse(report / "junit.xml")
    for case in junit.iter("testcase"):
        for failure in case.findall("failure"):
            failures.append(
                {
                    "operation": case.get("name", ""),
                    "message": (failure.get("message") or "") + "\n" + (failure.text or ""),
                }
            )
    return requests, failures, summary


def count_interactions(value) -> int:
    """Interactions (request + response) anywhere in an event."""
    if isinstance(value, dict):
        n = 1 if "request" in value and "response" in value and isinstance(value.get("request"), dict) else 0
        return n + sum(count_interactions(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_interactions(v) for v in value)
    return 0


def verdict(args: argparse.Namespace) -> int:
    report = Path(args.report)
    exclusions = tomllib.loads(Path(args.exclusions).read_text(encoding="utf-8")).get("exclusion", [])
    for e in exclusions:
        if not e.get("reason", "").strip():
            print(f"exclusion {e} has no reason", file=sys.stderr)
            return 1
    requests, failures, summary = read_report(report)
    intended, unexpected = [], []
    for f in failures:
        match = next(
            (
                e
                for e in exclusions
                if e["operation"] == f["operation"] and e["message"] in f["message"]
            ),
            None,
        )
        (intended if match else unexpected).append((f, match))
    for f, e in intended:
        print(f"intended  {f['operation']}: {e['message']} ({e['reason'].strip()})")
    for f, _ in unexpected:
        print(f"FAILURE   {f['operation']}:\n{f['message']}\n")
    errors = summary.get("errors") or []
    for e in errors:
        print(f"ERROR     {e['title']} ({e['count']}x)")
    cases = summary.get("test_cases", {}).get("generated", 0)
    operations = (summary.get("operations") or {}).get("tested", 0)
    print(
        f"\nschemathesis: {operations} operations, {cases} test cases, {requests} requests, "
        f"{len(unexpected)} failures ({len(intended)} intended, listed in the exclusions), "
        f"{sum(e['count'] for e in errors)} errors, {args.seconds} s in all"
    )
    print(f"reports: {report}")
    if unexpected or errors or not summary.get("complete"):
        return 1
    if operations == 0 or requests == 0:
        print("no operation was tested", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("config")
    c.add_argument("--base", required=True)
    c.add_argument("--out", required=True)
    v = sub.add_parser("verdict")
    v.add_argument("--report", required=True)
    v.add_argument("--exclusions", required=True)
    v.add_argument("--seconds", type=int, default=0)
    args = parser.parse_args()
    if args.command == "config":
        write_config(args)
        return 0
    return verdict(args)


if __name__ == "__main__":
    sys.exit(main())
