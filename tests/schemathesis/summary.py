"""Figures of tests/schemathesis/run.sh's runs, from schemathesis' NDJSON reports.

    python3 summary.py [--min-requests N] KIND=REPORT.ndjson [KIND=REPORT.ndjson ...]

Per run and in total: requests sent, 5xx answers, failed checks (every
failing request, and the distinct failures by operation, check and title),
and the statuses seen. Exits 1 when any run has a 5xx or a failed check, or
the runs together sent fewer than N requests.
"""

import collections
import json
import sys


def read(path):
    """Requests, 5xx, failures and statuses recorded in one NDJSON report."""
    requests = 0
    server_errors = 0
    statuses = collections.Counter()
    failed = collections.Counter()  # check name -> failing requests
    unique = {}  # (operation, check, title) -> first example
    errors = []
    with open(path, encoding="utf-8") as report:
        for line in report:
            event = json.loads(line)
            # Timeouts, refused connections and the like: no check ran.
            if "NonFatalError" in event:
                body = event["NonFatalError"]
                errors.append(f"{body.get('label')}: {str(body.get('value'))[:300]}")
            if "FatalError" in event:
                errors.append(f"fatal: {str(event['FatalError'].get('exception'))[:300]}")
            finished = event.get("ScenarioFinished")
            if not finished:
                continue
            recorder = finished["recorder"]
            for case_id, interaction in recorder.get("interactions", {}).items():
                response = interaction.get("response")
                requests += 1
                if response is None:
                    statuses["no response"] += 1
                    continue
                status = response["status_code"]
                statuses[status] += 1
                if status >= 500:
                    server_errors += 1
            for case_id, checks in recorder.get("checks", {}).items():
                for check in checks:
                    if check["status"] != "failure":
                        continue
                    failed[check["name"]] += 1
                    info = check.get("failure_info", {}).get("failure", {})
                    key = (info.get("operation", recorder["label"]), check["name"], info.get("title", ""))
                    if key not in unique:
                        interaction = recorder.get("interactions", {}).get(case_id, {})
                        request = interaction.get("request", {})
                        response = interaction.get("response") or {}
                        unique[key] = {
                            "message": info.get("message", ""),
                            "request": f"{request.get('method', '?')} {request.get('uri', '?')}",
                            "status": response.get("status_code"),
                        }
    return {
        "requests": requests,
        "server_errors": server_errors,
        "statuses": statuses,
        "failed": failed,
        "unique": unique,
        "errors": errors,
    }


def main(argv):
    min_requests = 0
    if argv[:1] == ["--min-requests"]:
        min_requests = int(argv[1])
        argv = argv[2:]
    runs = []
    for argument in argv:
        kind, _, path = argument.partition("=")
        runs.append((kind, read(path)))

    print(f"{'key':<10} {'requests':>9} {'5xx':>5} {'schema':>7} {'content-type':>13} {'other':>6}  statuses")
    totals = collections.Counter()
    for kind, run in runs:
        schema = run["failed"]["response_schema_conformance"]
        content_type = run["failed"]["content_type_conformance"]
        other = sum(run["failed"].values()) - schema - content_type
        statuses = " ".join(f"{s}:{n}" for s, n in sorted(run["statuses"].items(), key=lambda i: str(i[0])))
        print(f"{kind:<10} {run['requests']:>9} {run['server_errors']:>5} {schema:>7} {content_type:>13} {other:>6}  {statuses}")
        totals.update(
            requests=run["requests"],
            server_errors=run["server_errors"],
            schema=schema,
            content_type=content_type,
            other=other,
            errors=len(run["errors"]),
        )
    print(
        f"{'total':<10} {totals['requests']:>9} {totals['server_errors']:>5} {totals['schema']:>7} "
        f"{totals['content_type']:>13} {totals['other']:>6}"
    )

    for kind, run in runs:
        for (operation, check, title), example in sorted(run["unique"].items()):
            print(f"\n[{kind}] {check}: {operation}: {title}")
            print(f"  request:  {example['request']}")
            print(f"  status:   {example['status']}")
            for line in example["message"].splitlines()[:12]:
                print(f"  | {line}")
        for error in run["errors"]:
            print(f"\n[{kind}] error: {error}")

    if totals["requests"] < min_requests:
        print(f"\nFAILED: {totals['requests']} requests, fewer than the {min_requests} required")
        return 1
    bad = totals["server_errors"] + totals["schema"] + totals["content_type"] + totals["other"] + totals["errors"]
    if bad:
        print(f"\nFAILED: {totals['server_errors']} 5xx answer(s), "
              f"{totals['schema'] + totals['content_type'] + totals['other']} failed check(s), "
              f"{totals['errors']} error(s)")
        return 1
    print(f"\nOK: {totals['requests']} requests, no 5xx, no failed check")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
