"""Where a notification for one channel goes in one organisation, and sending it there behind the breaker of the
receiving service.

slack → Slack; asana → Asana; email and digest → Resend when the organisation connected it, else SMTP (or the
outbox log without SMTP). A channel the organisation has not connected has no route: its notifications are
skipped, visibly, on the lead. One circuit breaker per receiving service (slack, asana, resend, smtp), on the
clock of core/clock.py; only failures that say the service is unwell (unreachable, 5xx, 429) count towards it,
so one organisation's wrong token cannot close Slack for every other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import Settings, get_settings
from quantum_voice.core.resilience import CircuitBreaker, CircuitOpen, named_breaker
from quantum_voice.models.notifications import NotificationChannel as C
from quantum_voice.services import email as email_service
from quantum_voice.services import integrations
from quantum_voice.services.notifications import channels, messages
from quantum_voice.services.notifications.channels import DeliveryFailed, Notice
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository

NOT_CONNECTED = {
    C.SLACK.value: "Slack is not connected: connect it on the Integrations page.",
    C.ASANA.value: "Asana is not connected: connect it on the Integrations page.",
    C.EMAIL.value: "Lead emails are switched off for this organisation (Integrations → Email recipients).",
    C.DIGEST.value: "Lead emails are switched off for this organisation (Integrations → Email recipients).",
}
NO_RECIPIENTS = "No one to email: add recipients on the Integrations page (the organisation has no owner)."


@dataclass(frozen=True)
class Route:
    transport: str  # slack | asana | resend | smtp
    connection: integrations.Connection | None = None
    recipients: tuple[str, ...] = field(default=())


def route_for(session: Session, organization_id: int, channel: str) -> Route | str:
    """The route of ``channel`` in this organisation, or why there is none (the channel is skipped)."""
    if channel in (C.SLACK.value, C.ASANA.value):
        conn = integrations.connection(session, organization_id, channel)
        return Route(channel, conn) if conn is not None else NOT_CONNECTED[channel]
    if not integrations.email_enabled(session, organization_id):
        return NOT_CONNECTED[channel]
    recipients = tuple(integrations.email_recipients(session, organization_id))
    if not recipients:
        return NO_RECIPIENTS
    resend = integrations.connection(session, organization_id, "resend")
    return Route("resend", resend, recipients) if resend is not None else Route("smtp", None, recipients)


def breaker(transport: str, settings: Settings | None = None) -> CircuitBreaker:
    settings = settings or get_settings()
    return named_breaker(f"notify.{transport}", failure_threshold=settings.notify_breaker_failures,
                         window_seconds=60.0, reset_seconds=settings.notify_breaker_reset_seconds,
                         clock=lambda: utcnow().timestamp())


@dataclass
class Sent:
    receipt: dict[str, Any]
    email_records: list[email_service.Transmitted] = field(default_factory=list)


def _send(route: Route, notice: Notice, key: str, *, organization_id: int, kind: str, receipt: dict[str, Any],
          settings: Settings) -> Sent:
    conn = route.connection
    if route.transport == "slack":
        return Sent(channels.post_to_slack(token=conn.secrets["bot_token"], channel=conn.config["channel"],
                                           notice=notice, idempotency_key=key, settings=settings))
    if route.transport == "asana":
        return Sent(channels.create_asana_task(token=conn.secrets["access_token"],
                                               project_gid=conn.config["project_gid"], notice=notice,
                                               idempotency_key=key, settings=settings))
    if route.transport == "resend":
        return Sent(channels.send_with_resend(api_key=conn.secrets["api_key"],
                                              from_address=conn.config["from_address"],
                                              to=list(route.recipients), notice=notice, idempotency_key=key,
                                              settings=settings))
    sent, records = channels.send_by_smtp(to=list(route.recipients), notice=notice, idempotency_key=key,
                                          organization_id=organization_id, kind=kind, settings=settings,
                                          delivered=list(receipt.get("delivered_to") or []))
    return Sent(sent, records)


def send(route: Route, notice: Notice, key: str, *, organization_id: int, kind: str = "lead_notification",
         receipt: dict[str, Any] | None = None, settings: Settings | None = None) -> Sent:
    """Send through the route's service behind its breaker. Raises ``CircuitOpen`` (nothing was tried) or
    ``DeliveryFailed``. Touches no database: call it outside any transaction."""
    settings = settings or get_settings()
    gate = breaker(route.transport, settings)
    if not gate.allow():
        raise CircuitOpen(gate.name)
    try:
        result = _send(route, notice, key, organization_id=organization_id, kind=kind, receipt=receipt or {},
                       settings=settings)
    except DeliveryFailed as failure:
        if failure.retryable:
            gate.record_failure()
        else:
            gate.record_success()  # the service answered; the request itself was wrong
        raise
    gate.record_success()
    return result


def send_test_message(repo: OrgRepository, provider: str) -> str:
    """Send a test through ``provider`` as connected now (owners and admins); the success message, or
    ``IntegrationTestFailed`` with the service's reason."""
    repo.scope.require(Permission.MANAGE_ORGANIZATION)
    spec = integrations.spec_of(provider)
    settings = get_settings()
    session, org_id = repo.session, repo.scope.organization_id
    if provider == "email":
        found = route_for(session, org_id, C.EMAIL.value)
    else:
        conn = integrations.connection(session, org_id, provider)
        found = (NOT_CONNECTED.get(provider, f"{spec.label} is not connected.") if conn is None else
                 Route(provider, conn, tuple(integrations.email_recipients(session, org_id))))
    if isinstance(found, str):
        raise integrations.IntegrationTestFailed(found)
    # End the request's transaction (a signed-in request may have touched its session row) before calling out:
    # no transaction stays open while a remote service answers.
    session.commit()
    notice = messages.test_notice(spec.label, settings.app_url, utcnow().date())
    key = f"qv-test-{org_id}-{provider}-{utcnow().strftime('%Y%m%d%H%M%S%f')}"
    try:
        sent = send(found, notice, key, organization_id=org_id, kind="integration_test", settings=settings)
    except CircuitOpen:
        raise integrations.IntegrationTestFailed(
            f"{spec.label} failed several times in the last minute; we pause sending to it for "
            f"{settings.notify_breaker_reset_seconds:g} s. Try again shortly.") from None
    except DeliveryFailed as failure:
        raise integrations.IntegrationTestFailed(failure.message) from None
    for record in sent.email_records:
        email_service.record(session, record)
    where = {"slack": f"Slack channel {found.connection.config.get('channel') if found.connection else ''}",
             "asana": "a new Asana task in the project",
             }.get(provider, "email to " + ", ".join(found.recipients))
    if found.transport == "smtp" and not settings.smtp_configured:
        return (f"Test written to the email outbox for {', '.join(found.recipients)} (no SMTP server is "
                "configured, so nothing left this server).")
    return f"Test sent: look for it in {where}."

