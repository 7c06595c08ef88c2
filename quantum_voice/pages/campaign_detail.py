"""/campaigns/[campaign_id]: one campaign — test it, take it live or pause it, edit its settings, share its call link
and QR codes, and build its website button."""

from __future__ import annotations

import reflex as rx
from reflex.components.react_router import link as router_link

from quantum_voice.components import forms
from quantum_voice.components.campaigns import status_badge
from quantum_voice.components.forms import field, form_alert, text_input
from quantum_voice.components.layout import app_layout
from quantum_voice.components.notification_policy import notifications_card
from quantum_voice.pages.call_detail import recent_calls_card
from quantum_voice.states.campaign_detail import CampaignDetailState as S, QRRow

MONO = "var(--code-font-family, ui-monospace, monospace)"


def link_button(*children, href, id: str, external: bool = False, **props) -> rx.Component:
    return rx.button(rx.link(*children, href=href, id=id, underline="none", is_external=external), as_child=True,
                     **props)


def card(title: str, description: str, *body: rx.Component, id: str) -> rx.Component:
    return rx.card(
        rx.vstack(rx.vstack(rx.heading(title, size="4"), rx.text(description, size="2", color_scheme="gray"),
                            spacing="1"),
                  *body, spacing="4", width="100%"),
        size="3", width="100%", id=id,
    )


def colour_picker(*, id: str, value, on_change, label: str, name: str = "", swatch=None) -> rx.Component:
    """A colour swatch and the same colour as #RRGGBB text, kept in step through the state. ``swatch``: what the
    swatch shows while the text is not a colour yet (the last good one)."""
    hex_props = {"name": name} if name else {}
    return rx.hstack(
        rx.el.input(type="color", value=value if swatch is None else swatch, on_change=on_change, id=id, name=id, aria_label=label + " (picker)",
                    style={"width": "44px", "height": "var(--space-6)", "padding": "2px", "cursor": "pointer",
                           "border": "1px solid var(--gray-a7)", "border_radius": "var(--radius-2)",
                           "background": "var(--color-surface)"}),
        rx.input(value=value, on_change=on_change, id=id + "-hex", aria_label=label + " (hex)", max_length=7,
                 placeholder="#6E56CF", size="3", width="140px", font_family=MONO, **hex_props),
        spacing="2", align="center",
    )


# ---------------------------------------------------------------- header

def header() -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.hstack(
                rx.link(rx.hstack(rx.icon("chevron-left", size=14), rx.text("Campaigns", size="1"), spacing="1",
                                  align="center"), href="/campaigns", color_scheme="gray", underline="hover"),
                align="center", spacing="2",
            ),
            rx.hstack(
                rx.heading(S.name, size="7", id="campaign-title", trim="both"),
                status_badge(S.status, size="2", id="campaign-status"),
                rx.cond(S.published_version > 0,
                        rx.badge("Flow v", S.published_version, color_scheme="green", variant="outline", size="2"),
                        rx.badge("Flow not published", color_scheme="gray", variant="outline", size="2")),
                align="center", spacing="2", wrap="wrap",
            ),
            rx.cond(S.template != "", rx.text("From the ", S.template, " template · created ", S.created, " (UTC)",
                                              size="1", color_scheme="gray", id="campaign-template")),
            spacing="2", min_width="0",
        ),
        rx.spacer(),
        rx.flex(
            rx.cond(S.can_edit, link_button(rx.icon("phone-outgoing", size=16), "Test call", href=S.test_call_url,
                                            id="campaign-test-call", external=True, variant="soft")),
            rx.cond(S.can_edit, rx.button(
                rx.cond(S.is_live, rx.icon("pause", size=16), rx.icon("play", size=16)),
                rx.cond(S.is_live, "Pause", "Go live"),
                on_click=S.toggle_status, id="campaign-status-toggle",
                color_scheme=rx.cond(S.is_live, "amber", "green"))),
            link_button(rx.icon("workflow", size=16), "Open flow designer", href=S.designer_url,
                        id="campaign-open-designer", variant="soft", color_scheme="gray"),
            rx.cond(S.can_edit, rx.button(rx.icon("trash-2", size=16), "Delete", on_click=S.ask_delete_campaign,
                                          id="campaign-delete", variant="soft", color_scheme="red")),
            gap="2", wrap="wrap", align="center",
        ),
        align="start", gap="3", width="100%", direction=rx.breakpoints(initial="column", md="row"),
    )


