"""Which channels hear about each band: defaults, a campaign's override, validation; backoff and digest times."""

from datetime import datetime, timezone

import pytest

from quantum_voice.core.config import Settings
from quantum_voice.core.errors import ValidationFailed
from quantum_voice.models.campaigns import Campaign
from quantum_voice.services.notifications import policy
from quantum_voice.services.notifications.outbox import backoff_seconds, next_digest_at


def test_defaults_send_hot_everywhere_warm_to_asana_and_email_and_cold_to_the_digest():
    assert policy.channels_for(None, "hot") == ["slack", "asana", "email"]
    assert policy.channels_for(None, "warm") == ["asana", "email"]
    assert policy.channels_for(None, "cold") == ["digest"]


def test_a_campaign_override_replaces_only_the_bands_it_names():
    campaign = Campaign(name="c", slug="c", settings={"notifications": {"warm": ["slack"], "cold": []}})
    assert policy.effective_policy(campaign) == {"hot": ["slack", "asana", "email"], "warm": ["slack"], "cold": []}


def test_a_stored_override_that_no_longer_validates_falls_back_to_the_defaults(caplog):
    campaign = Campaign(id=7, name="c", slug="c", settings={"notifications": {"hot": ["fax"]}})
    assert policy.channels_for(campaign, "hot") == ["slack", "asana", "email"]
    assert "ignoring its notification settings" in caplog.text


@pytest.mark.parametrize("value, message", [
    ([], "map a band"), ({"lukewarm": []}, "Unknown band"), ({"hot": "slack"}, "list of channels"),
    ({"hot": ["pager"]}, "Unknown channel 'pager'"),
])
def test_invalid_overrides_are_refused_with_what_to_do(value, message):
    with pytest.raises(ValidationFailed, match=message):
        policy.validate_policy(value)


def test_repeated_channels_are_kept_once_in_order():
    assert policy.validate_policy({"hot": ["email", "slack", "email"]}) == {"hot": ["email", "slack"]}


def test_backoff_doubles_from_the_base_honours_retry_after_and_is_capped():
    settings = Settings(notify_retry_base_seconds=30, notify_retry_max_seconds=600)
    assert [backoff_seconds(n, None, settings) for n in (1, 2, 3, 4, 5, 6)] == [30, 60, 120, 240, 480, 600]
    assert backoff_seconds(1, 90, settings) == 90
    assert backoff_seconds(1, 10_000, settings) == 600


def test_the_digest_goes_at_the_next_digest_hour():
    morning = datetime(2026, 12, 4, 7, 59, tzinfo=timezone.utc)
    assert next_digest_at(morning, 8) == datetime(2026, 12, 4, 8, 0, tzinfo=timezone.utc)
    assert next_digest_at(morning.replace(hour=8, minute=0), 8) == datetime(2026, 12, 5, 8, 0, tzinfo=timezone.utc)
