"""/integrations: connect Slack, Asana, Resend and choose who gets lead emails; Send test on each."""

import reflex as rx

from quantum_voice.components import forms
from quantum_voice.components.forms import field_label
from quantum_voice.components.layout import app_layout, page_header
from quantum_voice.states.integrations import FieldRow, IntegrationsState as S, ProviderCard


def field_input(card: ProviderCard, row: FieldRow) -> rx.Component:
    input_id = "integration-" + card.provider + "-" + row.name
    return rx.vstack(
        field_label(row.label, input_id),
        rx.input(id=input_id, name=row.name, default_value=row.value, placeholder=row.placeholder,
                 type=rx.cond(row.secret, "password", "text"), auto_complete="off", size="2", width="100%",
                 read_only=~S.can_manage_org),
        rx.text(row.hint, size="1", color_scheme="gray"),
        spacing="1", width="100%",
    )


def status_badge(card: ProviderCard) -> rx.Component:
    return rx.badge(card.status, color_scheme=rx.cond(card.connected, "green", "gray"), variant="soft")


def test_result(card: ProviderCard) -> rx.Component:
    return rx.cond(
        card.result != "",
        rx.callout(card.result, icon=rx.cond(card.result_ok, "circle-check", "triangle-alert"),
                   color_scheme=rx.cond(card.result_ok, "green", "red"), role="status", size="1", width="100%",
                   id="integration-" + card.provider + "-result"),
    )


def actions(card: ProviderCard) -> rx.Component:
    return rx.flex(
        rx.button("Save", type="submit", size="2", id="integration-" + card.provider + "-save"),
        rx.button(rx.icon("send", size=14), "Send test", type="button", variant="soft", size="2",
                  loading=S.testing == card.provider, id="integration-" + card.provider + "-test",
                  on_click=S.send_test(card.provider)),
        rx.spacer(),
        rx.cond(card.can_disconnect,
                rx.button("Disconnect", type="button", variant="ghost", color_scheme="red", size="2",
                          on_click=S.ask_disconnect(card.provider))),
        gap="2", width="100%", wrap="wrap",
    )


def provider_card(card: ProviderCard) -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.hstack(rx.heading(card.label, size="4"), status_badge(card), align="center", spacing="3"),
                rx.text(card.description, size="2", color_scheme="gray"),
                rx.el.input(type="hidden", name="provider", default_value=card.provider),
                rx.foreach(card.fields, lambda row: field_input(card, row)),
                test_result(card),
                rx.cond(S.can_manage_org, actions(card)),
                spacing="3", width="100%",
            ),
            on_submit=S.save, reset_on_submit=False, width="100%",
            key=card.provider + "-" + S.form_key.to_string(),
        ),
        width="100%", id="integration-" + card.provider,
    )


def integrations_page() -> rx.Component:
    content = rx.vstack(
        page_header("Integrations", "Where lead notifications go: Slack, Asana tasks and email. Hot leads go to "
                                    "all three, warm ones to Asana and email, cold ones into a daily digest."),
        rx.cond(~S.can_manage_org,
                rx.callout("You can see what is connected. Owners and admins can connect services.",
                           icon="eye", color_scheme="gray", width="100%")),
        rx.cond(S.loaded,
                rx.grid(rx.foreach(S.cards, provider_card), columns=rx.breakpoints(initial="1", md="2"),
                        gap="4", width="100%"),
                rx.skeleton(height="320px", width="100%")),
        rx.text("Secrets are encrypted when saved and never shown again; leave a secret blank to keep it.",
                size="1", color_scheme="gray"),
        forms.confirm_dialog(title=S.confirm_title, text=S.confirm_text, action_label="Disconnect",
                             on_confirm=S.confirm, open_=S.confirm_open, on_open_change=S.set_confirm_open),
        spacing="5", width="100%",
    )
    return app_layout(content, "/integrations")
