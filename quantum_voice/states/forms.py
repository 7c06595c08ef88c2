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
