"""/call/[slug]: the public call page, mobile-first — the campaign's logo and colour, the email gate with the
privacy wording, then the call itself (drawn by assets/call.js inside ``#qv-call-root``)."""

from __future__ import annotations

import reflex as rx

from quantum_voice.components.forms import field_error, form_alert, text_input
from quantum_voice.states.call import CallPageState as S


def header() -> rx.Component:
    return rx.vstack(
        rx.cond(S.logo_url != "", rx.image(src=S.logo_url, alt=S.organization, height="48px", width="auto")),
        rx.text(S.organization, size="2", color_scheme="gray", weight="medium"),
        rx.heading(S.name, size="7", align="center", id="call-campaign-name"),
        rx.cond(S.is_test, rx.badge("Test call — not counted in analytics", color_scheme="amber", size="2",
                                    id="call-test-badge")),
        align="center", spacing="2", width="100%",
    )


def gate() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text(S.greeting, size="4", align="center", id="call-greeting"),
            text_input("Your email", id="call-email", name="email", type="email", state=S, required=True,
                       auto_complete="email", placeholder="name@example.com",
                       hint="We'll use it to follow up on your call."),
            rx.el.label(
                rx.hstack(
                    rx.el.input(type="checkbox", name="consent", id="call-consent", required=True,
                                style={"width": "22px", "height": "22px", "margin_top": "2px", "flex_shrink": "0"}),
                    rx.text(S.privacy_wording, size="2", id="call-privacy-wording"),
                    align="start", spacing="3",
                ),
                html_for="call-consent", width="100%",
            ),
            rx.text("Privacy policy version ", S.policy_version, size="1", color_scheme="gray"),
            field_error(S, "consent"),
            form_alert(S, id="call-error"),
            rx.button(rx.icon("phone", size=22), "Call now", type="submit", size="4", width="100%",
                      id="call-start", style={"background_color": S.brand_color, "min_height": "56px",
                                              "font_size": "20px", "border_radius": "999px"}),
            spacing="4", width="100%",
        ),
        on_submit=S.start_call, width="100%",
    )


def call_panel() -> rx.Component:
    return rx.vstack(
        rx.box(id="qv-call-root", width="100%"),  # assets/call.js draws the call here (React leaves it empty)
        rx.text("Consent ticket ", rx.code(S.consent_id, id="call-consent-id"), size="1", color_scheme="gray"),
        rx.button("Start a new call", on_click=S.call_again, variant="soft", id="call-again", size="3",
                  width="100%", display="none", class_name="qv-call-again"),
        spacing="3", width="100%",
    )


def notice(icon: str, title: str, text: rx.Var | str, id: str) -> rx.Component:
    return rx.vstack(
        rx.icon(icon, size=36, color="var(--gray-10)"),
        rx.heading(title, size="5", align="center"),
        rx.text(text, size="3", align="center", color_scheme="gray"),
        align="center", spacing="3", id=id, padding_y="24px",
    )


def call_page() -> rx.Component:
    return rx.center(
        rx.script(src="/call.js"),
        rx.vstack(
            rx.match(
                S.stage,
                ("missing", notice("link-2-off", "This call link doesn't work", S.message, "call-missing")),
                ("unavailable", rx.vstack(header(), notice("phone-off", "We're not taking calls right now",
                                                           S.message, "call-unavailable"), width="100%")),
                ("gate", rx.vstack(header(), gate(), spacing="5", width="100%")),
                ("call", rx.vstack(header(), call_panel(), spacing="5", width="100%")),
                rx.center(rx.spinner(size="3"), padding="48px"),
            ),
            rx.text("Powered by Quantum Voice", size="1", color_scheme="gray"),
            width="100%", max_width="480px", spacing="5", align="center", as_="main",
            padding="24px 16px",
        ),
        min_height="100vh", align_items="start",
        style={"border_top": rx.cond(S.embedded, "none", f"6px solid {S.brand_color}")},
    )
