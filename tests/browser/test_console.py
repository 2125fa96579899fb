"""The web console in a real browser: sign-in, rollout control (raise,
pause, yank) with its confirmation, the audit entries it leaves, the
adoption charts, keyboard use, a phone's width, a forged form from another
origin, and stored payloads that never run. Any CSP violation or browser
error fails the test (conftest)."""

import http.server
import threading

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from conftest import ADMIN_KEY, browser_problems

APP = "console-desk"
EVIL = "console-evil"
EVIL_NAME = 'Evil <img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
CDN = "https://cdn.example.com"
TARGET = "2.0.0/linux/amd64"
OLD_INSTALLS = 12
NEW_INSTALLS = 4


def release(version, rollout=100):
    return {
        "version": version,
        "platform": "linux",
        "architecture": "amd64",
        "rollout_percentage": rollout,
        "files": [{"url": f"{CDN}/desk-{version}.AppImage", "size": 98_765_432, "sha256": f"{rollout:064x}"}],
    }


def check(server, version, install):
    status, body = server.api(
        "GET",
        f"/api/v1/updates/{APP}/check?current_version={version}&platform=linux&architecture=amd64&install_id={install}",
        key="",
    )
    assert status == 200, body


@pytest.fixture(scope="module")
def seeded(server):
    for app, name in [(APP, "Console Desk"), (EVIL, EVIL_NAME)]:
        status, body = server.api(
            "POST", "/api/v1/applications", {"id": app, "name": name, "description": name, "platforms": ["linux"]}
        )
        assert status == 201, body
    for entry in [release("1.0.0"), release("2.0.0", rollout=10)]:
        status, body = server.api("POST", f"/api/v1/updates/{APP}/register", entry)
        assert status == 201, body
    for i in range(OLD_INSTALLS):
        check(server, "1.0.0", f"old-{i}")
    for i in range(NEW_INSTALLS):
        check(server, "2.0.0", f"new-{i}")
    return server


def release_state(server):
    status, body = server.api("GET", f"/api/v1/updates/{APP}/releases?version=2.0.0")
    assert status == 200, body
    return body["releases"][0]


def sign_in(driver, server, key=ADMIN_KEY, lands_on="Applications"):
    driver.get(f"{server.base_url}/console/login")
    field = driver.find_element(By.ID, "key")
    label = driver.find_element(By.CSS_SELECTOR, "label[for=key]")
    assert label.text == "API key"
    field.send_keys(key)
    field.send_keys(Keys.ENTER)
    expect_heading(driver, lands_on)


def expect_refusals(driver, status):
    """Takes the browser log, whose problems (conftest) may only be the refused request."""
    unexpected = [
        entry
        for entry in browser_problems(driver.get_log("browser"))
        if f"the server responded with a status of {status}" not in entry.get("message", "")
    ]
    assert unexpected == [], unexpected


def heading(driver):
    return driver.find_element(By.TAG_NAME, "h1").text


def expect_heading(driver, text):
    """Waits (10 s at most) for the page a click or a submit leads to."""

    def arrived(_):
        try:
            return heading(driver) == text
        except (NoSuchElementException, StaleElementReferenceException):
            return False

    try:
        WebDriverWait(driver, 10).until(arrived)
    except TimeoutException:
        pytest.fail(f"expected the page {text!r}, got {driver.current_url}: {driver.page_source[:2000]}")


def row(driver):
    return driver.find_element(By.ID, f"release-{APP}-2.0.0-linux-amd64")


