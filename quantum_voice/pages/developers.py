"""/developers: the organisation's API keys (create one with scopes, see its secret once, revoke and rotate), the
quick-start code (services/developer/quickstart.py) and its webhook endpoints (pages/developer_webhooks.py)."""

import reflex as rx

from quantum_voice.components import forms
from quantum_voice.components.forms import NATIVE_SELECT_STYLE, field, form_alert, native_select, text_input
from quantum_voice.components.layout import app_layout, page_header
from quantum_voice.pages.developer_webhooks import webhooks_section
from quantum_voice.services.developer import quickstart
from quantum_voice.services.developer.api_keys import KEY_ROLES, MAX_OVERLAP_HOURS
from quantum_voice.services.developer.scopes import RESOURCES
from quantum_voice.states.developers import (EXPIRY_CHOICES, MODE_CHOICES, OVERLAP_CHOICES, DevelopersState as S,
                                             KeyRow)

WIDE_ONLY = ["none", "none", "table-cell"]  # columns that phones skip


def key_actions(key: KeyRow) -> rx.Component:
    return rx.cond(key.active, rx.hstack(
        rx.button("Rotate", size="1", variant="soft", on_click=S.ask_rotate(key.id, key.prefix),
                  aria_label="Rotate " + key.prefix),
        rx.button("Revoke", size="1", variant="soft", color_scheme="red", on_click=S.ask_revoke(key.id, key.prefix),
                  aria_label="Revoke " + key.prefix),
        spacing="2",
    ))


def key_row(key: KeyRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(
            rx.text(key.name, weight="medium"),
            rx.hstack(rx.code(key.prefix, size="1", variant="ghost"),
                      rx.cond(key.mode == "test", rx.badge("test", color_scheme="amber", variant="soft", size="1")),
                      spacing="2", align="center"),
            spacing="1",
        )),
        rx.table.cell(rx.text(key.scopes, size="1"), rx.text("as ", key.role, size="1", color_scheme="gray")),
        rx.table.cell(rx.text(key.created, size="1", white_space="nowrap"),
                      rx.text(key.created_by, size="1", color_scheme="gray"), display=WIDE_ONLY),
        rx.table.cell(rx.text(key.last_used, size="1"), display=WIDE_ONLY),
        rx.table.cell(rx.text(key.expires, size="1", white_space="nowrap"), display=WIDE_ONLY),
        rx.table.cell(rx.badge(key.status, color_scheme=key.status_colour, variant="soft")),
        rx.cond(S.may_manage, rx.table.cell(key_actions(key))),
        align="center", id="key-" + key.id.to_string(),
    )


def keys_table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell("Key"),
                rx.table.column_header_cell("Scopes"),
                rx.table.column_header_cell("Created (UTC)", display=WIDE_ONLY),
                rx.table.column_header_cell("Last used (UTC)", display=WIDE_ONLY),
                rx.table.column_header_cell("Expires (UTC)", display=WIDE_ONLY),
                rx.table.column_header_cell("Status"),
                rx.cond(S.may_manage, rx.table.column_header_cell("")),
            )),
            rx.table.body(rx.foreach(S.keys, key_row)),
            variant="surface", size="2", width="100%",
        ),
        overflow_x="auto", width="100%", id="keys-table",
    )


def empty_state() -> rx.Component:
    return rx.card(rx.vstack(
        rx.icon("key-round", size=28, color="var(--accent-9)"),
        rx.heading("No API keys yet", size="4"),
        rx.text("An API key lets your own systems use the Quantum Voice API: list new leads into a CRM, upload "
                "documents, create campaigns. Each key gets only the scopes you tick.", size="2",
                color_scheme="gray", text_align="center", max_width="480px"),
        rx.cond(S.may_manage, rx.button(rx.icon("plus", size=16), "Create your first key",
                                        on_click=S.set_create_open(True))),
        align="center", spacing="3", padding="24px",
    ), width="100%")


