"""/verify?token=…"""

import reflex as rx

from quantum_voice.components.forms import submit_button, text_input
from quantum_voice.components.layout import auth_layout
from quantum_voice.states.auth import VerifyState


def verified() -> rx.Component:
    return rx.vstack(
        rx.center(rx.icon("circle-check", size=28, color="var(--green-11)"), width="56px", height="56px",
                  border_radius="50%", background_color="var(--green-a3)"),
        rx.heading("Email verified", size="6"),
        rx.text(VerifyState.verified_email, " is confirmed. Sign in to set up your organisation.", size="2",
                align="center"),
        rx.button("Continue to sign in", on_click=rx.redirect("/login?verified=1"), size="3", width="100%"),
        id="verify-success", align="center", spacing="3", width="100%",
    )


def resend_form() -> rx.Component:
    return rx.cond(
        VerifyState.resent,
        rx.callout("If that account still needs verifying, a new link is on its way.", icon="mail",
                   color_scheme="green", width="100%"),
        rx.form(
            rx.vstack(
                text_input("Email", id="verify-resend-email", name="email", type="email", required=True,
                           auto_complete="email"),
                submit_button("Send a new link", id="verify-resend", variant="soft"),
                spacing="3", width="100%",
            ),
            on_submit=VerifyState.resend, width="100%",
        ),
    )


def failed() -> rx.Component:
    return rx.vstack(
        rx.heading("This link didn't work", size="6"),
        rx.callout(VerifyState.error, icon="triangle-alert", color_scheme="red", id="verify-error", width="100%"),
        rx.text("Enter your email and we'll send a fresh verification link.", size="2", color_scheme="gray"),
        resend_form(),
        rx.link("Back to sign in", href="/login", size="2"),
        spacing="4", width="100%",
    )


def verify_page() -> rx.Component:
    return auth_layout(
        rx.match(
            VerifyState.status,
            ("verified", verified()),
            ("failed", failed()),
            rx.center(rx.spinner(size="3"), rx.text("Checking your link…", size="2"), gap="3", padding="24px"),
        ),
    )
