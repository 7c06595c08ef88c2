"""The dashboard: all-time headline numbers and the campaign list (``DashboardState``), and the live analytics of a
range of days and a campaign (``InsightState``: cards and charts, read anew every ``REFRESH_SECONDS`` while the page
is open)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date

import plotly.graph_objects as go
import reflex as rx
from sqlalchemy.exc import SQLAlchemyError

from quantum_voice.components import charts
from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import DomainError, ValidationFailed
from quantum_voice.services import analytics, dashboard
from quantum_voice.services.analytics import AnalyticsFilter, DashboardAnalytics
from quantum_voice.services.handoffs.metrics import HandoffMetrics, handoff_metrics
from quantum_voice.states.lead_filters import LeadView, view_url
from quantum_voice.states.session import SessionState, client_connected

log = logging.getLogger(__name__)

PAGE = "/dashboard"
REFRESH_SECONDS = 15.0
RANGES = ("7", "30", "90", "custom")
DATABASE_TROUBLE = "The dashboard could not read the latest figures; it tries again in a few seconds."


@dataclass
class CampaignRow:
    name: str = ""
    status: str = ""


class DashboardState(SessionState):
    loaded: bool = False
    campaign_count: int = 0
    call_count: int = 0
    lead_count: int = 0
    hot_lead_count: int = 0
    campaigns: list[CampaignRow] = []
    # the callers' side of the last 7 days (from the call page)
    connected_calls: int = 0
    connect_time: str = "–"
    round_trip: str = "–"
    calls_with_drops: int = 0
    # hand-offs to people over the last 7 days
    handoffs_requested: int = 0
    handoffs_taken: str = "–"
    handoff_wait: str = "–"
    handoff_talk: str = "–"
    handoff_outcomes: str = ""

    @rx.event
    def load(self):
        if redirect := self._guard():
            return redirect
        try:
            with self._signed_in_repo() as repo:
                summary = dashboard.summary(repo)
                connection = dashboard.caller_connection(repo)
                handoffs = handoff_metrics(repo)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self.campaign_count, self.call_count = summary.campaigns, summary.calls
        self.lead_count, self.hot_lead_count = summary.leads, summary.hot_leads
        self.campaigns = [CampaignRow(c.name, c.status) for c in summary.campaign_list]
        self.connected_calls, self.calls_with_drops = connection.calls, connection.calls_with_audio_drops
        self.connect_time = _ms(connection.connect_ms_median)
        self.round_trip = _ms(connection.rtt_ms_median)
        self._show_handoffs(handoffs)
        self.loaded = True
        return InsightState.start


    def _show_handoffs(self, m: HandoffMetrics) -> None:
        self.handoffs_requested = m.requested
        self.handoffs_taken = f"{m.taken} of {m.requested}" if m.requested else "–"
        self.handoff_wait = _seconds(m.wait_seconds_median)
        self.handoff_talk = _seconds(m.talk_seconds_median)
        self.handoff_outcomes = " · ".join(f"{OUTCOMES.get(k, k.replace('_', ' '))}: {n}"
                                           for k, n in sorted(m.dispositions.items()))


OUTCOMES = {"qualified": "Qualified", "not_interested": "Not interested", "callback": "Call back",
            "no_answer": "No answer", "returned_to_ai": "Handed back to the AI"}


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value / 60:.1f} min" if value >= 90 else f"{value:.0f} s"


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"


@dataclass
class Option:
    value: str = ""
    label: str = ""


@dataclass
class QuestionRow:
    question: str = ""
    count: int = 0


class InsightState(DashboardState):
    """The range and campaign chosen, and what the analytics say about them."""

    range_choice: str = "7"  # 7 | 30 | 90 | custom
    custom_from: str = ""  # YYYY-MM-DD, UTC
    custom_to: str = ""
    campaign_id: str = ""  # "" = every campaign
    campaign_options: list[Option] = []
    range_label: str = ""
    insight_loaded: bool = False
    updated_at: str = ""
    # cards
    active_calls: int = 0
    range_calls: int = 0
    range_leads: int = 0
    range_hot: int = 0
    conversion: str = "–"
    handle_time: str = "–"
    answer_rate: str = "–"
    answer_hint: str = "No questions asked in this range"
    range_handoffs: int = 0
    range_handoff_hint: str = "None in this range"
    leads_href: str = "/leads"
    hot_href: str = "/leads?band=hot"
    calls_href: str = ""
    # charts
    volume_chart: go.Figure = go.Figure()
    funnel_chart: go.Figure = go.Figure()
    bands_chart: go.Figure = go.Figure()
    latency_chart: go.Figure = go.Figure()
    latency_turns: int = 0
    unanswered: list[QuestionRow] = []
    _watch_round: int = 0
    _failing: bool = False  # the live loop says so once, not every round

    @rx.var
    def custom_range(self) -> bool:
        return self.range_choice == "custom"

    @rx.var
    def range_has_leads(self) -> bool:
        return self.range_leads > 0

    @rx.event
    def start(self):
        """After the page loads: the campaign choices, the first figures, then the live loop."""
        try:
            with self._signed_in_repo() as repo:
                self.campaign_options = [Option(str(c.id), c.name) for c in dashboard.campaign_choices(repo)]
        except DomainError as exc:
            return rx.toast.error(exc.message)
        except SQLAlchemyError:
            log.warning("the dashboard could not read the campaigns", exc_info=True)
            return rx.toast.error(DATABASE_TROUBLE)
        failure = self._refresh()
        return InsightState.watch if failure is None else [failure, InsightState.watch]

    @rx.event
    def set_range(self, value: str):
        self.range_choice = value if value in RANGES else "7"
        if self.range_choice == "custom" and not (self.custom_from and self.custom_to):
            today = utcnow().date()
            self.custom_from, self.custom_to = today.replace(day=1).isoformat(), today.isoformat()
        return self._refresh()

    @rx.event
    def set_custom_from(self, value: str):
        self.custom_from = value
        return self._refresh()

    @rx.event
    def set_custom_to(self, value: str):
        self.custom_to = value
        return self._refresh()

    @rx.event
    def set_campaign(self, value: str):
        self.campaign_id = value if value.isdigit() else ""
        return self._refresh()

    # ------------------------------------------------------------ reading the figures

    def _refresh(self):
        """Read the figures for the chosen range; on failure the page keeps the last ones and says why."""
        try:
            f = chosen_filter(self.range_choice, self.custom_from, self.custom_to, self.campaign_id)
            with self._signed_in_repo() as repo:
                found = analytics.dashboard_analytics(repo, f)
        except DomainError as exc:
            self._failing = True
            return rx.toast.error(exc.message)
        except SQLAlchemyError:
            log.warning("the dashboard could not read its analytics", exc_info=True)
            self._failing = True
            return rx.toast.error(DATABASE_TROUBLE)
        self._failing = False
        self._show(found)
        return None

    def _show(self, found: DashboardAnalytics) -> None:
        f, cards = found.filter, found.cards
        self.range_label = _range_label(f)
        self.active_calls, self.range_calls = cards.active_calls, cards.calls
        self.range_leads, self.range_hot = cards.leads, cards.hot_leads
        self.conversion = _percent(cards.conversion)
        self.handle_time = _seconds(cards.handle_seconds_average)
        self.answer_rate = _percent(cards.answer_rate)
        self.answer_hint = (f"{cards.questions_answered} of {cards.questions} questions answered from your documents"
                            if cards.questions else "No questions asked in this range")
        self.range_handoffs = cards.handoffs
        self.range_handoff_hint = (f"{cards.handoffs_taken} taken · median wait "
                                   f"{_seconds(cards.handoff_wait_seconds_median)}" if cards.handoffs
                                   else "None in this range")
        self.leads_href, self.hot_href = leads_links(f)
        self.calls_href = f"/campaigns/{f.campaign_id}" if f.campaign_id else ""
        self.volume_chart = charts.volume_figure(found.days, [(s.name, s.calls_per_day) for s in found.volume])
        self.funnel_chart = charts.funnel_figure([(s.label, s.count) for s in found.funnel])
        self.bands_chart = charts.bands_figure(found.lead_bands)
        self.latency_turns = sum(d.turns for d in found.latency)
        latency = found.latency
        self.latency_chart = charts.latency_figure(found.days, [d.day for d in latency], [d.p50_ms for d in latency],
                                                   [d.p95_ms for d in latency])
        self.unanswered = [QuestionRow(q.question, q.count) for q in found.unanswered]
        self.updated_at = f"Updated {utcnow():%H:%M:%S} UTC"
        self.insight_loaded = True

    # ------------------------------------------------------------ while the page is open

    @rx.event
    def stop_watching(self):
        self._watch_round += 1

    @rx.event(background=True)
    async def watch(self):
        """Every ``REFRESH_SECONDS`` the figures are read anew. One loop per page load: a newer load, leaving the page
        or closing the tab ends it."""
        async with self:
            self._watch_round += 1
            round_, token = self._watch_round, self.router.session.client_token
        try:
            while True:
                await asyncio.sleep(REFRESH_SECONDS)
                if not client_connected(token):
                    return
                async with self:
                    if self._watch_round != round_ or self.router.url.path.rstrip("/") != PAGE:
                        return
                    was_failing = self._failing
                    failure = self._refresh()
                if failure is not None and not was_failing:
                    yield failure
        except Exception:
            log.warning("the dashboard stopped refreshing", exc_info=True)


def chosen_filter(range_choice: str, custom_from: str, custom_to: str, campaign_id: str,
                  today: date | None = None) -> AnalyticsFilter:
    """The analytics filter the page's controls describe (custom dates as the date inputs send them)."""
    campaign = int(campaign_id) if campaign_id.isdigit() else None
    if range_choice != "custom":
        days = int(range_choice) if range_choice in RANGES else 7
        return AnalyticsFilter.last_days(days, today=today, campaign_id=campaign)
    try:
        first, last = date.fromisoformat(custom_from), date.fromisoformat(custom_to)
    except ValueError:
        raise ValidationFailed("Pick both dates of the custom range.", field="range") from None
    return AnalyticsFilter(first, last, campaign)


def leads_links(f: AnalyticsFilter) -> tuple[str, str]:
    """The leads list filtered as the cards count: (every new lead of the range, the hot ones)."""
    view = LeadView(campaign_id=str(f.campaign_id or ""), created_from=f.first_day.isoformat(),
                    created_to=f.last_day.isoformat())
    return view_url(view), view_url(view.with_changes(band="hot"))


def _range_label(f: AnalyticsFilter) -> str:
    span = f"{f.first_day:%d %b %Y} – {f.last_day:%d %b %Y}" if f.first_day != f.last_day else f"{f.first_day:%d %b %Y}"
    return f"{span} (UTC, {f.day_count} day{'s' if f.day_count != 1 else ''})"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"
