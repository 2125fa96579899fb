#!/usr/bin/env python3
"""Cross-replica propagation probe for bench/propagation.sh.

Given N updater replicas sharing one PostgreSQL database, it creates an
application, then for each write: registers a release through one replica,
starts the clock when the 201 arrives, and polls the *other* replicas' JSON
update check over keep-alive connections until each one names the new
version. The same is done for a few yanks (PATCH ... {"yanked": true}): the
clock runs until the others fall back to the previous version.

Prints a summary table (milliseconds) on stdout and writes one line per
observation to --raw. Exit status: 0 when every change became visible, 1 on
an HTTP/protocol error or when a change was still not visible after
--timeout seconds (a lost change, not a slow one).
"""

import argparse
import http.client
import json
import sys
import time

APP = "bench"
FIRST_POLL_HITS = [0]  # observations already visible at the first poll
MISSING = object()  # the application is not (yet) known to a replica
CHECK = f"/api/v1/updates/{APP}/check?current_version=0.1.0&platform=linux&architecture=amd64"


class Replica:
    """One replica with a keep-alive connection for polls and one for writes."""

    def __init__(self, index, port, key):
        self.index = index
        self.port = port
        self.key = key
        self.poll_conn = None
        self.write_conn = None

    def _request(self, which, method, path, body=None, headers=None):
        for attempt in (0, 1):
            conn = getattr(self, which)
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                setattr(self, which, conn)
            try:
                conn.request(method, path, body=body, headers=headers or {})
                resp = conn.getresponse()
                data = resp.read()
                return resp.status, data
            except (http.client.HTTPException, ConnectionError, OSError):
                conn.close()
                setattr(self, which, None)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def api(self, method, path, payload):
        return self._request(
            "write_conn",
            method,
            path,
            body=json.dumps(payload).encode(),
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
        )

    def latest(self, allow_missing=False):
        status, data = self._request("poll_conn", "GET", CHECK)
        if status == 404 and allow_missing:
            return MISSING
        if status != 200:
            raise RuntimeError(f"replica {self.index} check: HTTP {status}: {data[:300]!r}")
        return json.loads(data).get("latest_version")


