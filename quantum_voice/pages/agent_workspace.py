"""/agent: where a team member takes the calls the AI hands off — their presence, the call they are on, the live
queue of callers waiting for a person (with an alert when one arrives), and their calls of today."""

import reflex as rx

from quantum_voice.components.agent_call import call_panel
from quantum_voice.components.layout import app_layout, page_header
from quantum_voice.components.leads import score_with_band
from quantum_voice.components.listing import icon_bubble
from quantum_voice.states.agent_call import CallPanelState
from quantum_voice.states.agent_workspace import AgentWorkspaceState as S, QueueRow, TodayRow, TurnRow

STATUS_COLOURS = (("available", "green"), ("busy", "amber"), ("away", "gray"), ("offline", "gray"))


# ---------------------------------------------------------------- presence

def presence_card() -> rx.Component:
    return rx.card(rx.flex(
        rx.vstack(
            rx.hstack(rx.text("You are", size="2", color_scheme="gray"),
                      rx.badge(S.status, color_scheme=rx.match(S.status, *STATUS_COLOURS, "gray"), size="2",
                               id="agent-status"), align="center", spacing="2"),
            rx.segmented_control.root(
                rx.segmented_control.item("Available", value="available"),
                rx.segmented_control.item("Away", value="away"),
                rx.segmented_control.item("Offline", value="offline"),
                value=S.chosen, on_change=S.set_status, id="agent-presence", aria_label="Your presence"),
            rx.cond(S.status == "busy", rx.text("Busy: your calls fill your capacity. You become available again "
                                                "when one ends.", size="1", color_scheme="gray")),
            spacing="2", align="start"),
        rx.spacer(),
        rx.form(rx.hstack(
            rx.vstack(rx.el.label(rx.text("Skills", size="1"), html_for="agent-skills"),
                      rx.input(value=S.skills, on_change=S.set_skills, placeholder="spanish, billing",
                               id="agent-skills", name="skills", width="220px"), spacing="1"),
            rx.vstack(rx.el.label(rx.text("Calls at once", size="1"), html_for="agent-capacity"),
                      rx.input(value=S.capacity, on_change=S.set_capacity, type="number", min="1", max="10",
                               id="agent-capacity", name="capacity", width="90px"), spacing="1"),
            rx.button("Save", type="submit", variant="soft", id="agent-skills-save"),
            align="end", spacing="2", wrap="wrap"), on_submit=S.save_skills),
        gap="4", wrap="wrap", width="100%", align="start"),
        rx.cond(S.presence_error != "", rx.callout(S.presence_error, icon="triangle-alert", color_scheme="red",
                                                   role="alert", margin_top="8px", id="agent-presence-error")),
        width="100%", id="agent-presence-card")


# ---------------------------------------------------------------- the queue

def queue_turn(turn: TurnRow) -> rx.Component:
    return rx.text(rx.text.strong(turn.who, ": "), turn.text, size="2", class_name="agent-queue-turn")


def lead_summary(row: QueueRow) -> rx.Component:
    return rx.cond(row.has_lead, rx.hstack(
        rx.icon("contact", size=14), rx.text(rx.cond(row.lead_name != "", row.lead_name, "No name"), weight="medium",
                                             size="2"),
        rx.text(row.lead_email, size="2", color_scheme="gray"), score_with_band(row.score, row.band),
        spacing="2", align="center", wrap="wrap"),
        rx.text("No lead yet (no consent given).", size="2", color_scheme="gray"))


