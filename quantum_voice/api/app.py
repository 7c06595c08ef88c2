"""Builds the FastAPI app that Reflex mounts (rx.App(api_transformer=...))."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from quantum_voice.api import account, auth, campaigns, developer, flows, integrations, knowledge, leads
from quantum_voice.api import handoff_audio, handoffs, public_calls, qr
from quantum_voice.api.errors import install_error_handlers
from quantum_voice.api.idempotency import IdempotencyKeys
from quantum_voice.api.input_checks import InputChecks
from quantum_voice.api.limits import BodySizeLimit
from quantum_voice.api.schema import openapi_schema
from quantum_voice.services.health import health_report

SWAGGER_UI = "/vendor/swagger-ui"  # assets/vendor/swagger-ui, copied from tools/node_modules by scripts/setup.sh
REDOC = "/vendor/redoc"  # assets/vendor/redoc, likewise
# ReDoc's sidebar shows Redocly's logo from their CDN: images from this app only, so the page asks nothing outside.
REDOC_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
                "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
                "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
                "frame-ancestors 'none'")


def create_api() -> FastAPI:
    api = FastAPI(
        title="Quantum Voice API",
        version="1.0",
        description="Campaigns, calls, leads and knowledge of your Quantum Voice organisation. "
                    "Authenticate with `Authorization: Bearer <key>`, an API key (`qv_live_…`) from the "
                    "Developers page whose scopes allow the route, or a session token from `POST /api/auth/login`. "
                    "Any POST may carry `Idempotency-Key: <1-255 characters>`: a retry with the same key and body "
                    "gets the first answer again (`Idempotent-Replayed: true`) instead of running twice.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # served below from this machine's copy of Swagger UI, not FastAPI's CDN default
        redoc_url=None,  # likewise, ReDoc below
    )
    install_error_handlers(api)
    api.add_middleware(IdempotencyKeys)  # innermost: sees only bodies the two below let through
    api.add_middleware(InputChecks)
    api.add_middleware(BodySizeLimit)  # added last, so it runs first: nothing reads an oversized body
    routers = [auth.router, account.router, knowledge.router, campaigns.router, flows.router, leads.router,
               handoffs.router, handoffs.agents_router, handoff_audio.router, integrations.router,
               integrations.campaign_router, developer.router, developer.webhooks_router, qr.router,
               public_calls.router]
    for router in routers:
        api.include_router(router)

    @api.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """The API reference: Swagger UI from assets/vendor/swagger-ui (installed from npm by `make setup`)."""
        return get_swagger_ui_html(openapi_url="/api/openapi.json", title="Quantum Voice API",
                                   swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
                                   swagger_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png")

    @api.get("/api/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        """The same reference as one readable page: ReDoc from assets/vendor/redoc, no web fonts, no CDN logo."""
        page = get_redoc_html(openapi_url="/api/openapi.json", title="Quantum Voice API",
                              redoc_js_url=f"{REDOC}/redoc.standalone.js",
                              redoc_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png", with_google_fonts=False)
        page.headers["Content-Security-Policy"] = REDOC_POLICY
        return page

    @api.get("/api/health", tags=["system"],
             responses={503: {"description": "Something the app needs is down: the report says what"}})
    def health() -> JSONResponse:
        report = health_report()
        return JSONResponse(report, status_code=503 if report["status"] == "error" else 200)

    # the shared errors and Idempotency-Key, which FastAPI cannot see
    api.openapi = lambda: openapi_schema(api, [route for router in routers for route in router.routes])
    return api