def test_a_wrong_key_is_refused_then_the_right_one_signs_in(driver, seeded):
    sign_in(driver, seeded, key="not-the-key", lands_on="Sign in")
    problem = driver.find_element(By.ID, "login-problem")
    assert problem.get_attribute("role") == "alert"
    assert "Invalid API key" in problem.text
    expect_refusals(driver, 401)
    assert driver.find_element(By.ID, "key").get_attribute("aria-describedby") == "login-problem"
    driver.find_element(By.ID, "key").send_keys(ADMIN_KEY, Keys.ENTER)
    expect_heading(driver, "Applications")
    assert "Signed in as browser-admin" in driver.find_element(By.CSS_SELECTOR, ".who").text
    cookies = driver.get_cookies()
    assert [(c["name"], c["httpOnly"], c["sameSite"]) for c in cookies] == [("updater_console", True, "Strict")]
    assert driver.execute_script("return document.cookie") == "", "HttpOnly: no script can read it"


def test_raise_pause_and_yank_with_confirmations_then_the_audit_entries(driver, seeded):
    sign_in(driver, seeded)
    driver.find_element(By.LINK_TEXT, "Console Desk").click()
    expect_heading(driver, "Console Desk")
    assert row(driver).find_element(By.CSS_SELECTOR, ".badge.partial").text == "10 %"

    percentage = row(driver).find_element(By.CSS_SELECTOR, "input[name=percentage]")
    percentage.clear()
    percentage.send_keys("50")
    row(driver).find_element(By.XPATH, ".//button[text()='Review']").click()
    expect_heading(driver, "Change the rollout")
    assert driver.find_element(By.ID, "affected-installs").text == str(OLD_INSTALLS)
    assert release_state(seeded)["rollout_percentage"] == 10, "reviewing changes nothing"
    driver.find_element(By.XPATH, "//button[starts-with(., 'Confirm')]").click()
    expect_heading(driver, "Console Desk")
    assert row(driver).find_element(By.CSS_SELECTOR, ".badge.partial").text == "50 %"
    assert release_state(seeded)["rollout_percentage"] == 50

    row(driver).find_element(By.LINK_TEXT, "Pause").click()
    expect_heading(driver, "Pause the rollout")
    driver.find_element(By.XPATH, "//button[starts-with(., 'Confirm')]").click()
    expect_heading(driver, "Console Desk")
    assert row(driver).find_element(By.CSS_SELECTOR, ".badge.paused").text == "Paused"
    assert release_state(seeded)["rollout_paused"] is True

    row(driver).find_element(By.LINK_TEXT, "Yank").click()
    expect_heading(driver, "Yank the release")
    assert driver.find_element(By.ID, "affected-installs").text == str(NEW_INSTALLS)
    driver.find_element(By.ID, "reason").send_keys("crashes at start")
    driver.find_element(By.XPATH, "//button[starts-with(., 'Confirm')]").click()
    expect_heading(driver, "Console Desk")
    assert row(driver).find_element(By.CSS_SELECTOR, ".badge.yanked").text == "Yanked"
    assert release_state(seeded)["yanked"] is True

    driver.find_element(By.LINK_TEXT, "Audit log").click()
    expect_heading(driver, "Audit log")
    driver.find_element(By.ID, "f-application").send_keys(APP)
    driver.find_element(By.ID, "f-action").send_keys("release.updated", Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda _: "action=release.updated" in driver.current_url)
    rows = driver.find_elements(By.CSS_SELECTOR, "table.audit tbody tr")
    assert len(rows) == 3, [r.text for r in rows]
    newest = rows[0].text
    assert "release.updated" in newest and "browser-admin" in newest and "yanked: false → true" in newest
    assert "rollout_percentage: 10 → 50" in rows[2].text


def test_the_adoption_charts_render(driver, seeded):
    sign_in(driver, seeded)
    driver.get(f"{seeded.base_url}/console/apps/{APP}/adoption")
    assert f"{OLD_INSTALLS + NEW_INSTALLS}" in driver.find_element(By.CSS_SELECTOR, ".totals").text
    for chart in ("versions-chart", "funnel-chart"):
        svg = driver.find_element(By.CSS_SELECTOR, f"#{chart} svg")
        assert svg.is_displayed()
        size = svg.size
        assert size["width"] > 300 and size["height"] > 100, size
        assert driver.find_element(By.CSS_SELECTOR, f"#{chart} [role=img]").get_attribute("aria-label")
    lines = driver.find_elements(By.CSS_SELECTOR, "#versions-chart polyline[stroke-width='2']")
    assert len(lines) >= 2, "a line per version and its legend sample"
    versions = [r.text.split()[0] for r in driver.find_elements(By.CSS_SELECTOR, "#versions-heading ~ .scroll tbody tr")]
    assert versions == ["1.0.0", "2.0.0"]