def status_problem() -> rx.Component:
    return rx.cond(S.status_problem != "", rx.callout(
        rx.text(S.status_problem, " ", rx.link("Open the flow designer", href=S.designer_url,
                                               id="campaign-status-problem-link"), "."),
        icon="triangle-alert", color_scheme="amber", width="100%", id="campaign-status-problem", role="alert",
    ))


# ---------------------------------------------------------------- settings

def text_area(label: str, name: str, value, *, rows: str = "3", hint: str = "") -> rx.Component:
    control = rx.text_area(id="settings-" + name.replace("_", "-"), name=name, default_value=value, rows=rows,
                           width="100%", size="3")
    return field(label, control, id="settings-" + name.replace("_", "-"), state=S, name=name, hint=hint)


def settings_input(label: str, name: str, value, **props) -> rx.Component:
    return text_input(label, id="settings-" + name.replace("_", "-"), name=name, state=S, default_value=value,
                      **props)


def settings_card() -> rx.Component:
    two = rx.breakpoints(initial="1", sm="2")
    return card(
        "Settings", "What callers see and hear, and the rules every call follows.",
        rx.form(
            rx.el.fieldset(
                rx.vstack(
                    rx.grid(settings_input("Name", "name", S.name, required=True),
                            settings_input("Target audience", "target_audience", S.target_audience,
                                           placeholder="Who this campaign is for"),
                            columns=two, spacing="4", width="100%"),
                    text_area("Description", "description", S.description, rows="2"),
                    text_area("Greeting", "greeting", S.greeting, rows="2",
                              hint="The first thing the agent says, and what the call page and website button "
                                   "show."),
                    rx.grid(
                        field("Brand colour", colour_picker(id="settings-brand-color", value=S.brand_color,
                                                            on_change=S.set_brand_color, label="Brand colour",
                                                            name="brand_color"),
                              id="settings-brand-color", state=S, name="brand_color",
                              hint="The call page's buttons and the website button."),
                        settings_input("Logo URL", "logo_url", S.logo_url, type="url",
                                       placeholder="https://example.com/logo.png"),
                        columns=two, spacing="4", width="100%"),
                    text_area("Privacy wording", "privacy_wording", S.privacy_wording, rows="4",
                              hint="What callers agree to before the call starts. A live campaign needs it."),
                    rx.grid(settings_input("Privacy policy version", "privacy_policy_version",
                                           S.privacy_policy_version, placeholder="2024-05",
                                           hint="Stored with each caller's consent."),
                            settings_input("Max call length (seconds)", "max_call_seconds",
                                           S.max_call_seconds.to_string(), type="number", min="30", max="3600",
                                           step="1", hint="30 to 3600. The call ends politely at this length."),
                            settings_input("Wait for a person (seconds)", "handoff_wait_seconds",
                                           S.handoff_wait_seconds.to_string(), type="number", min="5", max="3600",
                                           step="1", hint="5 to 3600. After this, a caller holding for a person "
                                                          "is offered a callback."),
                            columns=two, spacing="4", width="100%"),
                    form_alert(S, id="settings-error"),
                    rx.cond(S.can_edit, rx.flex(rx.button(rx.icon("save", size=16), "Save", id="settings-save",
                                                          type="submit", size="3"),
                                                justify="end", width="100%")),
                    spacing="4", width="100%",
                ),
                disabled=~S.can_edit, style={"border": "none", "padding": "0", "margin": "0", "min_width": "0"},
            ),
            on_submit=S.save_settings, reset_on_submit=False, width="100%",
            key=S.campaign_id.to_string() + "-" + S.settings_version.to_string(),
        ),
        id="campaign-settings",
    )


# ---------------------------------------------------------------- share

