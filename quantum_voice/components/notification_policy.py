"""The campaign page's "Lead notifications" card: a band × channel grid of switches (docs/notifications.md)."""

from __future__ import annotations

import reflex as rx

from quantum_voice.states.campaign_notifications import CHANNEL_LABELS, BandChannels
from quantum_voice.states.campaign_notifications import CampaignNotificationsState as N


def _switch(row: BandChannels, channel: str) -> rx.Component:
    return rx.table.cell(rx.checkbox(
        checked=getattr(row, channel), disabled=~N.can_change,
        on_change=lambda on: N.toggle(row.band, channel, on),
        aria_label=row.label + ": " + CHANNEL_LABELS[channel],
        id="notify-" + row.band + "-" + channel))


def notifications_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.vstack(rx.heading("Lead notifications", size="4"),
                      rx.text("Who hears about this campaign's leads when a call ends, by score. Test calls "
                              "notify no one.", size="2", color_scheme="gray"),
                      spacing="1"),
            rx.table.root(
                rx.table.header(rx.table.row(rx.table.column_header_cell("Band"),
                                             *[rx.table.column_header_cell(label)
                                               for label in CHANNEL_LABELS.values()])),
                rx.table.body(rx.foreach(N.bands, lambda row: rx.table.row(
                    rx.table.row_header_cell(row.label), *[_switch(row, c) for c in CHANNEL_LABELS]))),
                width="100%", variant="surface"),
            rx.cond(N.not_connected != "", rx.callout(
                rx.text(N.not_connected, " ", rx.link("Open Integrations", href="/integrations"), "."),
                icon="plug", color_scheme="amber", width="100%", id="notify-not-connected")),
            rx.cond(N.customised & N.can_change,
                    rx.button("Use the defaults", variant="soft", color_scheme="gray", on_click=N.use_defaults,
                              id="notify-defaults")),
            spacing="4", width="100%"),
        size="3", width="100%", id="notifications-card", on_mount=N.load_notifications,
    )
