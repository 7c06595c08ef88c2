"""Each adapter against a local server speaking the service's wire format: what counts as a failure, which
failures are worth retrying, and that Retry-After is read."""

import pytest

from quantum_voice.core.config import Settings
from quantum_voice.services.notifications.channels import (
    DeliveryFailed, Notice, create_asana_task, post_to_slack, send_with_resend)
from tests.unit.notifications.receivers import (
    ASANA_PROJECT, ASANA_TOKEN, RESEND_KEY, SLACK_CHANNEL, SLACK_TOKEN, Receiver)

NOTICE = Notice(subject="Hot lead: Priya", text="Priya, score 85", blocks=[], due_on="2026-01-02")


@pytest.fixture
def receiver(request):
    server = Receiver(request.param).start()
    yield server
    server.stop()


def settings_for(server: Receiver) -> Settings:
    return Settings(slack_base_url=server.url, asana_base_url=server.url, resend_base_url=server.url,
                    notify_timeout_seconds=3)


@pytest.mark.parametrize("receiver", ["slack"], indirect=True)
def test_slack_ok_false_is_a_failure_and_a_bad_token_is_not_retried(receiver):
    with pytest.raises(DeliveryFailed) as failure:
        post_to_slack(token="xoxb-wrong", channel=SLACK_CHANNEL, notice=NOTICE, idempotency_key="k",
                      settings=settings_for(receiver))
    assert not failure.value.retryable and "invalid_auth" in failure.value.message
    assert "xoxb-wrong" not in failure.value.message


@pytest.mark.parametrize("receiver", ["slack"], indirect=True)
def test_slack_429_is_retried_after_the_time_it_asks(receiver):
    receiver.fail_next, receiver.fail_status, receiver.retry_after = 1, 429, "30"
    with pytest.raises(DeliveryFailed) as failure:
        post_to_slack(token=SLACK_TOKEN, channel=SLACK_CHANNEL, notice=NOTICE, idempotency_key="k",
                      settings=settings_for(receiver))
    assert failure.value.retryable and failure.value.retry_after == 30
    receipt = post_to_slack(token=SLACK_TOKEN, channel=SLACK_CHANNEL, notice=NOTICE, idempotency_key="k",
                            settings=settings_for(receiver))
    assert receipt["channel"] == SLACK_CHANNEL and receipt["ts"]
    sent = receiver.requests[-1]
    assert sent.headers["authorization"] == f"Bearer {SLACK_TOKEN}"
    assert sent.body["metadata"] == {"event_type": "quantum_voice_notification",
                                     "event_payload": {"idempotency_key": "k"}}


@pytest.mark.parametrize("receiver", ["asana"], indirect=True)
def test_asana_refused_credentials_are_not_retried_and_its_message_is_kept(receiver):
    with pytest.raises(DeliveryFailed) as failure:
        create_asana_task(token="wrong", project_gid=ASANA_PROJECT, notice=NOTICE, idempotency_key="k",
                          settings=settings_for(receiver))
    assert not failure.value.retryable and "HTTP 401" in failure.value.message
    assert "Not Authorized" in failure.value.message
    receipt = create_asana_task(token=ASANA_TOKEN, project_gid=ASANA_PROJECT, notice=NOTICE, idempotency_key="k",
                                settings=settings_for(receiver))
    assert receipt["task_gid"] and receiver.requests[-1].body["data"]["due_on"] == "2026-01-02"


@pytest.mark.parametrize("receiver", ["resend"], indirect=True)
def test_resend_5xx_is_retried_and_a_repeated_key_gets_the_same_email(receiver):
    receiver.fail_next = 1
    args = dict(api_key=RESEND_KEY, from_address="a@b.co", to=["x@y.co"], notice=NOTICE, idempotency_key="k1",
                settings=settings_for(receiver))
    with pytest.raises(DeliveryFailed) as failure:
        send_with_resend(**args)
    assert failure.value.retryable and "HTTP 500" in failure.value.message
    assert send_with_resend(**args) == send_with_resend(**args)
    assert {r.headers["idempotency-key"] for r in receiver.requests} == {"k1"}


def test_an_unreachable_service_is_retried():
    down = Receiver("slack")  # never started: connection refused
    with pytest.raises(DeliveryFailed) as failure:
        post_to_slack(token=SLACK_TOKEN, channel=SLACK_CHANNEL, notice=NOTICE, idempotency_key="k",
                      settings=settings_for(down))
    assert failure.value.retryable and "Could not reach Slack" in failure.value.message
