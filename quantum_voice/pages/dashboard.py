"""/dashboard: all-time counts, then the live analytics of a range of days and a campaign (cards and charts, read
anew every few seconds while the page is open), how calls connect and the hand-offs to people."""

import reflex as rx

from quantum_voice.components.charts import chart_card
from quantum_voice.components.forms import NATIVE_SELECT_STYLE
from quantum_voice.components.layout import app_layout, page_header
from quantum_voice.components.listing import icon_bubble
from quantum_voice.pages.call_detail import recent_calls_card
from quantum_voice.states.dashboard import CampaignRow, DashboardState as S, InsightState as I, Option, QuestionRow

RANGE_CHOICES = (("7", "Last 7 days"), ("30", "Last 30 days"), ("90", "Last 90 days"), ("custom", "Custom range"))

STATUS_COLOURS = {"live": "green", "draft": "gray", "paused": "amber", "archived": "gray"}


def metric(label: str, value, icon: str, hint, href="", id: str = "", loaded=S.loaded) -> rx.Component:
    """A number card; with ``href`` (a string, or a state var that may be "") it opens the list behind the number."""
    linked = not isinstance(href, str) or bool(href)
    card = rx.card(
        rx.vstack(
            rx.hstack(rx.text(label, size="2", color_scheme="gray", weight="medium"), rx.spacer(),
                      rx.icon(icon, size=18, color="var(--accent-10)"), width="100%"),
            rx.skeleton(rx.text(value, size="7", weight="bold"), loading=~loaded),
            rx.text(hint, size="1", color_scheme="gray"),
            spacing="2",
        ),
        size="2",
        **({"_hover": {"background_color": "var(--gray-a2)"}} if linked else {}),
    )
    plain = rx.box(card, id=id) if id else card
    if not linked:
        return plain
    link = rx.link(card, href=href, underline="none", color="inherit", id=id or None,
                   aria_label=f"{label}: open the list")
    return link if isinstance(href, str) else rx.cond(href != "", link, plain)


def metrics() -> rx.Component:
    return rx.grid(
        metric("Campaigns", S.campaign_count, "megaphone", "Not archived"),
        metric("Calls", S.call_count, "phone", "All time, test calls excluded"),
        metric("Leads", S.lead_count, "user-round-plus", "All time", href="/leads", id="dashboard-leads"),
        metric("Hot leads", S.hot_lead_count, "flame", "Ready for a follow-up", href="/leads?band=hot",
               id="dashboard-hot-leads"),
        columns=rx.breakpoints(initial="1", xs="2", md="4"),
        spacing="4",
        width="100%",
    )


def metric_section(title: str, hint: str, *cards: rx.Component, id: str,
                   after: rx.Component | None = None) -> rx.Component:
    """A headed row of metric cards (and what follows them)."""
    return rx.vstack(
        rx.heading(title, size="3"),
        rx.text(hint, size="1", color_scheme="gray"),
        rx.grid(*cards, columns=rx.breakpoints(initial="1", xs="2", md="4"), spacing="4", width="100%"),
        *([after] if after is not None else []),
        spacing="2", width="100%", id=id,
    )


def caller_connection() -> rx.Component:
    return metric_section(
        "How calls connect", "Measured in callers' browsers over the last 7 days, test calls excluded.",
        metric("Calls measured", S.connected_calls, "smartphone", "Reported by the call page"),
        metric("Time to connect", S.connect_time, "timer", "Median, from Call to connected"),
        metric("Round trip", S.round_trip, "activity", "Median network round trip"),
        metric("Calls with audio drops", S.calls_with_drops, "audio-lines", "Lost or concealed audio"),
        id="dashboard-caller-connection",
    )


