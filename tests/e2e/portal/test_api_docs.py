"""The API's documentation pages, rendered in Chromium from the portal's own files: Swagger UI
at /api/v1/docs/ and ReDoc at /api/v1/redoc/, with no request to another host (no CDN)."""

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def requested_hosts(page):
    """Every host the page reached over the network (not data: nor blob: URLs). A request the
    page's Content-Security-Policy blocked never left the browser: it is noted apart."""
    hosts: set[str] = set()
    page.blocked = []

    def finished(request) -> None:
        url = urlsplit(request.url)
        if url.scheme not in ("data", "blob"):
            hosts.add(url.netloc)

    def failed(request) -> None:
        if request.failure == "csp":  # Chromium: net::ERR_BLOCKED_BY_CSP
            page.blocked.append(request.url)
        else:
            finished(request)

    page.on("requestfinished", finished)
    page.on("requestfailed", failed)
    return hosts


def test_swagger_ui_renders_every_endpoint_from_this_server(
    page, requested_hosts, server_url, screenshot
):
    page.goto("/api/v1/docs/")
    page.locator(".swagger-ui .info .title", has_text="Autocharge supervision API").wait_for()
    page.locator(".opblock-summary-path").first.wait_for()
    screenshot(page, "api-docs")
    # Swagger UI draws only the operations in view (a virtual list): scrolled through, it shows
    # every operation of the API.
    # Each operation's method and path read together, in one look at the page: read in two
    # looks, the list could redraw in between (a flaky failure, seen once).
    shown: set[str] = set()
    for _ in range(200):
        shown.update(
            page.eval_on_selector_all(
                ".opblock-summary",
                """summaries => summaries.map(summary =>
                    summary.querySelector(".opblock-summary-method")?.innerText + " " +
                    summary.querySelector(".opblock-summary-path")?.innerText)""",
            )
        )
        if page.evaluate("window.innerHeight + window.scrollY >= document.body.scrollHeight"):
            break
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(50)
    paths = {operation.split(" ", 1)[1].replace("\u200b", "") for operation in shown}
    assert {"/api/v1/badges/", "/api/v1/webhooks/", "/api/v1/tariffs/"} <= paths
    assert len(shown) > 100
    page.wait_for_load_state("networkidle")
    assert requested_hosts == {urlsplit(server_url).netloc}


def test_redoc_renders_from_this_server(page, requested_hosts, server_url):
    page.goto("/api/v1/redoc/")
    page.get_by_role("heading", name="Autocharge supervision API").first.wait_for()
    page.get_by_text("/api/v1/auth/token/").first.wait_for(state="attached")
    page.wait_for_load_state("networkidle")
    assert requested_hosts == {urlsplit(server_url).netloc}
    # ReDoc's footer shows its maker's logo from their CDN: refused by the page's policy.
    assert page.blocked == ["https://cdn.redoc.ly/redoc/logo-mini.svg"]
