"""The campaign page's "Lead notifications" card: which channels hear about each score band of the campaign's
leads (services/notifications/policy.py), and which of them the organisation has not connected yet."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.services.flows.editing import live_campaign
from quantum_voice.services.notifications import dispatch, policy
from quantum_voice.services.permissions import Permission, has_permission
from quantum_voice.states.campaign_detail import CampaignDetailState

BAND_LABELS = {"hot": "Hot leads (score 70+)", "warm": "Warm leads (40–69)", "cold": "Cold leads (under 40)"}
CHANNEL_LABELS = {"slack": "Slack", "asana": "Asana task", "email": "Email", "digest": "Daily digest"}


@dataclass
class BandChannels:
    band: str = ""
    label: str = ""
    slack: bool = False
    asana: bool = False
    email: bool = False
    digest: bool = False


def band_rows(effective: dict[str, list[str]]) -> list[BandChannels]:
    return [BandChannels(band, BAND_LABELS[band], *(channel in effective.get(band, []) for channel in
                                                     ("slack", "asana", "email", "digest")))
            for band in BAND_LABELS]


def chosen(rows: list[BandChannels], band: str, channel: str, on: bool) -> dict[str, list[str]]:
    """The whole policy after ``channel`` was turned ``on`` (or off) for ``band``."""
    result = {}
    for row in rows:
        picked = [c for c in CHANNEL_LABELS if getattr(row, c)]
        if row.band == band:
            picked = [c for c in CHANNEL_LABELS if (c == channel and on) or (c != channel and c in picked)]
        result[row.band] = picked
    return result


class CampaignNotificationsState(CampaignDetailState):
    bands: list[BandChannels] = []
    customised: bool = False
    not_connected: str = ""  # "Slack and Asana are not connected: …"
    can_change: bool = False

    @rx.event
    def load_notifications(self):
        self.can_change = has_permission(self.role, Permission.MANAGE_CAMPAIGNS)
        try:
            with self._signed_in_repo() as repo:
                self._show(repo)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        return None

    def _show(self, repo) -> None:
        campaign = live_campaign(repo, self.campaign_id)
        self.bands = band_rows(policy.effective_policy(campaign))
        self.customised = policy.SETTINGS_KEY in (campaign.settings or {})
        missing = [CHANNEL_LABELS[c] for c in ("slack", "asana", "email")
                   if isinstance(dispatch.route_for(repo.session, repo.scope.organization_id, c), str)]
        self.not_connected = (f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not connected, so "
                              "those notifications are skipped. Connect them on the Integrations page."
                              if missing else "")

    @rx.event
    def toggle(self, band: str, channel: str, on: bool):
        return self._save(chosen(self.bands, band, channel, on), "Notifications saved.")

    @rx.event
    def use_defaults(self):
        return self._save(None, "Back to the default notifications.")

    def _save(self, value, success: str):
        try:
            with self._signed_in_repo() as repo:
                policy.set_campaign_policy(repo, self.campaign_id, value)
                self._show(repo)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        return rx.toast.success(success)
