"""Lead notifications from the outbox to local Slack, Asana and Resend receivers and a real SMTP server, on SQLite
and PostgreSQL: what arrives, exactly once, retries with backoff, the breaker, skipped channels and the digest."""

from __future__ import annotations

import logging

from sqlmodel import select

from quantum_voice.core.db import session_scope
from quantum_voice.models.leads import Lead, LeadActivity
from quantum_voice.models.notifications import NotificationDelivery
from quantum_voice.models.system import EmailMessage
from quantum_voice.services.notifications import deliver_due, policy, queue_lead_notifications
from quantum_voice.services.notifications.outbox import idempotency_key
from quantum_voice.worker import build_worker, deliver_due_notifications
from tests.integration.notifications.conftest import (
    connect, new_campaign, new_org, owner_repo, queue_lead)
from tests.unit.notifications.receivers import ASANA_PROJECT, SLACK_CHANNEL, SLACK_TOKEN


def deliveries(lead_id: int) -> dict[str, NotificationDelivery]:
    with session_scope() as session:
        rows = session.exec(select(NotificationDelivery).where(NotificationDelivery.lead_id == lead_id)).all()
        return {row.channel: row for row in rows}


def log_of(lead_id: int) -> list[dict]:
    with session_scope() as session:
        rows = session.exec(select(LeadActivity).where(LeadActivity.lead_id == lead_id, LeadActivity.kind == "notified")
                            .order_by(LeadActivity.id)).all()
        return [row.details for row in rows]


def lead_mail(inbox) -> list:
    return [(to, m) for to, m in inbox.messages if "lead" in m["Subject"].lower()]  # not the sign-up mail


def set_policy(user_id: int, campaign_id: int, value: dict) -> None:
    with session_scope() as session:
        policy.set_campaign_policy(owner_repo(session, user_id), campaign_id, value)


def test_a_hot_lead_reaches_slack_asana_and_the_owners_inbox_once(engine, slack, asana, smtp):
    owner = new_org()
    connect(owner, "slack", "asana")
    lead_id = queue_lead(owner, campaign_id=new_campaign(owner))
    assert build_worker().run_pending() >= 1  # the job queued after the commit

    (message,) = slack.delivered.values()
    assert message.body["channel"] == SLACK_CHANNEL and "Priya Raman" in message.body["text"]
    blocks = str(message.body["blocks"])
    assert "Priya Raman" in blocks and "priya@example.com" in blocks and "85 (hot)" in blocks
    assert "Gave a budget" in blocks and "Buying within 3 months" in blocks  # why: the rules that fired
    assert f"https://voice.example.com/leads/{lead_id}" in blocks
    (task,) = asana.delivered.values()
    data = task.body["data"]
    assert data["projects"] == [ASANA_PROJECT] and data["name"].startswith("High priority")
    assert data["due_on"] == "2026-12-04" and "Gave a budget" in data["notes"]
    ((recipients, mail),) = lead_mail(smtp)
    assert recipients == ["owner@example.com"] and "Priya Raman" in mail["Subject"]
    assert mail["Message-ID"] == f"<{idempotency_key(lead_id, 'email', 'hot')}@quantumvoice.local>"

    rows = deliveries(lead_id)
    assert {c: r.status for c, r in rows.items()} == {"slack": "sent", "asana": "sent", "email": "sent"}
    assert rows["asana"].receipt["task_gid"] and rows["slack"].receipt["ts"]
    assert sorted((d["channel"], d["status"], d["attempt"]) for d in log_of(lead_id)) == [
        ("asana", "sent", 1), ("email", "sent", 1), ("slack", "sent", 1)]

    with session_scope() as session:  # the call ends again (or a worker re-queues): nothing new is sent
        again = queue_lead_notifications(owner_repo(session, owner), session.get(Lead, lead_id))
    assert {r.status for r in again} == {"sent"}
    build_worker().run_pending()
    deliver_due()
    assert (len(slack.requests), len(asana.requests), len(lead_mail(smtp))) == (1, 1, 1)


