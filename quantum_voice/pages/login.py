"""/login"""

import reflex as rx

from quantum_voice.components.forms import submit_button, text_input
from quantum_voice.components.layout import auth_layout
from quantum_voice.states.auth import LoginState


def resend_panel() -> rx.Component:
    return rx.cond(
        LoginState.unverified_email != "",
        rx.button(rx.icon("mail", size=16), "Resend verification email", on_click=LoginState.resend_verification,
                  id="login-resend", variant="soft", type="button", width="100%"),
    )


def login_error() -> rx.Component:
    return rx.cond(
        LoginState.error != "",
        rx.callout(LoginState.error, icon="triangle-alert", color_scheme="red", role="alert", id="login-error",
                   width="100%"),
    )


def login_page() -> rx.Component:
    return auth_layout(
        rx.vstack(rx.heading("Sign in", size="6"),
                  rx.text("Welcome back. Sign in to your organisation.", size="2", color_scheme="gray"), spacing="1"),
        rx.cond(LoginState.notice != "",
                rx.callout(LoginState.notice, icon="circle-check", color_scheme="green", id="login-notice",
                           width="100%")),
        login_error(),
        resend_panel(),
        rx.form(
            rx.vstack(
                text_input("Email", id="login-email", name="email", type="email", auto_complete="email",
                           required=True, placeholder="you@company.com"),
                text_input("Password", id="login-password", name="password", type="password",
                           auto_complete="current-password", required=True),
                rx.flex(rx.link("Forgot password?", href="/forgot-password", size="2"), justify="end", width="100%"),
                submit_button("Sign in", id="login-submit", loading=LoginState.submitting),
                spacing="4", width="100%",
            ),
            on_submit=LoginState.sign_in,
            width="100%",
        ),
        rx.text("New to Quantum Voice? ", rx.link("Create an account", href="/signup"), size="2", align="center",
                width="100%"),
    )
