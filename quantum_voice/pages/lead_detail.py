"""/leads/[lead_id]: one person — who they are, their score and why, the pipeline with its history, assignee and
notes, every call with its consent ticket and transcript, and their data export and erasure."""

import reflex as rx

from quantum_voice.components import forms
from quantum_voice.components.forms import NATIVE_SELECT_STYLE
from quantum_voice.components.layout import app_layout
from quantum_voice.components.leads import band_badge, lead_status_badge
from quantum_voice.states.lead_detail import (STATUSES, CallView, HistoryRow, Item, LeadDetailState as S, Reason,
                                              TurnView)

MONO = "var(--code-font-family, ui-monospace, monospace)"


def section(title: str, *children: rx.Component, id: str, icon: str = "") -> rx.Component:
    heading = rx.hstack(rx.icon(icon, size=16, color="var(--accent-10)") if icon else rx.fragment(),
                        rx.heading(title, size="3"), align="center", spacing="2")
    return rx.card(rx.vstack(heading, *children, spacing="3", width="100%"), size="2", width="100%", id=id)


# ---------------------------------------------------------------- header

def header() -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("Leads", size="2"), align="center",
                              spacing="1"), href="/leads", color_scheme="gray", underline="none"),
            rx.heading(S.title, size="7", id="lead-title"),
            rx.hstack(
                band_badge(S.band), lead_status_badge(S.status),
                rx.cond(S.is_test, rx.badge("test call", color_scheme="gray", variant="outline")),
                rx.cond(S.erased, rx.badge(rx.icon("eraser", size=12), "erased", color_scheme="red",
                                           id="lead-erased-badge")),
                rx.cond(S.campaign != "", rx.text(S.campaign, size="2", color_scheme="gray")),
                rx.text("since ", S.created, " UTC", size="2", color_scheme="gray"),
                spacing="2", align="center", wrap="wrap",
            ),
            spacing="2", align="start",
        ),
        rx.spacer(),
        rx.cond(S.can_manage, rx.hstack(
            rx.button(rx.icon("file-json", size=16), "Export data (JSON)", variant="soft", on_click=S.export_data,
                      id="lead-export-json"),
            rx.cond(~S.erased, rx.button(rx.icon("eraser", size=16), "Erase person", color_scheme="red",
                                         variant="soft", on_click=S.ask_erase, id="lead-erase")),
            spacing="2", wrap="wrap",
        )),
        gap="3", width="100%", direction=rx.breakpoints(initial="column", sm="row"), align="start",
    )


# ---------------------------------------------------------------- who, and how hot

def contact_item(item: Item) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(item.label), rx.data_list.value(item.value))


def contact_card() -> rx.Component:
    return section(
        "Contact", rx.cond(
            S.erased, rx.text("Erased at the person's request.", size="2", color_scheme="gray"),
            rx.cond(S.contact.length() > 0, rx.data_list.root(rx.foreach(S.contact, contact_item), size="2"),
                    rx.text("The caller gave no details yet.", size="2", color_scheme="gray"))),
        rx.cond(S.summary != "", rx.text(S.summary, size="2", color_scheme="gray")),
        id="lead-contact", icon="contact",
    )


def reason_row(reason: Reason) -> rx.Component:
    return rx.hstack(rx.icon("check", size=14, color="var(--green-10)"), rx.text(reason.label, size="2"),
                     rx.spacer(), rx.text(reason.points, size="2", weight="bold", font_family=MONO),
                     align="center", width="100%", class_name="score-reason")


def score_card() -> rx.Component:
    return section(
        "Score",
        rx.hstack(rx.text(S.score, size="8", weight="bold", id="lead-score"), rx.text("/ 100", color_scheme="gray"),
                  band_badge(S.band, size="2"), align="baseline", spacing="2"),
        rx.cond(S.breakdown.length() > 0,
                rx.vstack(rx.text("Why", size="1", weight="medium", color_scheme="gray"),
                          rx.foreach(S.breakdown, reason_row), spacing="2", width="100%"),
                rx.text("No scoring rule fired on this person's calls.", size="2", color_scheme="gray")),
        id="lead-score-card", icon="gauge",
    )


# ---------------------------------------------------------------- the pipeline, notes, history

