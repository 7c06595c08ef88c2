"""/api/q/{code}: the public address a printed QR code encodes. Counts the scan, then sends the caller to the
campaign's call page. Nobody is signed in here."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from quantum_voice.api.deps import DB, client_ip
from quantum_voice.services import deployment

router = APIRouter(prefix="/api/q", tags=["public"])

_NO_STORE = {"Cache-Control": "no-store"}  # every scan must reach us to be counted
_UNAVAILABLE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>This code is no longer active</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem;
line-height: 1.5; font-size: 1.15rem">
<h1 style="font-size: 1.6rem">This code is no longer active</h1>
<p>The campaign behind this QR code has ended or the code was withdrawn. Please contact the business directly.</p>
</body></html>"""


@router.get("/{code}", response_class=RedirectResponse, status_code=302,
            responses={404: {"content": {"text/html": {}}, "description": "Unknown code or deleted campaign"}})
def scan(code: str, request: Request, session: DB):
    outcome = deployment.record_scan(session, code, ip=client_ip(request),
                                     user_agent=request.headers.get("user-agent"),
                                     referrer=request.headers.get("referer"))
    if outcome is None:
        return HTMLResponse(_UNAVAILABLE_PAGE, status_code=404, headers=_NO_STORE)
    return RedirectResponse(outcome.redirect_url, status_code=302, headers=_NO_STORE)
