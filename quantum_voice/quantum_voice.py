"""The Reflex app: registers the pages and mounts the REST API under /api."""

import reflex as rx

from quantum_voice.api import create_api

app = rx.App(
    api_transformer=create_api(),
    theme=rx.theme(accent_color="violet", gray_color="slate", radius="medium", scaling="100%"),
)
