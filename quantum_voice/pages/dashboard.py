"""/dashboard"""

import reflex as rx

from quantum_voice.components.layout import app_layout, page_header
from quantum_voice.components.listing import icon_bubble
from quantum_voice.states.dashboard import CampaignRow, DashboardState as S

STATUS_COLOURS = {"live": "green", "draft": "gray", "paused": "amber", "archived": "gray"}


def metric(label: str, value, icon: str, hint: str, href: str = "", id: str = "") -> rx.Component:
    card = rx.card(
        rx.vstack(
            rx.hstack(rx.text(label, size="2", color_scheme="gray", weight="medium"), rx.spacer(),
                      rx.icon(icon, size=18, color="var(--accent-10)"), width="100%"),
            rx.skeleton(rx.text(value, size="7", weight="bold"), loading=~S.loaded),
            rx.text(hint, size="1", color_scheme="gray"),
            spacing="2",
        ),
        size="2",
        **({"_hover": {"background_color": "var(--gray-a2)"}} if href else {}),
    )
    if not href:
        return card
    return rx.link(card, href=href, underline="none", color="inherit", id=id or None,
                   aria_label=f"{label}: open the list")


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
        rx.cond(S.loaded & (S.connected_calls > 0), caller_connection()),
        rx.cond(S.loaded & (S.handoffs_requested > 0), handoffs()),
        spacing="5", width="100%",
    )
    return app_layout(content, "/dashboard")