def scope_box(resource: str, access: str) -> rx.Component:
    box_id = f"scope-{resource}-{access}"
    return rx.el.label(
        rx.hstack(rx.el.input(type="checkbox", name=f"scope:{resource}:{access}", id=box_id),
                  rx.text(access, size="2"), align="center", spacing="1"),
        html_for=box_id,
    )


def scope_grid() -> rx.Component:
    rows = [rx.fragment(rx.text(resource.capitalize(), size="2", weight="medium"),
                        scope_box(resource, "read"), scope_box(resource, "write")) for resource in RESOURCES]
    return rx.vstack(
        rx.text("Scopes", size="2", weight="medium"),
        rx.grid(*rows, columns="3", gap_x="4", gap_y="1", align_items="center"),
        rx.text("Write includes read. Calls have no API routes yet; webhooks:write manages endpoints with an admin "
                "key. Test keys cannot use hand-offs or webhooks.", size="1", color_scheme="gray"),
        forms.field_error(S, "scopes"),
        spacing="2", width="100%", role="group", aria_label="Scopes",
    )


def create_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("plus", size=16), "Create key", id="key-create-open", size="2")),
        rx.dialog.content(
            rx.dialog.title("Create an API key"),
            rx.dialog.description("The key is shown once, right after you create it.", size="2",
                                  margin_bottom="16px"),
            rx.form(
                rx.vstack(
                    text_input("Name", id="key-name", name="name", state=S, required=True, max_length=200,
                               placeholder="CRM sync", hint="What will use the key.", auto_focus=True),
                    field("Mode", native_select(MODE_CHOICES, id="key-mode", name="mode", default_value="live"),
                          id="key-mode", state=S, name="mode",
                          hint="A test key (qv_test_…) sees and makes test calls and test leads only; campaigns, "
                               "knowledge and flows are shared with live."),
                    scope_grid(),
                    field("Acts as", native_select([(r, r.capitalize()) for r in KEY_ROLES], id="key-role",
                                                   name="role", default_value="manager"),
                          id="key-role", state=S, name="role",
                          hint="The key's role; no higher than yours. Managers change campaigns and leads."),
                    field("Expires", rx.el.select(*[rx.el.option(label, value=value)
                                                    for value, label in EXPIRY_CHOICES],
                                                  id="key-expiry", name="expires_in_days", style=NATIVE_SELECT_STYLE),
                          id="key-expiry", state=S, name="expires_at"),
                    form_alert(S),
                    rx.flex(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Create key", id="key-create-submit", type="submit"),
                        spacing="3", justify="end", width="100%",
                    ),
                    spacing="4", width="100%",
                ),
                on_submit=S.create, width="100%",
            ),
            max_width="480px",
        ),
        open=S.create_open,
        on_open_change=S.set_create_open,
    )


def secret_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Your new key ", S.secret_label),
            rx.callout("Copy it now and keep it somewhere safe: this is the only time it is shown. We store only "
                       "a hash of it.", icon="triangle-alert", color_scheme="amber", width="100%"),
            rx.hstack(
                rx.input(value=S.secret, read_only=True, id="key-secret", width="100%", aria_label="The new key",
                         font_family="monospace"),
                rx.icon_button(rx.icon("copy", size=16), on_click=[rx.set_clipboard(S.secret),
                                                                    rx.toast.info("Copied.")],
                               aria_label="Copy the key", type="button"),
                width="100%", margin_y="16px",
            ),
            rx.text("Use it as ", rx.code("Authorization: Bearer <key>"), ". See docs/developers.md.", size="2",
                    color_scheme="gray"),
            rx.flex(rx.dialog.close(rx.button("I have copied it", id="key-secret-close")), justify="end",
                    margin_top="16px"),
            max_width="560px",
        ),
        open=S.secret != "",
        on_open_change=S.close_secret,
    )