def queue_card(row: QueueRow) -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(
            rx.cond(row.is_new, rx.badge("New", color_scheme="orange", variant="solid")),
            rx.text(row.campaign, weight="bold", size="3"),
            rx.badge(row.reason, variant="soft"),
            rx.cond(row.priority > 0, rx.badge("priority ", row.priority, color_scheme="red", variant="soft")),
            rx.cond(row.skill != "", rx.badge(row.skill, color_scheme="gray", variant="outline")),
            rx.spacer(),
            rx.hstack(rx.icon("timer", size=14), rx.text(S.waited[row.id.to_string()], size="2", weight="medium",
                                                          class_name="agent-waited"),
                      align="center", spacing="1", aria_label="Waiting for"),
            rx.button(rx.icon("phone-incoming", size=14), "Accept", on_click=S.accept(row.id), color_scheme="green",
                      id="agent-accept-" + row.id.to_string(), class_name="agent-accept"),
            align="center", width="100%", wrap="wrap", spacing="2"),
        rx.cond(row.detail != "", rx.text("“", row.detail, "”", size="2", color_scheme="gray")),
        lead_summary(row),
        rx.el.details(rx.el.summary(rx.text("Last turns (", row.turns.length(), ")", size="2", as_="span"),
                                    cursor="pointer"),
                      rx.vstack(rx.foreach(row.turns, queue_turn), spacing="1", padding_top="6px"),
                      width="100%"),
        spacing="2", width="100%"),
        width="100%", class_name="agent-queue-row", data_handoff_id=row.id, data_new=row.is_new,
        border=rx.cond(row.is_new, "2px solid var(--orange-9)", "none"),
        background_color=rx.cond(row.is_new, "var(--orange-a2)", "var(--color-panel)"))


def queue_section() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.heading("Callers waiting", size="5"),
                  rx.badge(S.rows.length(), color_scheme=rx.cond(S.rows.length() > 0, "orange", "gray"),
                           variant="solid", radius="full", id="agent-queue-count"),
                  align="center", spacing="2"),
        rx.cond(S.accept_error != "", rx.callout(S.accept_error, icon="circle-alert", color_scheme="red", role="alert",
                                                 width="100%", id="agent-accept-error")),
        rx.cond(S.rows.length() > 0, rx.vstack(rx.foreach(S.rows, queue_card), spacing="3", width="100%"),
                rx.card(rx.hstack(icon_bubble("headset", 18), rx.vstack(
                    rx.text("No one is waiting.", weight="medium"),
                    rx.text("When the AI hands a caller to the team, they appear here with their details and what "
                            "they said, and this tab beeps. Go available so callers can be handed to you.", size="2",
                            color_scheme="gray"), spacing="1"), spacing="3", align="center"),
                        width="100%", id="agent-queue-empty")),
        spacing="3", width="100%", id="agent-queue")


# ---------------------------------------------------------------- my calls today

def today_row(row: TodayRow) -> rx.Component:
    return rx.table.row(rx.table.cell(row.time), rx.table.cell(row.campaign), rx.table.cell(row.lead),
                        rx.table.cell(rx.badge(row.disposition, variant="soft")), rx.table.cell(row.talk),
                        class_name="agent-today-row")


def today_section() -> rx.Component:
    return rx.vstack(
        rx.heading("My calls today", size="5"),
        rx.cond(S.today.length() > 0, rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("Taken (UTC)", "Campaign", "Lead", "Outcome", "Talk time")])),
            rx.table.body(rx.foreach(S.today, today_row)), variant="surface", size="1", width="100%"),
            rx.text("No calls taken yet today.", size="2", color_scheme="gray")),
        spacing="3", width="100%", id="agent-today")


def agent_workspace_page() -> rx.Component:
    content = rx.vstack(
        page_header("Agent workspace", "Take the callers the AI hands to a person: hear them, see what they said, "
                    "and record how the call ended.", title_id="agent-title"),
        rx.cond(S.loaded, rx.vstack(presence_card(), call_panel(), queue_section(), today_section(),
                                    spacing="5", width="100%"),
                rx.skeleton(height="320px", width="100%")),
        rx.script(src="/agent_audio.js"),
        spacing="5", width="100%", on_unmount=[S.stop_watching, CallPanelState.stop_following],
    )
    return app_layout(content, "/agent")
