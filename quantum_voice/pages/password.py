"""/forgot-password and /reset-password?token=…"""

import reflex as rx

from quantum_voice.components.forms import form_alert, submit_button, text_input
from quantum_voice.components.layout import auth_layout
from quantum_voice.services.accounts import MIN_PASSWORD_LENGTH
from quantum_voice.states.auth import ForgotPasswordState, ResetPasswordState


def title(heading: str, text: str) -> rx.Component:
    return rx.vstack(rx.heading(heading, size="6"), rx.text(text, size="2", color_scheme="gray"), spacing="1")


def forgot_password_page() -> rx.Component:
    return auth_layout(
        title("Reset your password", "Enter your account's email and we'll send you a link to choose a new one."),
        rx.cond(
            ForgotPasswordState.sent,
            rx.callout("If an account exists for that email, a reset link is on its way. It works for one hour.",
                       icon="mail", color_scheme="green", id="forgot-sent", width="100%"),
            rx.form(
                rx.vstack(
                    text_input("Email", id="forgot-email", name="email", type="email", required=True,
                               auto_complete="email"),
                    submit_button("Send reset link", id="forgot-submit"),
                    spacing="4", width="100%",
                ),
                on_submit=ForgotPasswordState.request_reset, width="100%",
            ),
        ),
        rx.link("Back to sign in", href="/login", size="2"),
    )


def reset_password_page() -> rx.Component:
    return auth_layout(
        title("Choose a new password", "You'll sign in with it from now on; other sessions are signed out."),
        form_alert(ResetPasswordState, id="reset-error"),
        rx.cond(ResetPasswordState.error_field == "",
                rx.cond(ResetPasswordState.error != "",
                        rx.link("Request a new reset link", href="/forgot-password", size="2"))),
        rx.form(
            rx.vstack(
                text_input("New password", id="reset-password", name="password", type="password", required=True,
                           state=ResetPasswordState, auto_complete="new-password",
                           hint=f"At least {MIN_PASSWORD_LENGTH} characters."),
                text_input("Repeat new password", id="reset-confirm", name="confirm", type="password",
                           required=True, state=ResetPasswordState, auto_complete="new-password"),
                submit_button("Change password", id="reset-submit", loading=ResetPasswordState.submitting),
                spacing="4", width="100%",
            ),
            on_submit=ResetPasswordState.change_password, width="100%",
        ),
    )