def call_link() -> rx.Component:
    return field("Call link", rx.flex(
        rx.input(value=S.call_url, read_only=True, id="campaign-call-url", size="3", font_family=MONO,
                 flex="1", min_width="240px"),
        rx.button(rx.icon("copy", size=16), "Copy", variant="soft", size="3", id="campaign-call-url-copy",
                  on_click=[rx.set_clipboard(S.call_url), rx.toast.success("Call link copied.")]),
        link_button(rx.icon("external-link", size=16), "Open", href=S.call_url, id="campaign-call-url-open",
                    external=True, variant="soft", color_scheme="gray", size="3"),
        gap="2", wrap="wrap", width="100%",
    ), id="campaign-call-url", hint="Callers open it to talk to the agent. Share it, or let the QR codes and the "
                                    "website button lead here.")


def download_link(text: str, href, id) -> rx.Component:
    # A plain <a>, not a router link: the API serves the file, signed in by the browser's session cookie.
    return rx.button(router_link(rx.icon("download", size=14), text, to=href, reload_document=True, download="",
                                 id=id), as_child=True, size="1", variant="soft")


def qr_card(qr: QRRow) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.image(src=qr.png_url, alt="QR code for " + qr.label, width="104px", height="104px",
                     min_width="104px", border_radius="var(--radius-2)", background_color="white",
                     class_name="qr-preview"),
            rx.vstack(
                rx.text(qr.label, size="3", weight="bold", class_name="qr-label"),
                rx.text(qr.scans, rx.cond(qr.scans == 1, " scan", " scans"), size="2", class_name="qr-scans"),
                rx.text("Added ", qr.created, rx.cond(qr.last_scanned != "", " · last scan " + qr.last_scanned + " UTC",
                                                      ""), size="1", color_scheme="gray"),
                rx.hstack(
                    download_link("PNG", qr.png_url, "qr-png-" + qr.id.to_string()),
                    download_link("SVG", qr.svg_url, "qr-svg-" + qr.id.to_string()),
                    rx.cond(S.can_edit, rx.icon_button(rx.icon("trash-2", size=14), size="1", variant="ghost",
                                                       color_scheme="red", aria_label="Delete QR code " + qr.label,
                                                       on_click=S.ask_delete_qr(qr.id, qr.label),
                                                       id="qr-delete-" + qr.id.to_string())),
                    spacing="2", align="center", wrap="wrap",
                ),
                spacing="1", min_width="0",
            ),
            spacing="4", align="center",
        ),
        size="1", class_name="qr-row", data_id=qr.id,
    )


def add_qr_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.label(rx.text("Where will you print it?", size="2", weight="medium"), html_for="qr-label"),
            rx.flex(
                rx.input(id="qr-label", name="label", placeholder="yard sign, flyer, open-house board", size="3",
                         flex="1", min_width="220px", max_length=120, required=True),
                rx.button(rx.icon("qr-code", size=16), "Add QR code", id="qr-add", type="submit", size="3"),
                gap="2", wrap="wrap", width="100%",
            ),
            rx.cond(S.qr_error != "", rx.text(S.qr_error, size="1", color_scheme="red", role="alert",
                                              id="qr-label-error")),
            spacing="1", width="100%",
        ),
        on_submit=S.add_qr_code, reset_on_submit=False, width="100%",
    )


def share_card() -> rx.Component:
    return card(
        "Share", "Where callers find this campaign. Each QR code counts its own scans, so you can see which sign "
                 "or flyer works.",
        call_link(),
        rx.divider(),
        rx.heading("QR codes", size="3"),
        rx.cond(S.can_edit, add_qr_form()),
        rx.cond(S.qr_codes.length() > 0,
                rx.grid(rx.foreach(S.qr_codes, qr_card), columns=rx.breakpoints(initial="1", sm="2"), spacing="3",
                        width="100%", id="qr-list"),
                rx.text("No QR codes yet. Add one for each place you print this campaign: a yard sign, a flyer, a "
                        "window poster.", size="2", color_scheme="gray", id="qr-empty")),
        id="campaign-share",
    )


# ---------------------------------------------------------------- website widget

