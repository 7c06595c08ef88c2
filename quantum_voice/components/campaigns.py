"""Pieces the campaign pages share."""

from __future__ import annotations

import reflex as rx

STATUS_COLOURS = (("live", "green"), ("draft", "gray"), ("paused", "amber"), ("archived", "gray"))


def status_badge(status: rx.Var[str], **props) -> rx.Component:
    return rx.badge(rx.cond(status == "live", rx.icon("radio", size=12), rx.fragment()), status,
                    color_scheme=rx.match(status, *STATUS_COLOURS, "gray"), variant="soft",
                    data_status=status, **props)
