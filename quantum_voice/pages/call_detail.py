"""/calls/[call_id]: one call — what was said and when, and per answered turn where the wait went: speech to text,
the end-of-turn wait, the flow step and the first byte of the agent's audio."""

import reflex as rx

from quantum_voice.components.layout import app_layout
from quantum_voice.states.call_detail import (CallDetailState as S, Legend, RecentCallRow, RecentCallsState as R,
                                              Segment, TurnRow, UsageRow)

MONO = "var(--code-font-family, ui-monospace, monospace)"


def fact(label: str, value) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))


def header() -> rx.Component:
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("Back", size="2"), align="center", spacing="1"),
                href=S.back_href, color_scheme="gray", underline="none", id="call-back"),
        rx.heading("Call ", S.call_id, size="7", id="call-title"),
        rx.hstack(
            rx.cond(S.is_test, rx.badge("test call", color_scheme="gray", variant="outline", id="call-test-badge")),
            rx.badge(S.status, variant="soft", color_scheme="gray"),
            rx.badge(S.channel, variant="soft", color_scheme="gray"),
            rx.text(S.started, " UTC", size="2", color_scheme="gray"),
            spacing="2", align="center", wrap="wrap",
        ),
        spacing="2", align="start", width="100%",
    )


def facts() -> rx.Component:
    return rx.card(rx.data_list.root(
        fact("Campaign", rx.cond(S.campaign_href != "", rx.link(S.campaign, href=S.campaign_href), "—")),
        fact("Lead", rx.cond(S.lead_href != "", rx.link("Open the lead", href=S.lead_href, id="call-lead-link"),
                             "No lead from this call")),
        fact("Length", rx.cond(S.call_length != "", S.call_length, "—")),
        fact("How it ended", rx.cond(S.end_reason != "", rx.text(S.end_reason, id="call-end-reason"), "Not ended")),
        fact("Interruptions", rx.text(S.interruptions, id="call-interruptions")),
        fact("Timed turns", rx.text(S.measured, rx.cond(S.slowest != "", " · slowest " + S.slowest, ""),
                                    id="call-measured")),
        size="2",
    ), size="2", width="100%", id="call-facts")


# ---------------------------------------------------------------- the waterfall

def legend_item(item: Legend) -> rx.Component:
    return rx.hstack(rx.box(width="10px", height="10px", border_radius="2px", background_color=item.colour),
                     rx.text(item.label, size="1", color_scheme="gray"), spacing="1", align="center",
                     margin_right="12px")


def legend() -> rx.Component:
    return rx.flex(rx.text("From the end of the caller's speech:", size="1", color_scheme="gray"),
                   rx.foreach(S.legend, legend_item), gap="3", wrap="wrap", align="center", id="call-legend")


def segment(part: Segment) -> rx.Component:
    return rx.box(position="absolute", top="0", bottom="0", left=part.left, width=part.width, min_width="2px",
                  background_color=part.colour, title=part.label + ": " + part.ms, class_name="waterfall-stage",
                  aria_label=part.label + " " + part.ms)


def waterfall(turn: TurnRow) -> rx.Component:
    return rx.vstack(
        rx.box(rx.foreach(turn.segments, segment), position="relative", height="14px", width="100%",
               border_radius="var(--radius-2)", background_color="var(--gray-a2)", overflow="hidden",
               role="img", aria_label="Latency of this turn: " + turn.breakdown),
        rx.text(rx.cond(turn.voice_to_voice != "", rx.text.strong("Voice to voice " + turn.voice_to_voice + "  "), ""),
                turn.breakdown, size="1", color_scheme="gray", font_family=MONO),
        spacing="1", width="100%", class_name="waterfall",
    )


# ---------------------------------------------------------------- the transcript

def turn_row(turn: TurnRow) -> rx.Component:
    caller = turn.speaker == "caller"
    return rx.hstack(
        rx.text(turn.at, size="1", font_family=MONO, color_scheme="gray", width="64px", flex_shrink="0",
                padding_top="2px", class_name="turn-at"),
        rx.vstack(
            rx.hstack(
                rx.text(turn.who, size="1", weight="medium"),
                rx.cond(turn.spoke_for != "", rx.text("spoke ", turn.spoke_for, size="1", color_scheme="gray")),
                rx.cond(turn.interrupted, rx.badge(rx.icon("scissors", size=10),
                                                   rx.cond(turn.unspoken, "interrupted before it played",
                                                           "interrupted"),
                                                   size="1", color_scheme="amber", variant="soft",
                                                   class_name="turn-interrupted")),
                spacing="2", align="center",
            ),
            rx.text(turn.text, size="2"),
            rx.cond(turn.interrupted & (turn.heard != ""),
                    rx.text("Heard before the caller cut in: “", turn.heard, "”", size="1", color_scheme="amber")),
            rx.cond(turn.has_waterfall, waterfall(turn)),
            spacing="1", width="100%", padding="8px 12px", border_radius="var(--radius-3)",
            background_color=rx.cond(caller, "var(--accent-a3)", "var(--gray-a2)"),
        ),
        spacing="3", align="start", width="100%",
        class_name=rx.cond(caller, "call-turn call-turn-caller", "call-turn call-turn-agent"),
    )


