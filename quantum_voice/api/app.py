"""Builds the FastAPI app that Reflex mounts (rx.App(api_transformer=...))."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from quantum_voice.api import account, auth, campaigns, flows, integrations, knowledge, leads
from quantum_voice.api import handoff_audio, handoffs, public_calls, qr
from quantum_voice.api.errors import install_error_handlers
from quantum_voice.api.input_checks import InputChecks
from quantum_voice.api.limits import BodySizeLimit
from quantum_voice.services.health import health_report


def create_api() -> FastAPI:
    api = FastAPI(
        title="Quantum Voice API",
        version="1.0",
        description="Campaigns, calls, leads and knowledge of your Quantum Voice organisation. "
                    "Authenticate with `Authorization: Bearer <token>` from `POST /api/auth/login`.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    install_error_handlers(api)
    api.add_middleware(InputChecks)
    api.add_middleware(BodySizeLimit)  # added last, so it runs first: nothing reads an oversized body
    api.include_router(auth.router)
    api.include_router(account.router)
    api.include_router(knowledge.router)
    api.include_router(campaigns.router)
    api.include_router(flows.router)
    api.include_router(leads.router)
    api.include_router(handoffs.router)
    api.include_router(handoffs.agents_router)
    api.include_router(handoff_audio.router)
    api.include_router(integrations.router)
    api.include_router(integrations.campaign_router)
    api.include_router(qr.router)
    api.include_router(public_calls.router)

    @api.get("/api/health", tags=["system"])
    def health() -> JSONResponse:
        report = health_report()
        return JSONResponse(report, status_code=503 if report["status"] == "error" else 200)

    return api