def handoffs() -> rx.Component:
    return metric_section(
        "Hand-offs to people", "Callers who asked for a person over the last 7 days.",
        metric("Asked for a person", S.handoffs_requested, "hand", "Requests from callers and the flow"),
        metric("Taken by a person", S.handoffs_taken, "headset", "The rest were told and offered a callback"),
        metric("Wait", S.handoff_wait, "hourglass", "Median, from the request to an agent accepting"),
        metric("Talk time", S.handoff_talk, "timer", "Median, from accepting to the end"),
        id="dashboard-handoffs",
        after=rx.cond(S.handoff_outcomes != "", rx.text("Outcomes: ", S.handoff_outcomes, size="2",
                                                        id="dashboard-handoff-outcomes")),
    )


def native_select(*options: rx.Component, value, on_change, label: str, id: str, width: str = "190px"):
    return rx.el.select(*options, value=value, on_change=on_change, aria_label=label, id=id,
                        style={**NATIVE_SELECT_STYLE, "width": width})


def campaign_option(choice: Option) -> rx.Component:
    return rx.el.option(choice.label, value=choice.value)


def insight_filters() -> rx.Component:
    return rx.flex(
        native_select(*[rx.el.option(label, value=v) for v, label in RANGE_CHOICES], value=I.range_choice,
                      on_change=I.set_range, label="Date range", id="dashboard-range", width="160px"),
        rx.cond(I.custom_range, rx.hstack(
            rx.input(type="date", value=I.custom_from, on_change=I.set_custom_from, id="dashboard-from",
                     aria_label="From (UTC)"),
            rx.text("to", size="2"),
            rx.input(type="date", value=I.custom_to, on_change=I.set_custom_to, id="dashboard-to",
                     aria_label="To (UTC, inclusive)"),
            align="center", spacing="2")),
        native_select(rx.el.option("All campaigns", value=""), rx.foreach(I.campaign_options, campaign_option),
                      value=I.campaign_id, on_change=I.set_campaign, label="Filter by campaign",
                      id="dashboard-campaign"),
        rx.spacer(),
        rx.hstack(rx.box(width="8px", height="8px", border_radius="50%", background_color="var(--green-9)"),
                  rx.text(I.updated_at, size="1", color_scheme="gray", id="dashboard-updated"),
                  align="center", spacing="2", title="The figures refresh by themselves every 15 seconds"),
        gap="3", wrap="wrap", width="100%", align="center",
    )


def insight_cards() -> rx.Component:
    card = lambda *a, **k: metric(*a, loaded=I.insight_loaded, **k)  # noqa: E731
    return rx.grid(
        card("Active calls now", I.active_calls, "phone-call", "Open right now, test calls excluded",
             id="dashboard-active"),
        card("Calls", I.range_calls, "phone", "Started in the range", href=I.calls_href, id="dashboard-range-calls"),
        card("Leads", I.range_leads, "user-round-plus", "New in the range", href=I.leads_href,
             id="dashboard-range-leads"),
        card("Conversion", I.conversion, "trending-up", "New leads per call", id="dashboard-conversion"),
        card("Hot leads", I.range_hot, "flame", "New hot leads in the range", href=I.hot_href,
             id="dashboard-range-hot"),
        card("Average handle time", I.handle_time, "timer", "Ended calls, start to end", id="dashboard-handle"),
        card("Answer rate", I.answer_rate, "book-open-check", I.answer_hint, href="/knowledge",
             id="dashboard-answer-rate"),
        card("Hand-offs", I.range_handoffs, "hand", I.range_handoff_hint, id="dashboard-range-handoffs"),
        columns=rx.breakpoints(initial="1", xs="2", md="4"), spacing="4", width="100%",
    )


def question_item(row: QuestionRow) -> rx.Component:
    return rx.hstack(
        rx.text(row.question, size="2", flex="1", min_width="0", overflow_wrap="anywhere"),
        rx.badge(row.count, variant="soft", aria_label="times asked"),
        width="100%", padding_y="8px", border_bottom="1px solid var(--gray-a4)", align="center",
    )


