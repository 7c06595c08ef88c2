"""The API reference at /api/docs renders in Chromium with every request outside the app refused: Swagger UI comes
from the app itself (assets/vendor/swagger-ui), so the docs work offline and behind a strict network."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page, expect


def test_the_api_reference_renders_with_nothing_from_outside(live_app, page: Page):
    app_host = urlsplit(live_app.url).netloc
    outside: list[str] = []

    def only_the_app(route):
        if urlsplit(route.request.url).netloc == app_host:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_app)
    page.goto(f"{live_app.url}/api/docs")
    expect(page.locator(".swagger-ui .title")).to_contain_text("Quantum Voice API", timeout=30_000)
    expect(page.locator(".opblock-summary-path").filter(has_text="/api/auth/login").first).to_be_visible()
    assert outside == []


def test_redoc_renders_with_nothing_from_outside(live_app, page: Page):
    """ReDoc (/api/redoc) from assets/vendor/redoc, with no web fonts. Its sidebar asks for Redocly's logo from a
    CDN: the page's own Content-Security-Policy refuses it inside the browser, so it never reaches the network."""
    app_host = urlsplit(live_app.url).netloc
    outside: list[str] = []
    asked: list[str] = []
    refused_by_policy: list[str] = []

    def only_the_app(route):
        if urlsplit(route.request.url).netloc == app_host:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_app)
    page.on("request", lambda request: urlsplit(request.url).netloc == app_host or asked.append(request.url))
    page.on("requestfailed", lambda request: request.failure == "csp" and refused_by_policy.append(request.url))
    page.goto(f"{live_app.url}/api/redoc")
    expect(page.locator(".api-info h1")).to_contain_text("Quantum Voice API", timeout=30_000)
    expect(page.get_by_text("/api/auth/login").first).to_be_attached()
    page.wait_for_load_state("networkidle")
    assert outside == []
    assert sorted(asked) == sorted(refused_by_policy)
