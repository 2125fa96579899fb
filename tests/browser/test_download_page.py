"""The public download page in a real browser: the recommended download,
the platform list, the stylesheet, a phone's width, and stored payloads in
the application's name and release notes that never run."""

import pytest
from selenium.webdriver.common.by import By

APP = "browser-desk"
EVIL = "browser-evil"
CDN = "https://cdn.example.com"
EVIL_NAME = 'Evil <img src=x onerror="window.__xss=1;document.title=\'owned\'">'
EVIL_NOTES = "\n\n".join(
    [
        "Fixed **everything**",
        "<script>window.__xss=2;document.title='owned'</script>",
        "<img src=x onerror=\"window.__xss=3\">",
        "<a href=\"javascript:window.__xss=4\" onclick=\"window.__xss=5\">click me</a>",
        "<svg onload=\"window.__xss=6\"></svg><iframe src=\"javascript:window.__xss=7\"></iframe>",
    ]
)
WINDOWS_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
)


def release(version, platform, arch, files, notes="Faster start-up and **fewer** crashes."):
    return {
        "version": version,
        "platform": platform,
        "architecture": arch,
        "release_notes": notes,
        "files": [
            {"url": f"{CDN}/{name}", "size": size, "sha256": f"{size:064x}"} for name, size in files
        ],
    }


def publish(server, app, name, releases):
    status, body = server.api(
        "POST",
        "/api/v1/applications",
        {"id": app, "name": name, "platforms": ["linux", "windows", "darwin"], "config": {"download_page": True}},
    )
    assert status == 201, body
    for entry in releases:
        status, body = server.api("POST", f"/api/v1/updates/{app}/register", entry)
        assert status == 201, body


@pytest.fixture(scope="module")
def published(server):
    publish(
        server,
        APP,
        "Desk",
        [
            release("2.0.0", "linux", "amd64", [("Desk-2.0.0.AppImage", 123_456_789), ("desk_2.0.0_amd64.deb", 45_600_000)]),
            release("2.0.0", "linux", "arm64", [("Desk-2.0.0-arm64.AppImage", 120_000_000)]),
            release("2.0.0", "windows", "amd64", [("Desk-2.0.0-setup.exe", 80_000_000)]),
            release("2.0.0", "darwin", "arm64", [("Desk-2.0.0-arm64.dmg", 94_000_000)]),
        ],
    )
    publish(server, EVIL, EVIL_NAME, [release("1.0.0", "linux", "amd64", [("evil.deb", 10)], EVIL_NOTES)])
    return server


def open_page(driver, server, app, user_agent=None):
    if user_agent:
        driver.execute_cdp_cmd("Network.setUserAgentOverride", {"userAgent": user_agent})
    driver.get(f"{server.base_url}/download/{app}")
    return driver.find_element(By.TAG_NAME, "h1")


def test_the_visitors_platform_is_the_primary_download(driver, published):
    # Headless Chromium on this machine says "X11; Linux x86_64".
    open_page(driver, published, APP)
    button = driver.find_element(By.ID, "primary-download")
    assert button.is_displayed()
    assert button.get_attribute("href") == f"{published.base_url}/download/{APP}/linux/amd64"
    assert button.text == "Download for Linux (x64)"
    open_page(driver, published, APP, WINDOWS_AGENT)
    button = driver.find_element(By.ID, "primary-download")
    assert button.get_attribute("href") == f"{published.base_url}/download/{APP}/windows/amd64"


def test_the_other_platforms_are_listed_with_size_and_checksum(driver, published):
    open_page(driver, published, APP)
    cards = driver.find_elements(By.CSS_SELECTOR, ".downloads article.download")
    titles = [card.find_element(By.TAG_NAME, "h3").text for card in cards]
    assert titles == ["Linux (ARM64)", "Windows (x64)", "macOS (Apple silicon)"]
    for card in cards:
        assert card.is_displayed()
        assert card.find_element(By.CSS_SELECTOR, "data.size").text.endswith("MB")
        assert len(card.find_element(By.CSS_SELECTOR, "code.checksum").text) == 64
    feed = driver.find_element(By.CSS_SELECTOR, 'link[rel="alternate"][type="application/atom+xml"]')
    assert feed.get_attribute("href") == f"{published.base_url}/download/{APP}/feed.atom"
    notes = driver.find_element(By.CSS_SELECTOR, ".notes-body strong")
    assert notes.text == "fewer"


def test_the_stylesheet_applies(driver, published):
    open_page(driver, published, APP)
    button = driver.find_element(By.ID, "primary-download")
    assert button.value_of_css_property("background-color") == "rgba(11, 87, 164, 1)"
    assert driver.execute_script("return getComputedStyle(document.body).margin") == "0px"


@pytest.mark.parametrize("app", [APP, EVIL])
def test_a_phone_screen_never_scrolls_sideways(driver, published, app):
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True},
    )
    open_page(driver, published, app)
    widths = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth,"
        " document.getElementById('primary-download').getBoundingClientRect().right]"
    )
    scroll_width, inner_width, button_right = widths
    assert inner_width == 390
    assert scroll_width <= inner_width, widths
    assert button_right <= inner_width, widths


def test_stored_payloads_never_run(driver, published):
    heading = open_page(driver, published, EVIL)
    assert heading.text == f"Download {EVIL_NAME}"
    assert driver.title == f"Download {EVIL_NAME}"
    assert driver.execute_script("return typeof window.__xss") == "undefined"
    assert driver.find_elements(By.CSS_SELECTOR, "img, svg, iframe, script") == []
    link = driver.find_element(By.LINK_TEXT, "click me")
    assert link.get_attribute("href") is None
    assert link.get_attribute("onclick") is None
    link.click()
    assert driver.execute_script("return typeof window.__xss") == "undefined"