def status_step(status: str, index: int) -> rx.Component:
    current = S.status == status
    step = rx.button(status.capitalize(), variant=rx.cond(current, "solid", "soft"),
                     color_scheme=rx.cond(current, "violet", "gray"), size="2", on_click=S.set_status(status),
                     disabled=~S.editable, aria_pressed=rx.cond(current, "true", "false"),
                     id=f"lead-status-{status}")
    arrow = rx.icon("chevron-right", size=14, color="var(--gray-9)")
    return rx.fragment(step, arrow) if index < 2 else rx.fragment(step, rx.text("/", color_scheme="gray")) \
        if index == 3 else step


def pipeline_card() -> rx.Component:
    return section(
        "Pipeline",
        rx.flex(*[status_step(s, i) for i, s in enumerate(STATUSES)], gap="2", align="center", wrap="wrap",
                role="group", aria_label="Status", id="lead-pipeline"),
        forms.field("Assignee", rx.el.select(
            rx.el.option("Nobody", value=""),
            rx.foreach(S.members, lambda m: rx.el.option(m.label, value=m.value)),
            value=S.assignee, on_change=S.assign, disabled=~S.editable, id="lead-assignee",
            style=NATIVE_SELECT_STYLE), id="lead-assignee"),
        id="lead-pipeline-card", icon="kanban",
    )


def note_row(note: HistoryRow) -> rx.Component:
    return rx.box(
        rx.text(note.text, size="2", white_space="pre-wrap"),
        rx.text(note.who, " · ", note.when, " UTC", size="1", color_scheme="gray"),
        padding="8px 12px", border_left="3px solid var(--accent-6)", width="100%", class_name="lead-note",
    )


def notes_card() -> rx.Component:
    return section(
        "Notes",
        rx.cond(S.editable, rx.form(
            rx.vstack(
                rx.text_area(name="text", id="lead-note", placeholder="What happened, what's next…", rows="3",
                             width="100%", aria_label="New note"),
                rx.cond(S.note_error != "", rx.text(S.note_error, size="1", color_scheme="red", role="alert",
                                                    id="lead-note-error")),
                rx.button(rx.icon("plus", size=14), "Add note", type="submit", size="2", id="lead-note-add"),
                spacing="2", align="end", width="100%",
            ),
            on_submit=S.add_note, reset_on_submit=False, width="100%",
        )),
        rx.cond(S.notes.length() > 0, rx.vstack(rx.foreach(S.notes, note_row), spacing="2", width="100%"),
                rx.text("No notes yet.", size="2", color_scheme="gray")),
        id="lead-notes", icon="notebook-pen",
    )


def history_row(row: HistoryRow) -> rx.Component:
    return rx.hstack(
        rx.box(width="8px", height="8px", border_radius="50%", background_color="var(--accent-9)", margin_top="6px",
               flex_shrink="0"),
        rx.vstack(rx.text(row.what, size="2"),
                  rx.text(rx.cond(row.who != "", row.who + " · ", ""), row.when, " UTC", size="1",
                          color_scheme="gray"),
                  spacing="0"),
        align="start", spacing="2", width="100%", class_name="lead-history-row",
    )


def history_card() -> rx.Component:
    return section("History", rx.vstack(rx.foreach(S.history, history_row), spacing="2", width="100%"),
                   id="lead-history", icon="history")


# ---------------------------------------------------------------- calls

def bubble(turn: TurnView) -> rx.Component:
    caller = turn.speaker == "caller"
    return rx.flex(
        rx.box(
            rx.text(turn.text, size="2"),
            rx.hstack(
                rx.text(rx.cond(caller, "Caller", rx.cond(turn.speaker == "agent", "Agent", turn.speaker)),
                        size="1", weight="medium"),
                rx.cond(turn.at != "", rx.text(turn.at, size="1", font_family=MONO)),
                rx.cond(turn.interrupted, rx.badge(rx.icon("scissors", size=10), "interrupted", size="1",
                                                   color_scheme="amber", variant="soft", class_name="turn-interrupted",
                                                   title="The caller spoke over the agent, who stopped here")),
                spacing="2", align="center", color="var(--gray-11)", margin_top="4px",
            ),
            padding="8px 12px", max_width="80%", border_radius="var(--radius-4)",
            background_color=rx.cond(caller, "var(--accent-a4)", "var(--gray-a3)"),
            border=rx.cond(turn.interrupted, "1px dashed var(--amber-8)", "1px solid transparent"),
            class_name=rx.cond(caller, "turn turn-caller", "turn turn-agent"),
        ),
        justify=rx.cond(caller, "end", "start"), width="100%",
    )


