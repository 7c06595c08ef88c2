"""Reflex configuration. Application settings live in quantum_voice/core/config.py."""

import reflex as rx

from quantum_voice.core.origins import trusted_origins

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
    # Never "*": with credentials that echoes any origin. The app's own origin (APP_URL) and CORS_ALLOWED_ORIGINS;
    # the UI's websocket also accepts the host a request came to (quantum_voice.py), so another host name works.
    cors_allowed_origins=trusted_origins(),
)
