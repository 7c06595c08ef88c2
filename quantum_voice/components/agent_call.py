"""/agent's call panel: the call the agent took — transcript, lead, knowledge, audio, hand back, disposition."""

from __future__ import annotations

import reflex as rx

from quantum_voice.components.forms import NATIVE_SELECT_STYLE
from quantum_voice.components.leads import band_badge, lead_status_badge
from quantum_voice.states.agent_call import CallPanelState as C, CallTab, EditField, LeadField, PassageRow
from quantum_voice.states.agent_workspace import TurnRow

OUTCOMES = (("qualified", "Qualified"), ("not_interested", "Not interested"), ("callback", "Call back"),
            ("no_answer", "No answer"))
AUDIO_ROOT = "agent-audio-root"
# assets/agent_audio.js draws the audio controls inside #agent-audio-root (React leaves it empty).
MOUNT_AUDIO = f"window.QVAgentAudio && window.QVAgentAudio.mount(document.getElementById('{AUDIO_ROOT}'))"


def panel_section(title: str, icon: str, *children: rx.Component, id: str) -> rx.Component:
    return rx.vstack(rx.hstack(rx.icon(icon, size=16, color="var(--accent-10)"), rx.heading(title, size="3"),
                               align="center", spacing="2"),
                     *children, spacing="2", width="100%", id=id)


def turn_bubble(turn: TurnRow) -> rx.Component:
    mine = turn.speaker == "human_agent"
    return rx.box(
        rx.text(turn.who, size="1", weight="bold", color_scheme=rx.cond(turn.speaker == "caller", "gray", "violet")),
        rx.text(turn.text, size="2"),
        align_self=rx.cond(turn.speaker == "caller", "start", "end"), max_width="85%", padding="6px 10px",
        border_radius="var(--radius-3)",
        background_color=rx.cond(turn.speaker == "caller", "var(--gray-a3)",
                                 rx.cond(mine, "var(--accent-a4)", "var(--accent-a2)")),
        class_name="agent-turn", data_speaker=turn.speaker,
    )


def transcript() -> rx.Component:
    return panel_section("Transcript", "messages-square", rx.cond(
        C.turns.length() > 0,
        rx.auto_scroll(rx.flex(rx.foreach(C.turns, turn_bubble), direction="column", gap="2", width="100%"),
                       max_height="360px", width="100%", padding="4px", id="agent-call-turns"),
        rx.text("No words yet.", size="2", color_scheme="gray")), id="agent-call-transcript")


def lead_item(item: LeadField) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(item.label), rx.data_list.value(item.value))


def lead_box() -> rx.Component:
    return panel_section("Lead", "contact", rx.cond(
        C.has_lead,
        rx.vstack(
            rx.hstack(rx.text(C.score, weight="bold"), band_badge(C.band), lead_status_badge(C.lead_status,
                                                                                              id="agent-lead-status"),
                      rx.link("Open the lead", href="/leads/" + C.lead_id.to_string(), size="2"),
                      spacing="2", align="center", wrap="wrap"),
            rx.cond(C.editing_lead, lead_form(), rx.vstack(
                rx.data_list.root(rx.foreach(C.lead_fields, lead_item), size="1"),
                rx.button(rx.icon("pencil", size=14), "Correct details", size="1", variant="soft",
                          on_click=C.edit_lead, id="agent-lead-edit"),
                spacing="2", width="100%")),
            spacing="2", width="100%"),
        rx.text("No lead: the caller did not agree to be contacted.", size="2", color_scheme="gray")),
        id="agent-call-lead")


def lead_input(field: EditField) -> rx.Component:
    return rx.vstack(rx.el.label(rx.text(field.label, size="1", weight="medium"), html_for="agent-lead-" + field.key),
                     rx.input(default_value=field.value, name=field.key, id="agent-lead-" + field.key, size="2",
                              width="100%"),
                     spacing="1", width="100%")


def lead_form() -> rx.Component:
    return rx.form(rx.vstack(
        rx.foreach(C.lead_edit, lead_input),
        rx.cond(C.lead_error != "", rx.callout(C.lead_error, icon="triangle-alert", color_scheme="red", role="alert",
                                               width="100%", id="agent-lead-error")),
        rx.hstack(rx.button("Save", type="submit", size="2", id="agent-lead-save"),
                  rx.button("Cancel", type="button", size="2", variant="soft", on_click=C.cancel_lead_edit),
                  spacing="2"),
        spacing="2", width="100%"), on_submit=C.save_lead, width="100%", id="agent-lead-form")


