"""/accept-invite?token=…"""

import reflex as rx

from quantum_voice.components.forms import form_alert, submit_button, text_input
from quantum_voice.components.layout import auth_layout
from quantum_voice.services.accounts import MIN_PASSWORD_LENGTH
from quantum_voice.states.invitation import AcceptInviteState as S


def new_account_fields() -> rx.Component:
    return rx.fragment(
        text_input("Your name (optional)", id="invite-name", name="full_name", state=S, auto_complete="name"),
        text_input("Choose a password", id="invite-password", name="password", type="password", required=True,
                   state=S, auto_complete="new-password", hint=f"At least {MIN_PASSWORD_LENGTH} characters."),
        text_input("Repeat password", id="invite-confirm", name="confirm", type="password", required=True,
                   state=S, auto_complete="new-password"),
    )


def existing_account_fields() -> rx.Component:
    return text_input("Your Quantum Voice password", id="invite-password", name="password", type="password",
                      required=True, state=S, auto_complete="current-password",
                      hint="You already have an account with this email: confirm it's you.")


def invitation_form() -> rx.Component:
    return rx.vstack(
        rx.vstack(
            rx.heading("Join ", S.invite_org, size="6"),
            rx.text("You're invited as ", rx.badge(S.invite_role, variant="soft"), " with ",
                    rx.text.strong(S.invite_email), ".", size="2"),
            spacing="2",
        ),
        form_alert(S, id="accept-error"),
        rx.form(
            rx.vstack(
                rx.cond(S.account_exists, existing_account_fields(), new_account_fields()),
                submit_button("Accept and sign in", id="accept-submit", loading=S.submitting),
                spacing="4", width="100%",
            ),
            on_submit=S.accept, width="100%",
        ),
        spacing="4", width="100%",
    )


def accept_invite_page() -> rx.Component:
    return auth_layout(
        rx.match(
            S.status,
            ("ready", invitation_form()),
            ("invalid", rx.vstack(
                rx.heading("Invitation unavailable", size="6"),
                rx.callout(S.error, icon="triangle-alert", color_scheme="red", id="accept-invalid", width="100%"),
                rx.link("Go to sign in", href="/login", size="2"),
                spacing="4", width="100%",
            )),
            rx.center(rx.spinner(size="3"), padding="24px"),
        ),
    )
