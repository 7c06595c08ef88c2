"""How dates read on screen. Stored times are UTC; the UI says so rather than guess the viewer's zone."""

from __future__ import annotations

from datetime import datetime


def day(value: datetime | None) -> str:
    return value.strftime("%d %b %Y") if value else ""


def moment(value: datetime | None) -> str:
    return value.strftime("%d %b %Y, %H:%M") if value else ""  # column headers say "(UTC)"
