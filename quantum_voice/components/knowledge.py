"""Pieces both knowledge pages use: the knowledge-base picker, status badges with progress, the confirm dialog."""

from __future__ import annotations

import reflex as rx

from quantum_voice.components import forms
from quantum_voice.components.forms import NATIVE_SELECT_STYLE
from quantum_voice.states.knowledge.root import BaseRow, KnowledgeState as S

STATUS_COLOURS = (("queued", "gray"), ("uploading", "gray"), ("parsing", "blue"), ("chunking", "blue"),
                  ("embedding", "blue"), ("ready", "green"), ("failed", "red"))
STATUS_LABELS = (("queued", "Queued"), ("uploading", "Uploading"), ("parsing", "Reading"),
                 ("chunking", "Splitting"), ("embedding", "Indexing"), ("ready", "Ready"), ("failed", "Failed"))
IN_PROGRESS = ("queued", "uploading", "parsing", "chunking", "embedding")


def status_badge(status: rx.Var, progress: rx.Var, **props) -> rx.Component:
    """The badge, with a progress bar under it while the document is on its way to ready."""
    badge = rx.badge(rx.match(status, *STATUS_LABELS, status), variant="soft",
                     color_scheme=rx.match(status, *STATUS_COLOURS, "gray"))
    working = rx.match(status, *((s, True) for s in IN_PROGRESS), False)
    return rx.vstack(
        badge,
        rx.cond(working, rx.progress(value=progress, max=100, size="1", width="96px",
                                     aria_label="Processing progress")),
        **{"spacing": "1", "align": "start", **props},
    )


def base_option(base: BaseRow) -> rx.Component:
    return rx.el.option(base.name, value=base.id.to_string())


def base_picker() -> rx.Component:
    return rx.hstack(
        rx.el.label(rx.text("Knowledge base", size="2", weight="medium", white_space="nowrap"), html_for="kb-select"),
        rx.el.select(rx.foreach(S.bases, base_option), id="kb-select", value=S.kb_value,
                     on_change=S.select_base, style={**NATIVE_SELECT_STYLE, "max_width": "320px"}),
        align="center", spacing="3", width="100%",
    )


def confirm_dialog() -> rx.Component:
    return forms.confirm_dialog(title=S.confirm_title, text=S.confirm_text, action_label="Delete", on_confirm=S.confirm,
                                open_=S.confirm_open, on_open_change=S.set_confirm_open)


def section(title: str, description: str, *children: rx.Component, id: str = "",
            action: rx.Component | None = None) -> rx.Component:
    props = {"id": id} if id else {}
    return rx.card(
        rx.vstack(
            rx.flex(rx.vstack(rx.heading(title, size="4"), rx.text(description, size="2", color_scheme="gray"),
                              spacing="1"),
                    rx.spacer(), action or rx.fragment(), gap="3", width="100%", wrap="wrap", align="start"),
            *children,
            spacing="4", width="100%",
        ),
        size="2", width="100%", **props,
    )