def widget_preview() -> rx.Component:
    line = lambda width: rx.box(height="10px", width=width, border_radius="5px",  # noqa: E731
                                background_color="var(--gray-a4)")
    return rx.box(
        rx.vstack(line("40%"), line("85%"), line("70%"), line("78%"), spacing="2", padding="20px"),
        rx.vstack(
            rx.box(rx.text(S.widget_greeting, size="2"), id="widget-preview-greeting", max_width="260px",
                   padding="10px 12px", border_radius="12px 12px 2px 12px", background_color="var(--color-panel-solid)",
                   box_shadow="var(--shadow-3)"),
            rx.hstack(rx.icon("phone", size=16), rx.text(S.widget_label, size="2", weight="bold"),
                      id="widget-preview-button", align="center", spacing="2", padding="10px 18px",
                      border_radius="999px", color="white", background_color=S.widget_color,
                      box_shadow="var(--shadow-4)"),
            position="absolute", right="16px", bottom="16px", align="end", spacing="2",
        ),
        position="relative", height="240px", width="100%", overflow="hidden", border_radius="var(--radius-3)",
        border="1px dashed var(--gray-a7)", background_color="var(--gray-a2)", id="widget-preview",
        role="img", aria_label="Preview of the website button",
    )


def widget_card() -> rx.Component:
    return card(
        "Website widget", "A floating button for your website that opens the call in a panel. Pick its colour and "
                          "words, then paste the snippet before </body>.",
        rx.grid(
            field("Button colour", colour_picker(id="widget-color", value=S.widget_color_input,
                                                 on_change=S.set_widget_color.debounce(150), label="Button colour",
                                                 swatch=S.widget_color),
                  id="widget-color"),
            field("Button label", rx.input(id="widget-label", value=S.widget_label_input,
                                           on_change=S.set_widget_label.debounce(250), size="3", max_length=60),
                  id="widget-label"),
            columns=rx.breakpoints(initial="1", sm="2"), spacing="4", width="100%",
        ),
        rx.cond(S.widget_error != "", rx.text(S.widget_error, size="1", color_scheme="red", role="alert",
                                              id="widget-error")),
        widget_preview(),
        field("Snippet", rx.vstack(
            rx.text_area(value=S.widget_snippet, read_only=True, id="widget-snippet", rows="3", width="100%",
                         font_family=MONO, size="2"),
            rx.button(rx.icon("copy", size=16), "Copy snippet", variant="soft", id="widget-snippet-copy",
                      on_click=[rx.set_clipboard(S.widget_snippet), rx.toast.success("Snippet copied.")]),
            spacing="2", width="100%", align="end",
        ), id="widget-snippet"),
        id="campaign-widget",
    )


# ---------------------------------------------------------------- page

def missing() -> rx.Component:
    return rx.callout(rx.text(S.missing, " ", rx.link("Back to campaigns", href="/campaigns"), "."),
                      icon="circle-alert", color_scheme="red", width="100%", id="campaign-missing")


def confirm_dialog() -> rx.Component:
    return forms.confirm_dialog(title=S.confirm_title, text=S.confirm_text, action_label="Delete",
                                on_confirm=S.confirm, open_=S.confirm_open, on_open_change=S.set_confirm_open)


def campaign_detail_page() -> rx.Component:
    content = rx.vstack(
        rx.cond(
            S.missing != "", missing(),
            rx.cond(S.loaded, rx.vstack(
                header(),
                status_problem(),
                rx.cond(~S.can_edit, rx.callout("You can see this campaign. Owners, admins and managers can "
                                                "change it.", icon="eye", color_scheme="gray", width="100%")),
                settings_card(),
                share_card(),
                widget_card(),
                notifications_card(),
                recent_calls_card("This campaign's calls, newest first, test calls too; open one for its "
                                  "transcript and where each answer's wait went.", id="campaign-recent-calls"),
                spacing="5", width="100%",
            ), rx.vstack(rx.skeleton(height="64px", width="100%"), rx.skeleton(height="320px", width="100%"),
                         spacing="4", width="100%")),
        ),
        confirm_dialog(),
        spacing="5", width="100%",
    )
    return app_layout(content, "/campaigns")