def test_a_receiver_down_then_back_gets_the_message_exactly_once_with_one_key(engine, clock, caplog, slack):
    caplog.set_level(logging.DEBUG)
    owner = new_org()
    connect(owner, "slack")
    campaign = new_campaign(owner)
    set_policy(owner, campaign, {"hot": ["slack"]})
    slack.stop()  # connection refused
    lead_id = queue_lead(owner, campaign_id=campaign)
    deliver_due()
    row = deliveries(lead_id)["slack"]
    assert (row.status, row.attempts) == ("pending", 1) and "Could not reach Slack" in row.last_error
    assert (row.next_attempt_at - clock.now).total_seconds() == 10  # NOTIFY_RETRY_BASE_SECONDS

    slack.start()
    slack.fail_next = 1  # back, but answering 500 once
    deliver_due()
    assert slack.requests == []  # not due yet: nothing is sent before the backoff ends
    clock.advance(10)
    deliver_due()
    row = deliveries(lead_id)["slack"]
    assert (row.status, row.attempts) == ("pending", 2) and "HTTP 500" in row.last_error
    assert (row.next_attempt_at - clock.now).total_seconds() == 20  # doubled

    clock.advance(20)
    assert deliver_due_notifications() == 1  # the worker's periodic pass
    clock.advance(3600)
    assert deliver_due_notifications() == 0
    row = deliveries(lead_id)["slack"]
    assert (row.status, row.attempts) == ("sent", 3)
    assert len(slack.requests) == 2 and len(slack.delivered) == 1
    assert {slack.key_of(r) for r in slack.requests} == {idempotency_key(lead_id, "slack", "hot")}
    assert log_of(lead_id) == [{"channel": "slack", "status": "sent", "attempt": 3, "error": None, "band": "hot"}]
    assert "attempt 1 failed" in caplog.text and SLACK_TOKEN not in caplog.text


def test_resend_carries_one_idempotency_key_across_retries(engine, clock, resend):
    owner = new_org()
    connect(owner, "resend")
    campaign = new_campaign(owner)
    set_policy(owner, campaign, {"warm": ["email"]})
    resend.fail_next, resend.fail_status, resend.retry_after = 1, 429, "45"
    lead_id = queue_lead(owner, band="warm", score=55, campaign_id=campaign)
    deliver_due()
    row = deliveries(lead_id)["email"]
    assert row.status == "pending" and "rate limiting" in row.last_error
    assert (row.next_attempt_at - clock.now).total_seconds() == 45  # Retry-After beats the 10 s backoff
    clock.advance(45)
    deliver_due()
    assert deliveries(lead_id)["email"].status == "sent"
    keys = [r.headers["idempotency-key"] for r in resend.requests]
    assert keys == [idempotency_key(lead_id, "email", "warm")] * 2
    (email,) = resend.delivered.values()
    assert email.body["to"] == ["owner@example.com"] and email.body["from"] == "Leads <leads@harborview.example>"
    assert email.body["subject"].startswith("Warm lead: Priya Raman")


def test_the_breaker_stops_calling_a_failing_service_then_tries_again(engine, clock, monkeypatch, slack):
    monkeypatch.setenv("NOTIFY_BREAKER_FAILURES", "2")
    monkeypatch.setenv("NOTIFY_BREAKER_RESET_SECONDS", "60")
    from quantum_voice.core.config import reset_settings
    reset_settings()
    owner = new_org()
    connect(owner, "slack")
    campaign = new_campaign(owner)
    set_policy(owner, campaign, {"hot": ["slack"]})
    slack.fail_next = 100
    leads = [queue_lead(owner, campaign_id=campaign, email=f"p{i}@example.com") for i in range(3)]
    deliver_due()
    assert len(slack.requests) == 2  # the third is not tried: the circuit opened
    third = deliveries(leads[2])["slack"]
    assert (third.status, third.attempts) == ("pending", 0)  # a paused try does not count
    assert (third.next_attempt_at - clock.now).total_seconds() == 60
    slack.fail_next = 0
    clock.advance(60)
    deliver_due()
    assert all(deliveries(lead)["slack"].status == "sent" for lead in leads)
    assert len(slack.delivered) == 3


def test_a_permanent_error_fails_at_once_and_is_logged_on_the_lead(engine, slack):
    owner = new_org()
    connect(owner, "slack")
    with session_scope() as session:  # the channel was renamed: Slack cannot find it
        from quantum_voice.services import integrations
        integrations.save_integration(owner_repo(session, owner), "slack", config={"channel": "#gone"})
    campaign = new_campaign(owner)
    set_policy(owner, campaign, {"hot": ["slack"]})
    lead_id = queue_lead(owner, campaign_id=campaign)
    deliver_due()
    row = deliveries(lead_id)["slack"]
    assert (row.status, row.attempts) == ("failed", 1)
    (entry,) = log_of(lead_id)
    assert entry["status"] == "failed" and "channel_not_found" in entry["error"]


