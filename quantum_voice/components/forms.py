"""Form controls with labels and inline errors, so every form reads and behaves the same."""

from __future__ import annotations

from typing import Any

import reflex as rx

# A native <select> (tests and keyboards can drive it directly) dressed like a Radix text field.
NATIVE_SELECT_STYLE = {
    "width": "100%",
    "height": "var(--space-6)",
    "padding": "0 var(--space-2)",
    "border_radius": "var(--radius-2)",
    "border": "1px solid var(--gray-a7)",
    "background_color": "var(--color-surface)",
    "color": "var(--gray-12)",
    "font_size": "var(--font-size-2)",
    "font_family": "inherit",
    "&:focus-visible": {"outline": "2px solid var(--focus-8)", "outline_offset": "-1px"},
}


def field_label(text: str, html_for: str) -> rx.Component:
    return rx.el.label(rx.text(text, size="2", weight="medium"), html_for=html_for)


def field_error(state: Any, name: str) -> rx.Component:
    return rx.cond(
        state.error_field == name,
        rx.text(state.error, size="1", color_scheme="red", role="alert", id=f"{name}-error"),
    )


def field(label: str, control: rx.Component, *, id: str, state: Any = None, name: str = "",
          hint: str | rx.Var = "") -> rx.Component:
    parts = [field_label(label, id), control]
    if hint is not None and (isinstance(hint, rx.Var) or hint):
        parts.append(rx.text(hint, size="1", color_scheme="gray"))
    if state is not None and name:
        parts.append(field_error(state, name))
    return rx.vstack(*parts, spacing="1", width="100%")


def text_input(label: str, *, id: str, name: str, state: Any = None, type: str = "text",
               hint: str = "", **props: Any) -> rx.Component:
    control = rx.input(id=id, name=name, type=type, size="3", width="100%", **props)
    return field(label, control, id=id, state=state, name=name, hint=hint)


def native_select(options: list[tuple[str, str]], *, id: str, name: str, placeholder: str = "",
                  **props: Any) -> rx.Component:
    choices = [rx.el.option(placeholder, value="", disabled=True)] if placeholder else []
    choices += [rx.el.option(label, value=value) for value, label in options]
    return rx.el.select(*choices, id=id, name=name, style=NATIVE_SELECT_STYLE, **props)


def form_alert(state: Any, id: str = "") -> rx.Component:
    """The error that belongs to no single field (wrong password, expired link, too many attempts)."""
    props = {"id": id} if id else {}
    return rx.cond(
        (state.error != "") & (state.error_field == ""),
        rx.callout(state.error, icon="triangle-alert", color_scheme="red", role="alert", width="100%", **props),
    )


def submit_button(text: str, *, id: str, loading: Any = False, **props: Any) -> rx.Component:
    props.setdefault("width", "100%")
    return rx.button(text, id=id, type="submit", size="3", loading=loading, **props)


def confirm_dialog(*, title, text, action_label: str, on_confirm, open_, on_open_change,
                   action_id: str = "confirm-action", max_width: str = "420px") -> rx.Component:
    """The one confirm dialog for destructive actions: a title, what will happen, Cancel and a red action."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(text, size="2"),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button(action_label, color_scheme="red", on_click=on_confirm,
                                                 id=action_id)),
                spacing="3", justify="end", margin_top="16px",
            ),
            max_width=max_width,
        ),
        open=open_,
        on_open_change=on_open_change,
    )
