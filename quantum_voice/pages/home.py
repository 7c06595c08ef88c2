"""/ has no content of its own: its on_load sends people to the dashboard or to sign-in."""

import reflex as rx


def home_page() -> rx.Component:
    return rx.center(rx.spinner(size="3"), min_height="100vh")