def unanswered_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text("Most-asked unanswered questions", size="3", weight="bold"), rx.spacer(),
                      rx.link("Open knowledge", href="/knowledge", size="2", id="dashboard-knowledge-link"),
                      width="100%", align="center"),
            rx.text("Callers asked these and your documents had no answer. Add a Q&A pair or a document on the "
                    "knowledge page.", size="1", color_scheme="gray"),
            rx.cond(I.unanswered.length() > 0,
                    rx.vstack(rx.foreach(I.unanswered, question_item), spacing="0", width="100%"),
                    rx.center(rx.text("Every question in this range was answered.", size="2", color_scheme="gray"),
                              height="80px", width="100%")),
            spacing="2", width="100%",
        ),
        size="2", width="100%", id="dashboard-unanswered",
    )


def insight() -> rx.Component:
    charts = rx.grid(
        chart_card("Calls per day", "Real calls by the day they started (UTC), per campaign.", I.volume_chart,
                   id="dashboard-volume", empty=I.range_calls == 0),
        chart_card("Funnel", "QR scans → email gate → calls → leads → hot leads in the range.", I.funnel_chart,
                   id="dashboard-funnel"),
        chart_card("Lead bands", "New leads in the range by score band.", I.bands_chart, id="dashboard-bands",
                   empty=~I.range_has_leads),
        chart_card("Voice-to-voice latency", "End of the caller's speech to the agent's first audio, p50 and p95 "
                   "per day.", I.latency_chart, id="dashboard-latency", empty=I.latency_turns == 0,
                   empty_text="No measured voice turns in this range."),
        columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
    )
    return rx.vstack(
        rx.heading("Insight", size="5"),
        rx.text(I.range_label, size="2", color_scheme="gray", id="dashboard-range-label"),
        insight_filters(), insight_cards(), charts, unanswered_card(),
        spacing="3", width="100%", id="dashboard-insight", on_unmount=I.stop_watching,
    )


def campaign_item(campaign: CampaignRow) -> rx.Component:
    return rx.hstack(
        rx.icon("megaphone", size=16, color="var(--gray-10)"),
        rx.text(campaign.name, size="2", weight="medium"),
        rx.spacer(),
        rx.badge(campaign.status, color_scheme=rx.match(campaign.status, *STATUS_COLOURS.items(), "gray"),
                 variant="soft"),
        width="100%", padding_y="10px", border_bottom="1px solid var(--gray-a4)", align="center",
    )


def empty_state() -> rx.Component:
    return rx.card(
        rx.vstack(
            icon_bubble("phone-incoming"),
            rx.heading("No calls yet", size="4"),
            rx.text("Calls and leads appear here as soon as callers reach one of your campaigns — by scanning "
                    "its QR code or opening its call link. Each call is transcribed, and the people who leave "
                    "their details become leads, scored hot, warm or cold.", size="2", color_scheme="gray",
                    max_width="560px"),
            rx.cond(
                S.campaigns.length() > 0,
                rx.vstack(rx.text("Your campaigns", size="2", weight="bold"), rx.foreach(S.campaigns, campaign_item),
                          spacing="0", width="100%", max_width="560px", padding_top="8px"),
                rx.text("You have no campaigns yet.", size="2", color_scheme="gray"),
            ),
            spacing="3", align="start", width="100%",
        ),
        size="3", width="100%", id="dashboard-empty",
    )


def dashboard_page() -> rx.Component:
    content = rx.vstack(
        page_header("Dashboard", "How your campaigns are doing.", title_id="dashboard-title"),
        rx.cond(S.onboarding_pending & ~S.can_manage_org,
                rx.callout("Your organisation's owner is finishing set-up.", icon="info", width="100%")),
        metrics(),
        rx.cond(S.loaded & (S.call_count == 0), empty_state()),
        insight(),
        rx.cond(S.loaded & (S.call_count > 0), recent_calls_card(
            "Your organisation's calls, newest first, test calls too; open one for its transcript and where each "
            "answer's wait went.", id="dashboard-recent-calls")),
        rx.cond(S.loaded & (S.connected_calls > 0), caller_connection()),
        rx.cond(S.loaded & (S.handoffs_requested > 0), handoffs()),
        spacing="5", width="100%",
    )
    return app_layout(content, "/dashboard")
