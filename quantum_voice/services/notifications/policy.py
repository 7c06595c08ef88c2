"""Which channels hear about a lead of each score band: the defaults, and a campaign's own choice
(``Campaign.settings["notifications"]``, e.g. ``{"hot": ["slack", "email"], "cold": []}``; a band left out keeps
its default)."""

from __future__ import annotations

import logging
from typing import Any

from quantum_voice.core.errors import ValidationFailed
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.leads import LeadBand
from quantum_voice.models.notifications import NotificationChannel as C
from quantum_voice.services.flows.editing import live_campaign
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository

log = logging.getLogger(__name__)

SETTINGS_KEY = "notifications"
DEFAULT_POLICY: dict[str, list[str]] = {
    LeadBand.HOT.value: [C.SLACK.value, C.ASANA.value, C.EMAIL.value],
    LeadBand.WARM.value: [C.ASANA.value, C.EMAIL.value],
    LeadBand.COLD.value: [C.DIGEST.value],
}
CHANNELS = tuple(c.value for c in C)


def validate_policy(value: Any) -> dict[str, list[str]]:
    """A campaign's override, checked and normalised (known bands, known channels, each once, in order)."""
    if not isinstance(value, dict):
        raise ValidationFailed("Notifications must map a band (hot, warm, cold) to a list of channels.",
                               field=SETTINGS_KEY)
    policy: dict[str, list[str]] = {}
    for band, channels in value.items():
        if band not in DEFAULT_POLICY:
            raise ValidationFailed(f"Unknown band {band!r}: use hot, warm or cold.", field=SETTINGS_KEY)
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            raise ValidationFailed(f"The {band} band needs a list of channels.", field=SETTINGS_KEY)
        unknown = [c for c in channels if c not in CHANNELS]
        if unknown:
            raise ValidationFailed(f"Unknown channel {unknown[0]!r} for {band} leads: use "
                                   f"{', '.join(CHANNELS)}.", field=SETTINGS_KEY)
        policy[band] = list(dict.fromkeys(channels))
    return policy


def effective_policy(campaign: Campaign | None) -> dict[str, list[str]]:
    """The defaults with the campaign's override on top. A stored override that no longer validates is ignored
    (logged), so a bad setting never stops notifications."""
    policy = {band: list(channels) for band, channels in DEFAULT_POLICY.items()}
    override = (campaign.settings or {}).get(SETTINGS_KEY) if campaign is not None else None
    if override is None:
        return policy
    try:
        policy.update(validate_policy(override))
    except ValidationFailed as exc:
        log.warning("campaign %s: ignoring its notification settings (%s)", campaign.id, exc.message)
    return policy


def channels_for(campaign: Campaign | None, band: str) -> list[str]:
    return effective_policy(campaign).get(band, [])


def set_campaign_policy(repo: OrgRepository, campaign_id: int, value: Any) -> dict[str, list[str]]:
    """Store a campaign's override (managers and up); ``None`` goes back to the defaults."""
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    campaign = live_campaign(repo, campaign_id)
    settings = dict(campaign.settings or {})
    if value is None:
        settings.pop(SETTINGS_KEY, None)
    else:
        settings[SETTINGS_KEY] = validate_policy(value)
    campaign.settings = settings  # a new dict, so the JSON column is written
    repo.session.add(campaign)
    repo.session.flush()
    return effective_policy(campaign)
