"""The error a form shows: one message, placed beside the field the service named (DomainError.field)."""

from __future__ import annotations

import reflex as rx

from quantum_voice.core.errors import DomainError


class FormErrors(rx.State, mixin=True):
    error: str = ""
    error_field: str = ""  # "" → shown above the form rather than beside a field
    submitting: bool = False

    def _clear_error(self) -> None:
        self.error = self.error_field = ""

    def _show_error(self, exc: DomainError, fields: tuple[str, ...] = ()) -> None:
        self.error = exc.message
        self.error_field = exc.field if exc.field in fields else ""


class ConfirmStep(rx.State, mixin=True):
    """The confirm dialog before a destructive action: what it asks, and which action and row it is about.
    The page's own ``confirm`` event carries the action out."""

    confirm_open: bool = False
    confirm_title: str = ""
    confirm_text: str = ""
    _confirm_action: str = ""
    _confirm_id: int = 0

    def _ask(self, action: str, target_id: int, title: str, text: str) -> None:
        self._confirm_action, self._confirm_id = action, target_id
        self.confirm_title, self.confirm_text, self.confirm_open = title, text, True

    @rx.event
    def set_confirm_open(self, open_: bool):
        self.confirm_open = open_
