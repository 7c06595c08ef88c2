"""What the Developers page's Webhooks panel shows of an endpoint, a delivery and an attempt, and which events its
create form sends."""

from datetime import datetime, timezone

from quantum_voice.services.developer.webhooks import (AttemptView, DeliveryView, EndpointView, LastDelivery)
from quantum_voice.states.webhooks import attempt_row, delivery_row, events_of, hook_row

WHEN = datetime(2026, 12, 4, 9, 30, tzinfo=timezone.utc)


def _endpoint(**changes) -> EndpointView:
    fields = dict(id=4, url="https://crm.example.com/hooks", description="CRM", events=["lead.created", "call.ended"],
                  test_events=False, enabled=True, disabled_reason=None, disabled_at=None, secret_hint="whsec_ab12",
                  consecutive_failures=0, failing_since=None, created_at=WHEN, last_delivery=None)
    return EndpointView(**{**fields, **changes})


def test_an_endpoint_row_shows_its_events_secret_hint_and_no_delivery_yet():
    row = hook_row(_endpoint())
    assert (row.events, row.secret_hint, row.state, row.last_delivery) == (
        "lead.created, call.ended", "whsec_ab12…", "enabled", "No deliveries yet")


def test_a_disabled_endpoint_shows_why_and_its_last_failed_delivery():
    row = hook_row(_endpoint(enabled=False, disabled_reason="Disabled automatically: every delivery failed",
                             last_delivery=LastDelivery("failed", "call.ended", WHEN, 503)))
    assert row.state == "disabled" and row.state_colour == "red" and row.disabled_reason.startswith("Disabled")
    assert row.last_delivery == "failed (503): call.ended, 04 Dec 2026, 09:30" and row.last_colour == "red"


def test_a_retrying_delivery_shows_its_error_and_next_try_and_a_test_event_is_marked():
    view = DeliveryView(id=9, event_id="evt_1", event_type="ping", test=True, livemode=True, status="retrying",
                        attempts=2,
                        created_at=WHEN, next_attempt_at=WHEN, delivered_at=None, last_status_code=500,
                        last_error="The endpoint answered HTTP 500.", last_duration_ms=12)
    row = delivery_row(view)
    assert (row.event, row.code, row.duration, row.next_try, row.colour) == (
        "ping (test)", "500", "12 ms", "04 Dec 2026, 09:30", "amber")
    assert row.error == "The endpoint answered HTTP 500."


def test_an_attempt_without_an_answer_says_what_went_wrong():
    row = attempt_row(AttemptView(number=1, manual=True, attempted_at=WHEN, status_code=None, response_excerpt=None,
                                  error="No answer within 10 s.", duration_ms=10001))
    assert (row.code, row.outcome, row.manual, row.duration) == ("—", "No answer within 10 s.", "manual", "10001 ms")


def test_the_create_form_sends_the_ticked_events_only():
    form = {"url": "https://x", "event:lead.created": "on", "event:call.ended": "on", "event:lead.scored": ""}
    assert sorted(events_of(form)) == ["call.ended", "lead.created"]


def test_an_event_of_test_data_is_marked_in_the_log_and_the_endpoint_row_says_it_takes_them():
    view = DeliveryView(id=10, event_id="evt_2", event_type="lead.created", test=False, livemode=False,
                        status="succeeded", attempts=1, created_at=WHEN, next_attempt_at=None, delivered_at=WHEN,
                        last_status_code=200, last_error=None, last_duration_ms=5)
    assert delivery_row(view).event == "lead.created (test data)"
    assert hook_row(_endpoint(test_events=True)).test_events and not hook_row(_endpoint()).test_events
