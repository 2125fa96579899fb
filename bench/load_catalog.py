#!/usr/bin/env python3
"""Register releases [start, end) with the updater over HTTP, concurrently.

Release i gets version index v = i // 6 and target i % 6 (linux, windows,
darwin x amd64, arm64), so each target track holds ~1/6 of the catalog.
Version index v maps to 2.<v // 1000>.<v % 1000> (always > 1.0.0).
Linux releases use the multi-file form with a signed AppImage, so the Tauri and
electron-updater endpoints have something to serve; the others use the
single-file form.

Each worker thread keeps one keep-alive http.client connection. 201 and 409
(already registered) count as success; anything else aborts with exit 1.
"""

import argparse
import http.client
import json
import sys
import threading
import time

TARGETS = [(p, a) for p in ("linux", "windows", "darwin") for a in ("amd64", "arm64")]


def version_of(v: int) -> str:
    return f"2.{v // 1000}.{v % 1000}"


def release_body(i: int) -> bytes:
    v, t = divmod(i, len(TARGETS))
    platform, arch = TARGETS[t]
    version = version_of(v)
    body = {"version": version, "platform": platform, "architecture": arch}
    if platform == "linux":
        body["files"] = [
            {
                "kind": "appimage",
                "url": f"https://cdn.example.com/benchapp/{version}/benchapp-{arch}.AppImage",
                "size": 1_000_000 + i,
                "sha512": f"{i:0128x}",
                "signature": "dW50cnVzdGVkIGNvbW1lbnQ6IGJlbmNo",
            }
        ]
    else:
        body["download_url"] = f"https://cdn.example.com/benchapp/{version}/benchapp-{platform}-{arch}.tar.gz"
        body["checksum"] = f"{i:064x}"
        body["file_size"] = 1_000_000 + i
    return json.dumps(body).encode()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--app", default="benchapp")
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--end", type=int, required=True)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--print-latest", action="store_true",
                    help="only print the highest version on linux/amd64 for [0, end) and exit")
    args = ap.parse_args()

    if args.print_latest:
        print(version_of((args.end - 1) // len(TARGETS)))
        return 0

    path = f"/api/v1/updates/{args.app}/register"
    headers = {
        "Authorization": f"Bearer {args.key}",
        "Content-Type": "application/json",
    }
    lock = threading.Lock()
    next_index = [args.start]
    failures = []
    done = [0]
    chunk = 64

    def take():
        with lock:
            lo = next_index[0]
            if lo >= args.end or failures:
                return None
            hi = min(lo + chunk, args.end)
            next_index[0] = hi
            return lo, hi

    def worker():
        conn = http.client.HTTPConnection(args.host, args.port, timeout=30)
        while (span := take()) is not None:
            for i in range(*span):
                body = release_body(i)
                for attempt in range(3):
                    try:
                        conn.request("POST", path, body=body, headers=headers)
                        resp = conn.getresponse()
                        data = resp.read()
                        break
                    except (OSError, http.client.HTTPException):
                        conn.close()
                        conn = http.client.HTTPConnection(args.host, args.port, timeout=30)
                        if attempt == 2:
                            raise
                if resp.status not in (201, 409):
                    with lock:
                        failures.append(f"release {i}: HTTP {resp.status}: {data[:300]!r}")
                    return
            with lock:
                done[0] += span[1] - span[0]
        conn.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    if failures:
        print("load_catalog: " + failures[0], file=sys.stderr)
        return 1
    n = args.end - args.start
    print(f"load_catalog: registered {n} releases in {elapsed:.1f}s ({n / elapsed:.0f}/s, {args.workers} workers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
