"""/signup"""

import reflex as rx

from quantum_voice.components.forms import form_alert, submit_button, text_input
from quantum_voice.components.layout import auth_layout
from quantum_voice.components.listing import icon_bubble
from quantum_voice.services.accounts import MIN_PASSWORD_LENGTH
from quantum_voice.states.auth import SignupState


def signup_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            text_input("Your name (optional)", id="signup-name", name="full_name", state=SignupState,
                       auto_complete="name"),
            text_input("Work email", id="signup-email", name="email", type="email", state=SignupState,
                       auto_complete="email", required=True, placeholder="you@company.com"),
            text_input("Password", id="signup-password", name="password", type="password", state=SignupState,
                       auto_complete="new-password", required=True,
                       hint=f"At least {MIN_PASSWORD_LENGTH} characters."),
            text_input("Organisation name", id="signup-organization", name="organization", state=SignupState,
                       auto_complete="organization", required=True, placeholder="Harbor View Residences"),
            submit_button("Create account", id="signup-submit", loading=SignupState.submitting),
            spacing="4", width="100%",
        ),
        on_submit=SignupState.sign_up,
        width="100%",
    )


def check_inbox() -> rx.Component:
    return rx.vstack(
        icon_bubble("mail-check", 28),
        rx.heading("Check your inbox", size="6"),
        rx.text("We sent a message to ", rx.text.strong(SignupState.done_email),
                ". Open its link to activate your account, then sign in.", size="2", align="center"),
        rx.link("Back to sign in", href="/login", size="2"),
        id="signup-done", align="center", spacing="3", width="100%", padding_y="8px",
    )


def signup_page() -> rx.Component:
    return auth_layout(
        rx.cond(
            SignupState.done_email != "",
            check_inbox(),
            rx.vstack(
                rx.vstack(rx.heading("Create your account", size="6"),
                          rx.text("Set up your organisation in a minute.", size="2", color_scheme="gray"),
                          spacing="1"),
                form_alert(SignupState, id="signup-error"),
                signup_form(),
                rx.text("Already have an account? ", rx.link("Sign in", href="/login"), size="2", align="center",
                        width="100%"),
                spacing="4", width="100%",
            ),
        ),
    )