def passage(row: PassageRow) -> rx.Component:
    return rx.box(rx.text(row.document, size="1", weight="bold", color_scheme="violet"),
                  rx.text(row.text, size="2"), padding="6px 10px", border_left="3px solid var(--accent-7)",
                  width="100%", class_name="agent-passage")


def knowledge() -> rx.Component:
    return panel_section(
        "Knowledge", "book-open",
        rx.form(rx.hstack(
            rx.input(value=C.kb_query, on_change=C.set_kb_query, placeholder="What did the caller ask?",
                     aria_label="Search the campaign's knowledge", id="agent-kb-query", name="kb-query", width="100%"),
            rx.button(rx.icon("search", size=14), "Search", type="submit", size="2", id="agent-kb-search"),
            width="100%", spacing="2"), on_submit=C.search_knowledge, width="100%"),
        rx.cond(C.kb_message != "", rx.text(C.kb_message, size="2", color_scheme="gray", id="agent-kb-message")),
        rx.foreach(C.kb_results, passage),
        id="agent-call-knowledge")


def audio() -> rx.Component:
    return panel_section("Audio", "headphones",
                         rx.box(id=AUDIO_ROOT, data_handoff_id=C.current_id, width="100%", on_mount=rx.call_script(
                             MOUNT_AUDIO)), id="agent-call-audio")


def outcome_option(choice: tuple[str, str]) -> rx.Component:
    return rx.el.option(choice[1], value=choice[0])


def end_form() -> rx.Component:
    return panel_section(
        "End the call", "flag",
        rx.form(rx.vstack(
            rx.el.label(rx.text("Outcome", size="2", weight="medium"), html_for="agent-outcome"),
            rx.el.select(rx.el.option("Choose…", value=""), *[outcome_option(c) for c in OUTCOMES],
                         value=C.outcome, on_change=C.set_outcome, id="agent-outcome", name="outcome",
                         style=NATIVE_SELECT_STYLE),
            rx.cond(C.outcome == "callback", rx.vstack(
                rx.el.label(rx.text("Call back at (UTC)", size="2", weight="medium"), html_for="agent-callback-at"),
                rx.input(type="datetime-local", value=C.callback_at, on_change=C.set_callback_at,
                         id="agent-callback-at", name="callback-at", required=True),
                spacing="1", width="100%")),
            rx.el.label(rx.text("Notes", size="2", weight="medium"), html_for="agent-notes"),
            rx.text_area(value=C.notes, on_change=C.set_notes, id="agent-notes", name="notes", rows="3", width="100%",
                         max_length=2000),
            rx.cond(C.form_error != "", rx.callout(C.form_error, icon="triangle-alert", color_scheme="red",
                                                   role="alert", width="100%", id="agent-form-error")),
            rx.hstack(
                rx.button(rx.icon("flag", size=14), "End the call", type="submit", id="agent-complete"),
                rx.button(rx.icon("bot", size=14), "Hand back to the AI", type="button", variant="soft",
                          on_click=C.hand_back, id="agent-hand-back"),
                spacing="2", wrap="wrap"),
            spacing="2", width="100%"), on_submit=C.complete, width="100%"),
        id="agent-call-end")


def call_tab(tab: CallTab) -> rx.Component:
    return rx.button(tab.label, size="1", variant=rx.cond(tab.id == C.current_id, "solid", "soft"),
                     on_click=C.choose(tab.id), class_name="agent-call-tab")


def call_panel() -> rx.Component:
    body = rx.card(rx.vstack(
        rx.hstack(rx.icon("phone-call", size=18, color="var(--green-10)"),
                  rx.heading("On the call", size="4"), rx.text(C.campaign, size="2", color_scheme="gray"),
                  rx.spacer(), rx.cond(C.calls.length() > 1, rx.hstack(rx.foreach(C.calls, call_tab), spacing="1")),
                  align="center", width="100%", wrap="wrap"),
        rx.text(C.reason, size="2", color_scheme="gray"),
        rx.grid(
            rx.vstack(transcript(), audio(), spacing="4", width="100%"),
            rx.vstack(lead_box(), knowledge(), end_form(), spacing="4", width="100%"),
            columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%"),
        spacing="3", width="100%"), size="3", width="100%", id="agent-call")
    notice = rx.cond(C.ended_notice != "", rx.callout(C.ended_notice, icon="info", width="100%",
                                                      id="agent-call-ended"))
    return rx.fragment(notice, rx.cond(C.current_id != 0, body))