def percentile(sorted_values, p):
    """Nearest-rank percentile of a sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))  # ceil(n * p / 100)
    return sorted_values[int(rank) - 1]


def wait_visible(observers, expected, timeout, allow_missing=False):
    """Polls observers round-robin until each answers `expected`.

    Returns ({replica index: seconds since t0}, polls, t0). The clock starts
    when called, i.e. right after the write's response was read."""
    t0 = time.perf_counter()
    pending = list(observers)
    seen = {}
    polls = 0
    first = True
    while pending:
        for rep in list(pending):
            got = rep.latest(allow_missing)
            now = time.perf_counter()
            polls += 1
            if got == expected:
                seen[rep.index] = now - t0
                pending.remove(rep)
                if first:
                    FIRST_POLL_HITS[0] += 1
        first = False
        if pending and time.perf_counter() - t0 > timeout:
            break
    return seen, polls


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ports", required=True, help="comma-separated replica ports")
    ap.add_argument("--key", required=True, help="admin API key")
    ap.add_argument("--writes", type=int, default=200)
    ap.add_argument("--yanks", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="seconds after which a change counts as lost")
    ap.add_argument("--target-ms", type=float, default=1000.0)
    ap.add_argument("--raw", help="file for per-observation lines")
    args = ap.parse_args()

    ports = [int(p) for p in args.ports.split(",")]
    if len(ports) < 2:
        sys.exit("need at least two replicas")
    if args.yanks >= args.writes:
        sys.exit("--yanks must be smaller than --writes")
    reps = [Replica(i, p, args.key) for i, p in enumerate(ports)]
    raw = open(args.raw, "w") if args.raw else None
    if raw:
        raw.write("kind seq version writer observer ms\n")

    status, data = reps[0].api("POST", "/api/v1/applications",
                               {"id": APP, "name": "Bench", "platforms": ["linux"]})
    if status != 201:
        sys.exit(f"create application: HTTP {status}: {data[:300]!r}")
    # Let every replica learn about the application before the timed writes
    # (no release yet: the check answers 200 with latest_version null).
    seen, _ = wait_visible(reps, None, args.timeout, allow_missing=True)
    if len(seen) != len(reps):
        sys.exit(f"the application did not reach every replica within {args.timeout:.0f}s")
    app_ms = max(seen.values()) * 1000
    FIRST_POLL_HITS[0] = 0

    results = {"register": [], "yank": []}   # (writer, observer, seconds)
    both = {"register": [], "yank": []}      # slowest observer per change
    write_rtt = []
    polls_total = 0
    lost = 0
    poll_time = 0.0

    def measure(kind, seq, version, writer, expected, method, path, payload, want):
        nonlocal polls_total, lost, poll_time
        w0 = time.perf_counter()
        status, data = reps[writer].api(method, path, payload)
        if status != want:
            raise RuntimeError(f"{kind} {version} via replica {writer}: HTTP {status}: {data[:300]!r}")
        write_rtt.append(time.perf_counter() - w0)
        observers = [r for r in reps if r.index != writer]
        p0 = time.perf_counter()
        seen, polls = wait_visible(observers, expected, args.timeout)
        poll_time += time.perf_counter() - p0
        polls_total += polls
        for rep in observers:
            if rep.index not in seen:
                lost += 1
                print(f"LOST: {kind} {version} via replica {writer} not visible on replica "
                      f"{rep.index} after {args.timeout:.0f}s", file=sys.stderr)
                continue
            results[kind].append((writer, rep.index, seen[rep.index]))
            if raw:
                raw.write(f"{kind} {seq} {version} {writer} {rep.index} {seen[rep.index] * 1000:.3f}\n")
        if len(seen) == len(observers):
            both[kind].append(max(seen.values()))

    checksum = "ab" * 32
    for i in range(args.writes):
        version = f"1.{i}.0"
        measure("register", i, version, i % len(reps), version, "POST",
                f"/api/v1/updates/{APP}/register",
                {"version": version, "platform": "linux", "architecture": "amd64",
                 "download_url": f"https://cdn.example.com/x-{version}.tar.gz",
                 "checksum": checksum, "file_size": 1}, 201)
        if (i + 1) % 50 == 0:
            print(f"[propagation] {i + 1}/{args.writes} writes", file=sys.stderr)

    # Yank the newest release, one at a time: the others must fall back to the previous one.
    for k in range(args.yanks):
        version = f"1.{args.writes - 1 - k}.0"
        expected = f"1.{args.writes - 2 - k}.0"
        measure("yank", k, version, k % len(reps), expected, "PATCH",
                f"/api/v1/updates/{APP}/releases/{version}/linux/amd64", {"yanked": True}, 200)

    if raw:
        raw.close()

    # --- summary ---------------------------------------------------------------
    def row(label, secs):
        v = sorted(s * 1000 for s in secs)
        if not v:
            return f"{label:<34} {0:>6} " + " ".join(f"{'-':>8}" for _ in range(6))
        over = sum(1 for x in v if x >= args.target_ms)
        return (f"{label:<34} {len(v):>6} {v[0]:>8.2f} {percentile(v, 50):>8.2f} "
                f"{percentile(v, 90):>8.2f} {percentile(v, 99):>8.2f} {v[-1]:>8.2f} {over:>8}")

    print()
    print(f"Propagation delay across {len(reps)} replicas sharing PostgreSQL (LISTEN/NOTIFY), "
          f"milliseconds from the write's response to the other replica's first answer showing it")
    print(f"target: every change visible on every other replica in < {args.target_ms:.0f} ms")
    print()
    print(f"{'measurement':<34} {'count':>6} {'min':>8} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8} "
          f"{'>=target':>8}")
    print(row("register, each other replica", [s for _, _, s in results["register"]]))
    print(row("register, slowest of the others", both["register"]))
    for rep in reps:
        print(row(f"register, seen by replica {rep.index}",
                  [s for _, o, s in results["register"] if o == rep.index]))
    print(row("yank, each other replica", [s for _, _, s in results["yank"]]))
    print(row("yank, slowest of the others", both["yank"]))
    print(row("write round trip, 201/200 (context)", write_rtt))
    print()
    all_ms = [s * 1000 for kind in results for _, _, s in results[kind]]
    worst = max(all_ms) if all_ms else float("nan")
    mean_poll_us = poll_time / polls_total * 1e6 if polls_total else float("nan")
    print(f"application create -> visible on all {len(reps)} replicas: {app_ms:.2f} ms (includes the writer)")
    print(f"writes: {args.writes} registers + {args.yanks} yanks, round-robin over the replicas; "
          f"{polls_total} check polls, mean poll {mean_poll_us:.0f} us (the measurement's resolution)")
    print(f"{FIRST_POLL_HITS[0]} of {len(all_ms)} observations were already visible at the first poll "
          f"(the change reached that replica before the writer's response did)")
    verdict = "MET" if all_ms and worst < args.target_ms and not lost else "NOT MET"
    print(f"target < {args.target_ms:.0f} ms: {verdict} (worst {worst:.2f} ms; "
          f"{sum(1 for x in all_ms if x >= args.target_ms)} observations at or over target; "
          f"{lost} lost after {args.timeout:.0f}s)")
    return 1 if lost else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError, http.client.HTTPException, ValueError) as e:
        print(f"ERROR: {e}", file=sys.stderr)
        sys.exit(1)