def transcript() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Transcript and latency", size="4"),
        rx.text("Times are from the start of the call. Under each answer: where the wait went, on one scale for the "
                "whole call.", size="2", color_scheme="gray"),
        legend(),
        rx.cond(S.measured == 0, rx.callout(
            "No turn of this call was timed. Timings come from the voice server; calls in the simulator or "
            "through the API have none.", icon="info", color_scheme="gray", size="1", width="100%",
            id="call-no-timings")),
        rx.cond(S.turns.length() > 0,
                rx.vstack(rx.foreach(S.turns, turn_row), spacing="2", width="100%", id="call-transcript"),
                rx.text("No transcript.", size="2", color_scheme="gray")),
        spacing="3", width="100%",
    ), size="2", width="100%")


def usage_row(row: UsageRow) -> rx.Component:
    return rx.table.row(rx.table.cell(row.service), rx.table.cell(row.provider), rx.table.cell(row.amount))


def usage() -> rx.Component:
    return rx.cond(S.usage.length() > 0, rx.card(rx.vstack(
        rx.heading("Providers used", size="4"),
        rx.table.root(rx.table.header(rx.table.row(rx.table.column_header_cell("Service"),
                                                   rx.table.column_header_cell("Provider"),
                                                   rx.table.column_header_cell("Used"))),
                      rx.table.body(rx.foreach(S.usage, usage_row)), size="1", width="100%"),
        spacing="3", width="100%",
    ), size="2", width="100%", id="call-usage"))


# ---------------------------------------------------------------- the latest calls, on other pages

def recent_call(row: RecentCallRow) -> rx.Component:
    return rx.link(rx.hstack(
        rx.icon("phone", size=14, color="var(--gray-10)"),
        rx.text(row.started, " UTC", size="2", weight="medium"),
        rx.cond(row.campaign != "", rx.text(row.campaign, size="2", color_scheme="gray")),
        rx.cond(row.is_test, rx.badge("test call", color_scheme="gray", variant="outline", size="1")),
        rx.spacer(),
        rx.text(rx.cond(row.latency != "", row.latency, "not timed"), size="1", color_scheme="gray"),
        rx.cond(row.call_length != "", rx.text(row.call_length, size="1", color_scheme="gray")),
        rx.badge(row.status, variant="soft", color_scheme="gray", size="1"),
        rx.icon("chevron-right", size=14, color="var(--gray-9)"),
        align="center", spacing="2", width="100%", wrap="wrap", padding_y="8px",
        border_bottom="1px solid var(--gray-a4)",
    ), href=row.href, underline="none", color="inherit", width="100%", class_name="recent-call")


def recent_calls_card(hint: str, *, id: str) -> rx.Component:
    """The latest calls, each opening its page with the transcript and latency waterfall; loads itself."""
    return rx.card(rx.vstack(
        rx.heading("Latest calls", size="4"),
        rx.text(hint, size="2", color_scheme="gray"),
        rx.cond(R.recent.length() > 0, rx.vstack(rx.foreach(R.recent, recent_call), spacing="0", width="100%"),
                rx.cond(R.recent_loaded, rx.text("No calls yet.", size="2", color_scheme="gray"),
                        rx.skeleton(height="80px", width="100%"))),
        spacing="2", width="100%",
    ), size="2", width="100%", id=id, on_mount=R.load_recent)


def missing() -> rx.Component:
    return rx.callout(rx.text(S.missing, " ", rx.link("Back to the dashboard", href="/dashboard"), "."),
                      icon="circle-alert", color_scheme="red", width="100%", id="call-missing")


def call_detail_page() -> rx.Component:
    body = rx.vstack(header(), facts(), transcript(), usage(), spacing="4", width="100%")
    content = rx.cond(S.missing != "", missing(), rx.cond(S.loaded, body, rx.vstack(
        rx.skeleton(height="64px", width="100%"), rx.skeleton(height="320px", width="100%"), spacing="4",
        width="100%")))
    return app_layout(content, "/dashboard")
