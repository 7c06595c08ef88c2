"""/onboarding: the first-run wizard, one form in three numbered sections."""

import reflex as rx

from quantum_voice.components.forms import field, form_alert, native_select, submit_button, text_input
from quantum_voice.components.layout import app_layout, page_header
from quantum_voice.services.onboarding import INDUSTRIES
from quantum_voice.states.onboarding import OnboardingState as S


def step(number: int, title: str, text: str, *body: rx.Component) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.center(rx.text(str(number), size="2", weight="bold"), width="28px", height="28px", min_width="28px",
                      border_radius="50%", background_color="var(--accent-a4)", color="var(--accent-11)"),
            rx.vstack(rx.text(title, size="3", weight="bold"), rx.text(text, size="2", color_scheme="gray"),
                      *body, spacing="3", width="100%"),
            align="start", spacing="3", width="100%",
        ),
        size="2", width="100%",
    )


def wizard() -> rx.Component:
    return rx.form(
        rx.vstack(
            step(1, "Your organisation", "The name callers and teammates see.",
                 text_input("Organisation name", id="onboarding-organization", name="organization_name", state=S,
                            default_value=S.org_name, required=True)),
            step(2, "Your industry", "We tailor greetings and examples to it.",
                 field("Industry", native_select(list(INDUSTRIES.items()), id="onboarding-industry", name="industry",
                                                 placeholder="Choose your industry…", default_value="",
                                                 required=True),
                       id="onboarding-industry", state=S, name="industry")),
            step(3, "Your first campaign", "A campaign is one call line: a QR code on a yard sign, a flyer, a "
                 "website button. You can change everything later.",
                 text_input("Campaign name", id="onboarding-campaign", name="first_campaign_name", state=S,
                            placeholder="Spring Open House", required=True)),
            form_alert(S),
            rx.flex(submit_button("Finish set-up", id="onboarding-submit", loading=S.submitting, width="auto"),
                    justify="end", width="100%"),
            spacing="4", width="100%",
        ),
        on_submit=S.finish, width="100%",
    )


def owner_finishing() -> rx.Component:
    return rx.callout(
        rx.text("Your organisation's owner is finishing set-up. You can look around in the meantime: ",
                rx.link("go to the dashboard", href="/dashboard"), "."),
        icon="info", width="100%", id="onboarding-waiting",
    )


def onboarding_page() -> rx.Component:
    content = rx.vstack(
        page_header("Welcome to Quantum Voice", "Three quick answers and your organisation is ready for calls."),
        rx.cond(S.can_manage_org,
                rx.cond(S.loaded, wizard(), rx.vstack(*[rx.skeleton(height="120px", width="100%")] * 3,
                                                      spacing="4")),
                owner_finishing()),
        spacing="5", max_width="720px", width="100%",
    )
    return app_layout(content, "/onboarding")
