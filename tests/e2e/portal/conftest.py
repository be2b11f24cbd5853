"""Headless Chromium (the system's: Debian's ``chromium`` package) driven by Playwright, one
browser for all the browser tests (they are one module), a fresh context (cookies, storage) per
test.

Without Chromium the browser tests are skipped with the reason in the summary; with
``REQUIRE_BROWSER=1`` (CI) that is a failure instead.
"""

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def _chromium() -> str:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is not None:
        return executable
    message = "no Chromium on this machine (apt-get install chromium): browser tests not run"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser(server_url):
    """Module-scoped, not session-scoped: Playwright's sync API keeps an event loop running in
    this thread while it is open, which every later asyncio test would trip over. After the
    server: the server process must not inherit the environment set below."""
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    # That loop also makes Django's ORM, which the tests call between two browser steps (never
    # concurrently), refuse to run; allowed for these tests only.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
            yield browser
            browser.close()


@pytest.fixture
def page(browser, server_url):
    """A blank tab (tablet-sized) of its own context, on the test server."""
    context = browser.new_context(
        base_url=server_url.replace("ws://", "http://"),
        viewport={"width": 1180, "height": 820},
        locale="en-GB",
        accept_downloads=True,
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def screenshot():
    """Save the page as ``test-artifacts/screenshots/<name>.png`` (ignored by git)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return take
