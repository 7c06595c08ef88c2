"""The receivers of lead notifications, one adapter each, speaking the services' documented wire formats:

- Slack Web API ``POST {SLACK_BASE_URL}/api/chat.postMessage`` (Bearer bot token; JSON channel, text, blocks).
  Slack answers HTTP 200 with ``{"ok": false, "error": ...}`` on failure, and 429 with Retry-After when rate
  limited. It has no idempotency header; the key travels in the message's ``metadata`` event payload.
- Asana ``POST {ASANA_BASE_URL}/api/1.0/tasks`` (Bearer personal access token; ``{"data": {...}}``). No
  idempotency support either; the key is the last line of the task's notes.
- Resend ``POST {RESEND_BASE_URL}/emails`` (Bearer API key; ``Idempotency-Key`` header).
- SMTP (or the outbox log) through services/email.py, with the key as the Message-ID.

Each raises ``DeliveryFailed`` saying what went wrong in words a person can act on, and whether trying again
later could help (``retryable``). Secrets go in headers only: never in an error, a log line or a receipt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from quantum_voice.core.config import Settings
from quantum_voice.services import email as email_service

# Slack errors that retrying cannot fix (the token, the channel or the app's scopes are wrong).
_SLACK_PERMANENT = {
    "invalid_auth": "Slack refused the bot token (invalid_auth). Check the token on the Integrations page.",
    "not_authed": "Slack got no bot token (not_authed).",
    "account_inactive": "The Slack bot's token belongs to a deleted user or workspace (account_inactive).",
    "token_revoked": "The Slack bot token was revoked (token_revoked). Connect Slack again with a new token.",
    "token_expired": "The Slack bot token expired (token_expired). Connect Slack again with a new token.",
    "channel_not_found": "Slack cannot find that channel (channel_not_found). Use the channel ID (C0123…) "
                         "or #name, and invite the bot to a private channel.",
    "not_in_channel": "The bot is not a member of that channel (not_in_channel). Invite it with /invite @bot.",
    "is_archived": "That Slack channel is archived (is_archived).",
    "missing_scope": "The Slack app lacks the chat:write scope (missing_scope). Add it and reinstall the app.",
    "restricted_action": "The workspace does not let the bot post in that channel (restricted_action).",
    "invalid_blocks": "Slack refused the message layout (invalid_blocks).",
}


class DeliveryFailed(Exception):
    """A notification did not arrive. ``retryable``: a later try may work (the receiver was down, slow or rate
    limited); ``retry_after``: the receiver asked us to wait this many seconds."""

    def __init__(self, message: str, *, retryable: bool = True, retry_after: float | None = None,
                 receipt: dict[str, Any] | None = None):
        super().__init__(message)
        self.message, self.retryable, self.retry_after = message, retryable, retry_after
        self.receipt = receipt or {}
        self.records: list[email_service.Transmitted] = []  # emails tried before the failure, for the outbox


@dataclass(frozen=True)
class Notice:
    """What a notification says, in the shape each receiver wants."""

    subject: str  # one line: Slack's fallback text, the email subject, the Asana task name
    text: str  # plain text: email body, Asana notes
    blocks: list[dict[str, Any]] = field(default_factory=list)  # Slack Block Kit
    due_on: str | None = None  # Asana due date, YYYY-MM-DD


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _post(name: str, url: str, *, token: str, body: dict[str, Any], settings: Settings,
          headers: dict[str, str] | None = None) -> httpx.Response:
    all_headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=utf-8",
                   **(headers or {})}
    try:
        with httpx.Client(timeout=settings.notify_timeout_seconds) as client:
            return client.post(url, json=body, headers=all_headers)
    except httpx.TimeoutException as exc:
        raise DeliveryFailed(f"{name} did not answer within {settings.notify_timeout_seconds:g} s "
                             f"({type(exc).__name__}).") from None
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"Could not reach {name} at {url} ({type(exc).__name__}).") from None


def _http_failure(name: str, response: httpx.Response, detail: str) -> DeliveryFailed:
    status = response.status_code
    if status == 429:
        return DeliveryFailed(f"{name} is rate limiting us (HTTP 429){detail}.", retry_after=_retry_after(response))
    if status >= 500 or status == 408:
        return DeliveryFailed(f"{name} had an error (HTTP {status}){detail}.", retry_after=_retry_after(response))
    if status in (401, 403):
        return DeliveryFailed(f"{name} refused the credentials (HTTP {status}){detail}. Check them on the "
                              "Integrations page.", retryable=False)
    return DeliveryFailed(f"{name} refused the request (HTTP {status}){detail}.", retryable=False)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# ---------------------------------------------------------------- Slack

def post_to_slack(*, token: str, channel: str, notice: Notice, idempotency_key: str,
                  settings: Settings) -> dict[str, Any]:
    url = f"{settings.slack_base_url.rstrip('/')}/api/chat.postMessage"
    body: dict[str, Any] = {
        "channel": channel, "text": notice.subject, "blocks": notice.blocks, "unfurl_links": False,
        "metadata": {"event_type": "quantum_voice_notification",
                     "event_payload": {"idempotency_key": idempotency_key}},
    }
    response = _post("Slack", url, token=token, body=body, settings=settings)
    data = _json(response)
    if response.status_code != 200:
        error = data.get("error")
        raise _http_failure("Slack", response, f": {error}" if error else "")
    if not data.get("ok"):
        error = str(data.get("error") or "unknown_error")
        if error in _SLACK_PERMANENT:
            raise DeliveryFailed(_SLACK_PERMANENT[error], retryable=False)
        if error == "ratelimited":
            raise DeliveryFailed("Slack is rate limiting us (ratelimited).", retry_after=_retry_after(response))
        raise DeliveryFailed(f"Slack answered with an error: {error}.")
    return {"channel": data.get("channel"), "ts": data.get("ts")}


# ---------------------------------------------------------------- Asana

def create_asana_task(*, token: str, project_gid: str, notice: Notice, idempotency_key: str,
                      settings: Settings) -> dict[str, Any]:
    url = f"{settings.asana_base_url.rstrip('/')}/api/1.0/tasks"
    data: dict[str, Any] = {"name": notice.subject, "notes": f"{notice.text}\n\nReference: {idempotency_key}",
                            "projects": [project_gid]}
    if notice.due_on:
        data["due_on"] = notice.due_on
    response = _post("Asana", url, token=token, body={"data": data}, settings=settings)
    body = _json(response)
    if response.status_code not in (200, 201):
        messages = "; ".join(str(e.get("message", "")) for e in body.get("errors", []) if isinstance(e, dict))
        raise _http_failure("Asana", response, f": {messages}" if messages else "")
    task = body.get("data") or {}
    return {"task_gid": task.get("gid"), "url": task.get("permalink_url")}


# ---------------------------------------------------------------- email: Resend, or SMTP / the outbox

def send_with_resend(*, api_key: str, from_address: str, to: list[str], notice: Notice, idempotency_key: str,
                     settings: Settings) -> dict[str, Any]:
    url = f"{settings.resend_base_url.rstrip('/')}/emails"
    body = {"from": from_address, "to": to, "subject": notice.subject, "text": notice.text}
    response = _post("Resend", url, token=api_key, body=body, settings=settings,
                     headers={"Idempotency-Key": idempotency_key})
    data = _json(response)
    if response.status_code != 200:
        name, message = data.get("name"), data.get("message")
        detail = f": {name}: {message}" if name or message else ""
        if response.status_code == 409 and name == "concurrent_idempotent_requests":
            raise DeliveryFailed(f"Resend is still handling the first try (HTTP 409){detail}.")
        raise _http_failure("Resend", response, detail)
    return {"email_id": data.get("id")}


def send_by_smtp(*, to: list[str], notice: Notice, idempotency_key: str, organization_id: int, kind: str,
                 settings: Settings, delivered: list[str]) -> tuple[dict[str, Any], list[email_service.Transmitted]]:
    """One message per recipient through services/email.py (SMTP, or the outbox log without SMTP), skipping those
    in ``delivered`` (a retry after a partial failure). Returns the receipt and what to record in the outbox table;
    raises ``DeliveryFailed`` (with the partial receipt and records) when a recipient failed."""
    done, records, errors = list(delivered), [], []
    for address in to:
        if address in done:
            continue
        outgoing = email_service.OutgoingEmail(to=address, subject=notice.subject, text=notice.text, kind=kind,
                                               organization_id=organization_id,
                                               message_id=f"<{idempotency_key}@quantumvoice.local>")
        result = email_service.transmit(outgoing, settings)
        records.append(result)
        if result.error:
            errors.append(f"{address}: {result.error}")
        else:
            done.append(address)
    receipt = {"delivered_to": done}
    if errors:
        failure = DeliveryFailed("Email could not be sent: " + "; ".join(errors), receipt=receipt)
        failure.records = records
        raise failure
    return receipt, records
