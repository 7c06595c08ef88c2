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
