"""Reflex configuration. Application settings live in quantum_voice/core/config.py."""

import reflex as rx

config = rx.Config(
    app_name="quantum_voice",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="violet", gray_color="slate", radius="medium", scaling="100%"),
        ),
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
