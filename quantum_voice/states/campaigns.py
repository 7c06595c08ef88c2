"""/campaigns: the organisation's campaigns (search, status filter, sorting, pages) and the "New campaign" dialog."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.services import campaigns
from quantum_voice.services.flows.templates import DEFAULT_TEMPLATE, TEMPLATES
from quantum_voice.services.knowledge.documents import list_knowledge_bases
from quantum_voice.services.permissions import Permission, has_permission
from quantum_voice.states.format import day
from quantum_voice.states.listing import ListControls, count_pages, rows_on_page
from quantum_voice.states.forms import FormErrors
from quantum_voice.states.session import SessionState
from quantum_voice.states.templates import TemplateOption, template_options

PAGE_SIZE = 20
CAMPAIGN_LIMIT = 500
STATUS_FILTERS = ("all", "draft", "live", "paused")
NEW_FIELDS = ("name", "description", "target_audience", "template", "knowledge_base_id")


@dataclass
class CampaignRow:
    id: int = 0
    name: str = ""
    description: str = ""
    status: str = ""
    version: int = 0  # the published flow version; 0: not published
    template: str = ""
    created: str = ""  # "03 May 2025", for reading
    created_key: str = ""  # ISO time, for sorting


@dataclass
class KnowledgeOption:
    value: str = ""
    label: str = ""


def visible_campaigns(rows: Sequence[CampaignRow], query: str = "", status: str = "all",
                      sort_by: str = "created") -> list[CampaignRow]:
    """The rows the table shows: matching the search (name or description) and the status, in the chosen order
    (name A–Z, status, or newest first)."""
    needle = " ".join(query.split()).lower()
    kept = [r for r in rows if (not needle or needle in r.name.lower() or needle in r.description.lower())
            and (status not in STATUS_FILTERS[1:] or r.status == status)]
    if sort_by == "name":
        return sorted(kept, key=lambda r: r.name.lower())
    if sort_by == "status":
        return sorted(kept, key=lambda r: (r.status, r.name.lower()))
    if sort_by == "version":
        return sorted(kept, key=lambda r: -r.version)
    return sorted(kept, key=lambda r: r.created_key, reverse=True)


def campaign_row(view: campaigns.CampaignView) -> CampaignRow:
    c = view.campaign
    template = TEMPLATES.get(view.template_key or "")
    return CampaignRow(id=c.id, name=c.name, description=c.description or "", status=c.status,
                       version=view.published_version or 0, template=template.name if template else "",
                       created=day(c.created_at), created_key=c.created_at.isoformat() if c.created_at else "")


class CampaignsState(ListControls, FormErrors, SessionState):
    loaded: bool = False
    rows: list[CampaignRow] = []
    sort_by: str = "created"  # created | name | status | version
    can_edit: bool = False
    # the "New campaign" dialog
    create_open: bool = False
    new_template: str = DEFAULT_TEMPLATE
    templates: list[TemplateOption] = []
    knowledge_bases: list[KnowledgeOption] = []

    @rx.var
    def filtered(self) -> list[CampaignRow]:
        return visible_campaigns(self.rows, self.query, self.status_filter, self.sort_by)

    @rx.var
    def page_count(self) -> int:
        return count_pages(len(self.filtered), PAGE_SIZE)

    @rx.var
    def visible(self) -> list[CampaignRow]:
        return rows_on_page(self.filtered, self.page, PAGE_SIZE)

    @rx.event
    def load(self):
        if redirect := self._guard():
            return redirect
        self.can_edit = has_permission(self.role, Permission.MANAGE_CAMPAIGNS)
        self.templates = template_options()
        try:
            with self._signed_in_repo() as repo:
                self.rows = [campaign_row(v) for v in campaigns.list_campaigns(repo, limit=CAMPAIGN_LIMIT)]
                self.knowledge_bases = [KnowledgeOption(str(s.knowledge_base.id), s.knowledge_base.name)
                                        for s in list_knowledge_bases(repo)]
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self.loaded = True
        return None

    # ------------------------------------------------------------ new campaign

    def _show_dialog(self, open_: bool) -> None:
        self.create_open = open_
        self._clear_error()
        if open_:
            self.new_template = DEFAULT_TEMPLATE

    @rx.event
    def open_create(self):
        self._show_dialog(True)

    @rx.event
    def set_create_open(self, open_: bool):
        self._show_dialog(open_)

    @rx.event
    def set_new_template(self, key: str):
        self.new_template = key

    @rx.event
    def create(self, form: dict):
        self._clear_error()
        kb = str(form.get("knowledge_base_id") or "")
        audience, ip = (form.get("target_audience") or "").strip(), self._client_ip()
        try:
            with self._signed_in_repo() as repo:
                campaign = campaigns.create_campaign(
                    repo, name=form.get("name", ""), description=form.get("description", ""),
                    knowledge_base_id=int(kb) if kb.isdigit() else None, template=self.new_template, ip=ip)
                if audience:  # create_campaign takes no audience; one transaction, so both happen or neither
                    campaigns.update_campaign(repo, campaign.id, {"target_audience": audience}, ip=ip)
                new_id, name = campaign.id, campaign.name
        except DomainError as exc:
            self._show_error(exc, NEW_FIELDS)
            return None
        self.create_open = False
        return [rx.toast.success(f"Campaign “{name}” created."), rx.redirect(f"/campaigns/{new_id}")]
