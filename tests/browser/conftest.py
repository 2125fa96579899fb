"""Fixtures every browser suite shares.

- `server` (session): the real binary (`UPDATER_BIN`) on a free loopback
  port, with a throwaway SQLite data directory and one configured admin key.
  The console is on (`console.enabled`).
  It has `base_url`, `admin_key` and `api(method, path, body=None, key=None)`,
  which answers `(status, json)`; `key=None` sends the admin key, `key=""`
  sends none.
- `driver` (per test): headless Chromium through Debian's chromedriver, in a
  fresh profile, with the browser log on. After each test it saves a
  screenshot to `<target>/browser-screenshots/<test>.png` and fails the test
  on any SEVERE browser log entry or Content Security Policy message.
"""

import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

REPO = pathlib.Path(__file__).resolve().parents[2]
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
SCREENSHOTS = TARGET / "browser-screenshots"
LOGS = TARGET / "browser"
ADMIN_KEY = "browser-admin-key-0123456789abcdef0123456789"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


class Server:
    """The running binary and a JSON client for its API."""

    def __init__(self, base_url, admin_key):
        self.base_url = base_url
        self.admin_key = admin_key

    def api(self, method, path, body=None, key=None):
        """`(status, json)` of one API request; the JSON is None when the body is not JSON."""
        key = self.admin_key if key is None else key
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, None


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def config(data_dir):
    """The server's config.yaml: no rate limit (a test sends bursts), one admin key, the console on."""
    return (
        "browser:\n"
        "  server:\n"
        "    host: 127.0.0.1\n"
        "    drain_delay: 0s\n"
        "  storage:\n"
        "    type: sqlite\n"
        f"    data_dir: {data_dir}\n"
        "  security:\n"
        "    rate_limit:\n"
        "      enabled: false\n"
        "    api_keys:\n"
        f"      - {{name: browser-admin, key: {ADMIN_KEY}, permissions: [admin]}}\n"
        "  logging:\n"
        "    level: warn\n"
        "    format: json\n"
        "  console:\n"
        "    enabled: true\n"
    )


@pytest.fixture(scope="session")
def server():
    binary = os.environ.get("UPDATER_BIN") or str(TARGET / "debug" / "updater")
    work = pathlib.Path(tempfile.mkdtemp(prefix="updater-browser-"))
    (work / "config.yaml").write_text(config(work / "data"))
    LOGS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    # The server reads every UPDATER_* variable as configuration and refuses
    # unknown ones (UPDATER_BIN among them): it gets none.
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPDATER_")}
    log = open(LOGS / "server.log", "w")
    process = subprocess.Popen(
        [binary, "--config", str(work / "config.yaml"), "--section", "browser", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    running = Server(f"http://127.0.0.1:{port}", ADMIN_KEY)
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited: {(LOGS / 'server.log').read_text()}")
            try:
                if running.api("GET", "/health/ready", key="")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not become ready in 20 s")
            time.sleep(0.1)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def browser_problems(entries):
    """The log entries a page must never cause."""
    return [
        entry
        for entry in entries
        if entry.get("level") == "SEVERE" or "Content Security Policy" in entry.get("message", "")
    ]


@pytest.fixture
def driver(request):
    profile = tempfile.mkdtemp(prefix="updater-chromium-")
    options = Options()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield browser
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
        problems = browser_problems(browser.get_log("browser"))
        if problems:
            pytest.fail(f"the browser logged problems: {json.dumps(problems, indent=2)}")
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)
