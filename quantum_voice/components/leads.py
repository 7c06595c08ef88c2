"""Pieces the lead pages share: the band and status badges."""

from __future__ import annotations

import reflex as rx

BAND_COLOURS = (("hot", "red"), ("warm", "amber"), ("cold", "blue"))
STATUS_COLOURS = (("new", "violet"), ("contacted", "blue"), ("qualified", "cyan"), ("won", "green"),
                  ("lost", "gray"))
STATUS_LABELS = (("new", "New"), ("contacted", "Contacted"), ("qualified", "Qualified"), ("won", "Won"),
                 ("lost", "Lost"))


def band_badge(band: rx.Var[str], **props) -> rx.Component:
    return rx.badge(rx.match(band, ("hot", rx.icon("flame", size=12)), ("warm", rx.icon("thermometer", size=12)),
                             rx.icon("snowflake", size=12)),
                    band, color_scheme=rx.match(band, *BAND_COLOURS, "gray"), variant="soft", data_band=band,
                    **props)


def score_with_band(score: rx.Var[int], band: rx.Var[str]) -> rx.Component:
    return rx.hstack(rx.text(score, size="2", weight="bold", min_width="2ch", text_align="right"), band_badge(band),
                     spacing="2", align="center")


def lead_status_badge(status: rx.Var[str], **props) -> rx.Component:
    return rx.badge(rx.match(status, *STATUS_LABELS, status), color_scheme=rx.match(status, *STATUS_COLOURS, "gray"),
                    variant="surface", data_status=status, **props)
