"""/flows: each campaign of the organisation with the state of its conversation flow."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from quantum_voice.core.errors import DomainError, NotFound
from quantum_voice.services import campaigns
from quantum_voice.services.flows import editing, publishing
from quantum_voice.services.flows.templates import TEMPLATES
from quantum_voice.services.flows.validation import check_flow
from quantum_voice.services.permissions import Permission, has_permission
from quantum_voice.services.tenancy import OrgRepository
from quantum_voice.states.format import moment
from quantum_voice.states.listing import ListControls, count_pages, rows_on_page
from quantum_voice.states.session import SessionState

PAGE_SIZE = 20
CAMPAIGN_LIMIT = 500


@dataclass
class FlowRow:
    campaign_id: int = 0
    campaign: str = ""
    campaign_status: str = ""
    flow: str = ""
    template: str = ""
    has_flow: bool = False
    version: int = 0  # the live version; 0: never published
    pending: bool = False  # the draft differs from the live version
    problems: int = 0
    nodes: int = 0
    updated: str = ""


class FlowsState(ListControls, SessionState):
    loaded: bool = False
    rows: list[FlowRow] = []
    sort_by: str = "campaign"  # campaign | flow | updated | version
    can_edit: bool = False

    @rx.var
    def filtered(self) -> list[FlowRow]:
        needle = self.query.strip().lower()
        rows = [r for r in self.rows if not needle or needle in r.campaign.lower() or needle in r.flow.lower()]
        keep = {"live": lambda r: r.version > 0, "unpublished": lambda r: r.version == 0,
                "changes": lambda r: r.pending}.get(self.status_filter)
        rows = [r for r in rows if keep is None or keep(r)]
        key = {"updated": lambda r: r.updated, "version": lambda r: r.version}.get(self.sort_by)
        if key:
            return sorted(rows, key=key, reverse=True)
        return sorted(rows, key=lambda r: (r.flow if self.sort_by == "flow" else r.campaign).lower())

    @rx.var
    def page_count(self) -> int:
        return count_pages(len(self.filtered), PAGE_SIZE)

    @rx.var
    def visible(self) -> list[FlowRow]:
        return rows_on_page(self.filtered, self.page, PAGE_SIZE)

    @rx.event
    def load(self):
        if redirect := self._guard():
            return redirect
        self.can_edit = has_permission(self.role, Permission.MANAGE_CAMPAIGNS)
        try:
            with self._signed_in_repo() as repo:
                self.rows = [self._row(repo, c) for c in campaigns.list_campaigns(repo, limit=CAMPAIGN_LIMIT)]
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self.loaded = True
        return None

    @staticmethod
    def _row(repo: OrgRepository, view: campaigns.CampaignView) -> FlowRow:
        campaign = view.campaign
        row = FlowRow(campaign_id=campaign.id, campaign=campaign.name, campaign_status=campaign.status)
        try:
            _, flow = editing.campaign_and_flow(repo, campaign.id)
        except NotFound:
            return row
        live = publishing.active_version(repo, flow)
        check = check_flow(flow.draft)
        draft_sum = publishing.checksum(check.definition.to_json()) if check.definition is not None else ""
        template = TEMPLATES.get(flow.template_key or "")
        row.has_flow, row.flow, row.template = True, flow.name, template.name if template else ""
        row.version, row.problems = (live.version if live else 0), len(check.problems)
        row.pending = live is None or draft_sum != live.checksum
        row.nodes, row.updated = len((flow.draft or {}).get("nodes", [])), moment(flow.updated_at)
        return row
