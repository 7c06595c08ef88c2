"""Pieces every list page shares."""

from __future__ import annotations

from typing import Any

import reflex as rx


def pager(state: Any) -> rx.Component:
    """Page N of M with previous/next, shown only when there is more than one page (``state``: a ListControls)."""
    return rx.cond(state.page_count > 1, rx.hstack(
        rx.text("Page ", state.page + 1, " of ", state.page_count, size="1", color_scheme="gray"),
        rx.icon_button(rx.icon("chevron-left", size=14), size="1", variant="soft", on_click=state.previous_page,
                       disabled=state.page == 0, aria_label="Previous page"),
        rx.icon_button(rx.icon("chevron-right", size=14), size="1", variant="soft", on_click=state.next_page,
                       disabled=state.page >= state.page_count - 1, aria_label="Next page"),
        justify="end", align="center", width="100%",
    ))


def icon_bubble(icon: str, size: int = 24) -> rx.Component:
    """The accent-tinted round icon that heads an empty state or a confirmation."""
    box = f"{size * 2}px"
    return rx.center(rx.icon(icon, size=size, color="var(--accent-11)"), width=box, height=box, border_radius="50%",
                     background_color="var(--accent-a3)")