def test_the_console_works_from_the_keyboard(driver, seeded):
    driver.get(f"{seeded.base_url}/console/login")
    active = driver.switch_to.active_element
    assert active.get_attribute("id") == "key", "the key field has focus"
    active.send_keys(ADMIN_KEY, Keys.ENTER)
    expect_heading(driver, "Applications")
    ActionChains(driver).send_keys(Keys.TAB).perform()
    skip = driver.switch_to.active_element
    assert skip.text == "Skip to content"
    assert skip.value_of_css_property("outline-style") == "solid", "focus is visible"
    skip.send_keys(Keys.ENTER)
    assert driver.switch_to.active_element.get_attribute("id") == "content"


@pytest.mark.parametrize("path", ["/console/apps", f"/console/apps/{APP}", f"/console/apps/{APP}/adoption", "/console/audit"])
def test_a_phone_screen_never_scrolls_sideways(driver, seeded, path):
    sign_in(driver, seeded)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True},
    )
    driver.get(seeded.base_url + path)
    scroll_width, inner_width = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert inner_width == 390
    assert scroll_width <= inner_width, (path, scroll_width)
    for region in driver.find_elements(By.CSS_SELECTOR, ".scroll"):
        assert region.get_attribute("tabindex") == "0" and region.get_attribute("aria-label")


class AttackerPage(http.server.BaseHTTPRequestHandler):
    """A page on another origin with a form aimed at the console."""

    target = ""

    def do_GET(self):
        page = (
            "<!doctype html><title>win a prize</title>"
            f'<form method="post" action="{self.target}"><input type="hidden" name="csrf" value="guess">'
            '<button id="prize" type="submit">Claim</button></form>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args):
        pass


def test_a_form_on_another_origin_cannot_change_a_rollout(driver, seeded):
    sign_in(driver, seeded)
    before = release_state(seeded)
    AttackerPage.target = f"{seeded.base_url}/console/apps/{APP}/releases/{TARGET}/restore"
    attacker = http.server.HTTPServer(("127.0.0.1", 0), AttackerPage)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    try:
        driver.get(f"http://127.0.0.1:{attacker.server_port}/")
        driver.find_element(By.ID, "prize").click()
        expect_heading(driver, "403 Forbidden")
        assert "sent from another site" in driver.find_element(By.CSS_SELECTOR, ".problem").text
    finally:
        attacker.shutdown()
    after = release_state(seeded)
    assert after["yanked"] == before["yanked"] and after["rollout_paused"] == before["rollout_paused"]
    expect_refusals(driver, 403)


def test_stored_payloads_never_run(driver, seeded):
    sign_in(driver, seeded)
    driver.get(f"{seeded.base_url}/console/apps/{EVIL}")
    expect_heading(driver, EVIL_NAME)
    assert driver.title == f"{EVIL_NAME} – updater console"
    driver.get(f"{seeded.base_url}/console/apps")
    assert driver.find_element(By.LINK_TEXT, EVIL_NAME).is_displayed()
    assert driver.execute_script("return typeof window.__xss") == "undefined"
    assert driver.find_elements(By.CSS_SELECTOR, "main img, main script") == []


def test_signing_out_ends_the_session(driver, seeded):
    sign_in(driver, seeded)
    driver.find_element(By.XPATH, "//button[text()='Sign out']").click()
    expect_heading(driver, "Sign in")
    driver.get(f"{seeded.base_url}/console/apps")
    expect_heading(driver, "Sign in")