def consent_box(call: CallView) -> rx.Component:
    return rx.cond(call.has_consent, rx.box(
        rx.hstack(rx.icon("shield-check", size=14, color="var(--green-10)"),
                  rx.text(rx.cond(call.consent_granted, "Consent given", "Consent refused"), size="2",
                          weight="medium"),
                  rx.text("policy version ", call.consent_policy, size="1", color_scheme="gray"),
                  rx.spacer(), rx.text(call.consent_at, " UTC", size="1", color_scheme="gray"),
                  align="center", width="100%", wrap="wrap"),
        rx.blockquote(call.consent_wording, size="2", margin_y="6px", class_name="consent-wording"),
        rx.text("Ticket ", rx.code(call.consent_ticket, class_name="consent-ticket"), size="1", color_scheme="gray"),
        rx.cond(call.consent_erased_at != "", rx.text("The person's data was erased on ", call.consent_erased_at,
                                                      " UTC; this ticket stays as the record of consent.", size="1",
                                                      color_scheme="gray")),
        padding="10px 12px", border_radius="var(--radius-3)", border="1px solid var(--gray-a5)", width="100%",
        class_name="consent",
    ), rx.text("No consent ticket for this call.", size="1", color_scheme="gray"))


def call_card(call: CallView) -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(rx.icon("phone", size=14), rx.text(call.started, " UTC", size="2", weight="medium"),
                  rx.cond(call.duration != "", rx.text(call.duration, size="2", color_scheme="gray")),
                  rx.badge(call.came_by, variant="soft", color_scheme="gray", class_name="came-by"),
                  rx.spacer(), rx.text(call.status, size="1", color_scheme="gray"),
                  rx.link("Open call", href="/calls/" + call.id.to_string(), size="1", class_name="lead-call-open"),
                  align="center", width="100%", wrap="wrap"),
        consent_box(call),
        rx.cond(call.turns.length() > 0,
                rx.vstack(rx.foreach(call.turns, bubble), spacing="2", width="100%", class_name="transcript"),
                rx.text("No transcript.", size="2", color_scheme="gray")),
        spacing="3", width="100%",
    ), width="100%", class_name="lead-call")


def calls_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Calls", size="4"),
        rx.cond(S.calls.length() > 0, rx.foreach(S.calls, call_card),
                rx.text("No calls are linked to this lead.", size="2", color_scheme="gray")),
        spacing="3", width="100%", id="lead-calls",
    )


# ---------------------------------------------------------------- page

def missing() -> rx.Component:
    return rx.callout(rx.text(S.missing, " ", rx.link("Back to leads", href="/leads"), "."), icon="circle-alert",
                      color_scheme="red", width="100%", id="lead-missing")


def notices() -> rx.Component:
    return rx.fragment(
        rx.cond(S.erased, rx.callout(
            "This person's data was erased on " + S.erased_at + " UTC. The lead stays, read-only, so counts add up; "
            "the consent tickets stay as the legal record.", icon="eraser", color_scheme="gray", width="100%",
            id="lead-erased")),
        rx.cond(~S.can_manage, rx.callout("You can see this lead. Owners, admins and managers can change it.",
                                          icon="eye", color_scheme="gray", width="100%")),
    )


def lead_detail_page() -> rx.Component:
    body = rx.vstack(
        header(), notices(),
        rx.grid(
            rx.vstack(contact_card(), score_card(), spacing="4", width="100%"),
            rx.vstack(pipeline_card(), notes_card(), spacing="4", width="100%"),
            columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
        ),
        calls_section(),
        history_card(),
        spacing="5", width="100%",
    )
    content = rx.vstack(
        rx.cond(S.missing != "", missing(), rx.cond(S.loaded, body, rx.vstack(
            rx.skeleton(height="64px", width="100%"), rx.skeleton(height="320px", width="100%"),
            spacing="4", width="100%"))),
        forms.confirm_dialog(title=S.confirm_title, text=S.confirm_text, action_label="Erase",
                             on_confirm=S.confirm, open_=S.confirm_open, on_open_change=S.set_confirm_open,
                             action_id="lead-erase-confirm", max_width="480px"),
        spacing="5", width="100%",
    )
    return app_layout(content, "/leads")