def rotate_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Rotate ", S.rotate_label),
            rx.dialog.description("A new key with the same name, scopes and role replaces this one. The old key "
                                  "keeps working for the overlap you choose, so your systems can switch without a "
                                  "gap.", size="2", margin_bottom="16px"),
            rx.form(
                rx.vstack(
                    field("The old key keeps working", rx.el.select(
                        *[rx.el.option(label, value=value) for value, label in OVERLAP_CHOICES],
                        id="key-overlap", name="overlap_hours", default_value="24", style=NATIVE_SELECT_STYLE),
                        id="key-overlap", hint=f"At most {MAX_OVERLAP_HOURS // 24} days."),
                    rx.flex(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Rotate", id="key-rotate-submit", type="submit"),
                        spacing="3", justify="end", width="100%",
                    ),
                    spacing="4", width="100%",
                ),
                on_submit=S.rotate, width="100%",
            ),
            max_width="460px",
        ),
        open=S.rotate_open,
        on_open_change=S.set_rotate_open,
    )


def keys_section() -> rx.Component:
    return rx.cond(
        S.may_view,
        rx.cond(S.loaded, rx.cond(S.keys.length() > 0, keys_table(), empty_state()),
                rx.skeleton(height="160px", width="100%")),
        rx.callout("API keys are for managers, admins and owners.", icon="lock", color_scheme="gray", width="100%"),
    )


def snippet_tabs(curl: str, python: str) -> rx.Component:
    return rx.tabs.root(
        rx.tabs.list(rx.tabs.trigger("curl", value="curl"), rx.tabs.trigger("Python", value="python")),
        rx.tabs.content(rx.code_block(curl, language="bash", width="100%", font_size="12px", wrap_long_lines=True),
                        value="curl"),
        rx.tabs.content(rx.code_block(python, language="python", width="100%", font_size="12px",
                                      wrap_long_lines=True), value="python"),
        default_value="curl", width="100%",
    )


def quick_start() -> rx.Component:
    """The common tasks in curl and Python, the same code docs/developers.md shows and the tests run."""
    steps = [rx.text("Set the app's address and your key first; each task below uses them.", size="2"),
             snippet_tabs(quickstart.SETUP_CURL, quickstart.SETUP)]
    for snippet in quickstart.SNIPPETS:
        needs = (f"The key needs {', '.join(snippet.scopes)}." if snippet.scopes else
                 "On your receiver, with the endpoint's whsec_… signing secret.")
        steps += [rx.heading(snippet.title, size="3", as_="h3"), rx.text(needs, size="2", color_scheme="gray"),
                  snippet_tabs(snippet.curl, snippet.python)]
    return rx.accordion.root(
        rx.accordion.item(header="Quick start: upload a document, create a campaign, list leads, verify a webhook",
                          content=rx.vstack(*steps, spacing="3", width="100%"), value="quick-start"),
        collapsible=True, type="single", variant="surface", width="100%", id="quick-start",
    )


def developers_page() -> rx.Component:
    content = rx.vstack(
        page_header("Developers", "API keys and webhooks for your own systems. Each key belongs to the "
                                  "organisation, gets only the scopes you tick, and is limited in requests per "
                                  "minute.",
                    rx.cond(S.may_manage, create_dialog())),
        rx.cond(S.may_view & ~S.may_manage,
                rx.callout("You can see the keys. Owners and admins create, rotate and revoke them.",
                           icon="eye", color_scheme="gray", width="100%")),
        keys_section(),
        rx.text("Send a key as ", rx.code("Authorization: Bearer qv_live_…"), "; the API reference is at ",
                rx.link("/api/docs", href="/api/docs", is_external=True), " (Swagger UI, try calls with your key) "
                "and ", rx.link("/api/redoc", href="/api/redoc", is_external=True), " (ReDoc, to read).",
                size="2", color_scheme="gray"),
        quick_start(),
        secret_dialog(),
        rotate_dialog(),
        forms.confirm_dialog(title=S.confirm_title, text=S.confirm_text, action_label="Revoke",
                             on_confirm=S.confirm, open_=S.confirm_open, on_open_change=S.set_confirm_open,
                             action_id="key-revoke-confirm"),
        rx.cond(S.may_view, rx.fragment(rx.separator(size="4"), webhooks_section())),
        spacing="5", width="100%",
    )
    return app_layout(content, "/developers")
