"""/leads: one page of the organisation's leads for the view in the URL (filters, sort, page), bulk status and
assignment, and new leads arriving while the page is open. Thin: records lists, pipeline changes."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.core.pubsub import Subscription, get_pubsub
from quantum_voice.models.leads import Lead
from quantum_voice.services import campaigns
from quantum_voice.services.leads import live, people, pipeline, records
from quantum_voice.services.permissions import Permission, has_permission
from quantum_voice.services.tenancy import OrgRepository
from quantum_voice.states.format import moment
from quantum_voice.states.lead_filters import (UNASSIGNED_PARAM, LeadView, export_url, lead_filter, read_view,
                                               view_url)
from quantum_voice.states.session import SessionState, client_connected

log = logging.getLogger(__name__)

PER_PAGE = 25
CAMPAIGN_LIMIT = 500
TICK_SECONDS = 1.0  # how soon an announced change shows
POLL_SECONDS = 4.0  # how soon a change nobody announced shows (the voice sidecar without Redis)


@dataclass
class LeadListRow:
    id: int = 0
    name: str = ""
    email: str = ""
    phone: str = ""
    campaign: str = ""
    score: int = 0
    band: str = ""
    status: str = ""
    assignee: str = ""
    created: str = ""
    is_test: bool = False
    erased: bool = False


@dataclass
class Option:
    value: str = ""
    label: str = ""


def list_row(row: records.LeadRow) -> LeadListRow:
    lead: Lead = row.lead
    erased = lead.erased_at is not None
    return LeadListRow(id=lead.id, name="" if erased else (lead.name or ""), email=lead.email or "",
                       phone=lead.phone or "", campaign=row.campaign_name or "", score=lead.score, band=lead.band,
                       status=lead.status, assignee=row.assignee_name or "", created=moment(lead.created_at),
                       is_test=lead.is_test, erased=erased)


def assignee_choice(value: str) -> int | None:
    """The bulk "Assign to" choice as ``pipeline`` takes it: "none" unassigns."""
    return None if value == UNASSIGNED_PARAM else int(value)


def _change_mark(repo: OrgRepository) -> str:
    count, latest = people.newest_change(repo)
    return f"{count}|{latest}"


def _on_the_list(path: str) -> bool:
    """Whether the tab still shows the list (a full load of another page fires no unmount)."""
    return path.rstrip("/") == "/leads"


def _heard(subscription: Subscription) -> bool:
    """Whether any lead change was announced since the last look (reads every waiting message, never blocks)."""
    heard = False
    while subscription.get(timeout=0) is not None:
        heard = True
    return heard


class LeadsState(SessionState):
    loaded: bool = False
    can_manage: bool = False
    rows: list[LeadListRow] = []
    total: int = 0
    page_count: int = 1
    page_label: str = ""
    filter_error: str = ""
    # the view, as the URL spells it (lead_filters.LeadView)
    query: str = ""
    campaign_id: str = ""
    band: str = ""
    status: str = ""
    assignee: str = ""
    created_from: str = ""
    created_to: str = ""
    include_tests: bool = False
    sort_by: str = "newest"
    page: int = 0
    filtered: bool = False  # anything narrows the list
    export_href: str = export_url(LeadView())
    # choices
    campaign_options: list[Option] = []
    member_options: list[Option] = []
    # bulk changes
    selected: list[int] = []
    _pending_url: str = ""  # the URL this page just put in the address bar itself
    # live updates
    _watch_round: int = 0  # the watch loop of an older round stops
    _seen: str = ""  # people.newest_change, as text

    @rx.var
    def all_selected(self) -> bool:
        return bool(self.rows) and all(r.id in self.selected for r in self.rows)

    # ------------------------------------------------------------ the view in the URL

    def _view(self) -> LeadView:
        return LeadView(q=self.query, campaign_id=self.campaign_id, band=self.band, status=self.status,
                        assignee=self.assignee, created_from=self.created_from, created_to=self.created_to,
                        include_tests=self.include_tests, sort=self.sort_by, page=self.page)

    def _take(self, view: LeadView) -> None:
        self.query, self.campaign_id, self.band, self.status = view.q, view.campaign_id, view.band, view.status
        self.assignee, self.created_from, self.created_to = view.assignee, view.created_from, view.created_to
        self.include_tests, self.sort_by, self.page = view.include_tests, view.sort, view.page
        self.filtered, self.export_href = view.filtered, export_url(view)

    def _show(self, view: LeadView):
        """Show ``view`` now and put it in the URL (whose on_load then finds nothing new to load)."""
        self._take(view)
        self.selected = []
        self._reload_or_explain()
        self._pending_url = view_url(self._view())
        return rx.redirect(self._pending_url, replace=True)

    def _reload_or_explain(self) -> None:
        try:
            with self._signed_in_repo() as repo:
                self._reload(repo)
        except DomainError as exc:
            self.filter_error, self.rows, self.total, self.page_count, self.page_label = exc.message, [], 0, 1, ""

    def _reload(self, repo: OrgRepository) -> None:
        found, where = records.list_page(repo, lead_filter(self._view()), sort=self.sort_by, page=self.page,
                                         per_page=PER_PAGE)
        self.rows = [list_row(r) for r in found]
        self.total, self.page_count, self.page, self.page_label = where.total, where.count, where.number, where.label
        self.filter_error = ""
        shown = {r.id for r in self.rows}
        self.selected = [i for i in self.selected if i in shown]

    def _load_choices(self, repo: OrgRepository) -> None:
        self.campaign_options = [Option(str(v.campaign.id), v.campaign.name)
                                 for v in campaigns.list_campaigns(repo, limit=CAMPAIGN_LIMIT)]
        self.member_options = [Option(str(uid), name) for uid, name in records.members(repo)]

    @rx.event
    def load(self):
        if redirect := self._guard():
            return redirect
        view = read_view(self.router.url.query_parameters)
        pending, self._pending_url = self._pending_url, ""
        if self.loaded and pending and view_url(view) == pending:
            return LeadsState.watch  # the URL caught up with what the page already shows
        self._take(view)
        self.can_manage = has_permission(self.role, Permission.MANAGE_LEADS)
        self.selected = []
        try:
            with self._signed_in_repo() as repo:
                self._load_choices(repo)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self._reload_or_explain()
        self.loaded = True
        return LeadsState.watch

    # ------------------------------------------------------------ filters, sorting, pages

    @rx.event
    def set_query(self, value: str):
        return self._show(self._view().with_changes(q=" ".join(value.split())))

    @rx.event
    def set_campaign(self, value: str):
        return self._show(self._view().with_changes(campaign_id=value))

    @rx.event
    def set_band(self, value: str):
        return self._show(self._view().with_changes(band=value))

    @rx.event
    def set_status(self, value: str):
        return self._show(self._view().with_changes(status=value))

    @rx.event
    def set_assignee(self, value: str):
        return self._show(self._view().with_changes(assignee=value))

    @rx.event
    def set_created_from(self, value: str):
        return self._show(self._view().with_changes(created_from=value))

    @rx.event
    def set_created_to(self, value: str):
        return self._show(self._view().with_changes(created_to=value))

    @rx.event
    def set_include_tests(self, value: bool):
        return self._show(self._view().with_changes(include_tests=bool(value)))

    @rx.event
    def sort(self, value: str):
        return self._show(self._view().with_changes(sort=value))

    @rx.event
    def clear_filters(self):
        return self._show(LeadView(sort=self.sort_by))

    @rx.event
    def next_page(self):
        return self._show(self._view().with_changes(page=min(self.page + 1, self.page_count - 1)))

    @rx.event
    def previous_page(self):
        return self._show(self._view().with_changes(page=max(self.page - 1, 0)))

    # ------------------------------------------------------------ bulk changes

    @rx.event
    def toggle_row(self, lead_id: int, checked: bool):
        kept = [i for i in self.selected if i != lead_id]
        self.selected = [*kept, lead_id] if checked else kept

    @rx.event
    def toggle_all(self, checked: bool):
        self.selected = [r.id for r in self.rows] if checked else []

    def _bulk(self, done: str, **change):
        ids = list(self.selected)
        changed: list[int] = []
        error = self._act_then_reload(lambda repo: changed.append(pipeline.bulk_update(repo, ids, **change)),
                                      self._reload)
        if error is not None:
            return rx.toast.error(error.message)
        self.selected = []
        count = changed[0] if changed else 0
        return rx.toast.success(f"{count} lead{'s' if count != 1 else ''} {done}." if count
                                else "Nothing to change: those leads already were.")

    @rx.event
    def bulk_status(self, value: str):
        if not value or not self.selected:
            return None
        return self._bulk(f"moved to {value}", status=value)

    @rx.event
    def bulk_assign(self, value: str):
        if not value or not self.selected:
            return None
        who = assignee_choice(value)
        label = next((o.label for o in self.member_options if o.value == value), "")
        return self._bulk(f"assigned to {label}" if who is not None else "unassigned", assignee_user_id=who)

    # ------------------------------------------------------------ new leads without a reload

    @rx.event
    def stop_watching(self):
        """The page was left: the watch loop ends at its next look."""
        self._watch_round += 1

    @rx.event(background=True)
    async def watch(self):
        """Reload the page of leads when a lead changes: at once when the change is announced (pub/sub), else
        within ``POLL_SECONDS`` (``people.newest_change``: the voice sidecar may have no way to announce).

        Each page load starts one loop and retires the one before (a newer round). Reflex also cancels a page
        load's unfinished events at the next page load, so the loop ends when the tab moves on; it checks the page
        and the tab's connection too, for the cases nothing cancels (a closed tab)."""
        async with self:
            self._watch_round += 1
            round_, token = self._watch_round, self.router.session.client_token
            try:
                with self._signed_in_repo() as repo:
                    organization_id, self._seen = repo.scope.organization_id, _change_mark(repo)
            except DomainError:
                return
        subscription = await asyncio.to_thread(get_pubsub().subscribe, live.channel(organization_id))
        try:
            waited = 0.0
            while True:
                await asyncio.sleep(TICK_SECONDS)
                waited += TICK_SECONDS
                heard = _heard(subscription)
                if not heard and waited < POLL_SECONDS:
                    continue
                waited = 0.0
                if not client_connected(token):
                    return
                async with self:
                    if self._watch_round != round_ or not _on_the_list(self.router.url.path):
                        return
                    with self._signed_in_repo() as repo:
                        seen = _change_mark(repo)
                        if heard or seen != self._seen:
                            self._seen = seen
                            self._reload(repo)
        except DomainError:  # signed out, or the filter stopped being valid: the page says so on its next load
            return
        except Exception:
            log.warning("the lead list stopped watching for changes", exc_info=True)
        finally:
            subscription.close()