def test_channels_that_are_not_connected_are_skipped_visibly(engine):
    owner = new_org()
    lead_id = queue_lead(owner)
    rows = deliveries(lead_id)
    assert (rows["slack"].status, rows["asana"].status) == ("skipped", "skipped")
    assert "Slack is not connected" in rows["slack"].last_error
    deliver_due()
    assert deliveries(lead_id)["email"].status == "sent"  # no SMTP: written to the outbox (and the log)
    with session_scope() as session:
        mail = session.exec(select(EmailMessage).where(EmailMessage.kind == "lead_notification")).one()
        assert mail.status == "logged" and mail.to_address == "owner@example.com"
    assert sorted((d["channel"], d["status"]) for d in log_of(lead_id)) == [
        ("asana", "skipped"), ("email", "sent"), ("slack", "skipped")]


def test_a_lead_from_a_test_call_alerts_no_one(engine, slack):
    owner = new_org()
    connect(owner, "slack")
    lead_id = queue_lead(owner, is_test=True)
    deliver_due()
    assert deliveries(lead_id) == {} and slack.requests == []


def test_another_organisations_connections_are_never_used(engine, slack):
    other = new_org("other@example.com", "Other Org")
    connect(other, "slack")
    owner = new_org()
    lead_id = queue_lead(owner)
    deliver_due()
    assert deliveries(lead_id)["slack"].status == "skipped" and slack.requests == []


def test_cold_leads_wait_for_one_daily_digest(engine, clock, resend):
    owner = new_org()
    connect(owner, "resend")
    first = queue_lead(owner, band="cold", score=10, name="Sam Lee", email="sam@example.com")
    second = queue_lead(owner, band="cold", score=20, name="Kim Park", email="kim@example.com")
    deliver_due()
    assert resend.requests == []  # 10:00 now; the digest goes at 08:00 UTC tomorrow
    clock.advance(22 * 3600)
    deliver_due()
    (digest,) = resend.requests
    assert "Sam Lee" in digest.body["text"] and "Kim Park" in digest.body["text"]
    assert digest.body["subject"].startswith("2 cold leads")
    assert digest.headers["idempotency-key"].startswith("qv-digest-")
    assert deliveries(first)["digest"].status == deliveries(second)["digest"].status == "sent"


def test_a_send_abandoned_by_a_dead_worker_is_sent_again_after_its_lease(engine, clock, asana):
    owner = new_org()
    connect(owner, "asana")
    campaign = new_campaign(owner)
    set_policy(owner, campaign, {"hot": ["asana"]})
    lead_id = queue_lead(owner, campaign_id=campaign)
    from quantum_voice.core.config import get_settings
    from quantum_voice.services.notifications import outbox
    outbox._claim(10, get_settings())  # a worker claims it, then dies before recording anything
    deliver_due()
    assert asana.requests == []  # still leased
    clock.advance(121)
    deliver_due()
    row = deliveries(lead_id)["asana"]
    assert (row.status, row.attempts) == ("sent", 2) and len(asana.delivered) == 1


def test_a_recipient_refused_once_gets_the_email_on_the_retry_and_the_others_only_once(engine, clock, smtp):
    owner = new_org()
    with session_scope() as session:
        from quantum_voice.services import integrations
        integrations.save_integration(owner_repo(session, owner), "email",
                                      config={"recipients": ["sales@example.com", "boss@example.com"]})
    campaign = new_campaign(owner)
    set_policy(owner, campaign, {"warm": ["email"]})
    smtp.refuse["boss@example.com"] = 1
    lead_id = queue_lead(owner, band="warm", score=50, campaign_id=campaign)
    deliver_due()
    row = deliveries(lead_id)["email"]
    assert row.status == "pending" and row.receipt == {"delivered_to": ["sales@example.com"]}
    assert "boss@example.com" in row.last_error
    clock.advance(10)
    deliver_due()
    assert deliveries(lead_id)["email"].status == "sent"
    assert sorted(to for to, _ in lead_mail(smtp)) == [["boss@example.com"], ["sales@example.com"]]
    with session_scope() as session:  # the outbox table shows every try, the refused one included
        rows = session.exec(select(EmailMessage).where(EmailMessage.kind == "lead_notification")).all()
        assert sorted((r.to_address, r.status) for r in rows) == [
            ("boss@example.com", "failed"), ("boss@example.com", "sent"), ("sales@example.com", "sent")]
