"""The Webhooks section of /developers: endpoints, their secret shown once, test events and the delivery log."""

import reflex as rx

from quantum_voice.components import forms
from quantum_voice.components.forms import form_alert, text_input
from quantum_voice.services.developer.webhook_events import EVENT_TYPES
from quantum_voice.services.developer.webhooks import MAX_ENDPOINTS
from quantum_voice.states.webhooks import AttemptRow, DeliveryRow, HookRow, WebhooksState as W

WIDE_ONLY = ["none", "none", "table-cell"]


def hook_actions(hook: HookRow) -> rx.Component:
    return rx.hstack(
        rx.button("Log", size="1", variant="soft", on_click=W.open_log(hook.id, hook.url),
                  aria_label="Delivery log of " + hook.url),
        rx.cond(W.may_manage, rx.hstack(
            rx.button("Send test", size="1", variant="soft", on_click=W.send_test(hook.id),
                      aria_label="Send a test event to " + hook.url),
            rx.cond(hook.enabled,
                    rx.button("Disable", size="1", variant="soft", color_scheme="gray",
                              on_click=W.set_enabled(hook.id, False), aria_label="Disable " + hook.url),
                    rx.button("Enable", size="1", variant="soft", color_scheme="green",
                              on_click=W.set_enabled(hook.id, True), aria_label="Enable " + hook.url)),
            rx.button("Roll secret", size="1", variant="soft", on_click=W.ask_roll(hook.id, hook.url),
                      aria_label="Roll the secret of " + hook.url),
            rx.button("Delete", size="1", variant="soft", color_scheme="red", on_click=W.ask_delete(hook.id, hook.url),
                      aria_label="Delete " + hook.url),
            spacing="2", wrap="wrap",
        )),
        spacing="2", wrap="wrap",
    )


def hook_row(hook: HookRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(
            rx.text(hook.url, weight="medium", word_break="break-all"),
            rx.cond(hook.description != "", rx.text(hook.description, size="1", color_scheme="gray")),
            rx.text("secret ", rx.code(hook.secret_hint, size="1", variant="ghost"), size="1", color_scheme="gray"),
            spacing="1",
        )),
        rx.table.cell(rx.text(hook.events, size="1"),
                      rx.cond(hook.test_events, rx.text("and test events", size="1", color_scheme="amber")),
                      display=WIDE_ONLY),
        rx.table.cell(rx.vstack(
            rx.badge(hook.state, color_scheme=hook.state_colour, variant="soft"),
            rx.cond(hook.disabled_reason != "", rx.text(hook.disabled_reason, size="1", color_scheme="red")),
            spacing="1",
        )),
        rx.table.cell(rx.text(hook.last_delivery, size="1", color_scheme=hook.last_colour)),
        rx.table.cell(hook_actions(hook)),
        align="center", id="hook-" + hook.id.to_string(),
    )


def hooks_table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell("Endpoint"),
                rx.table.column_header_cell("Events", display=WIDE_ONLY),
                rx.table.column_header_cell("State"),
                rx.table.column_header_cell("Last delivery (UTC)"),
                rx.table.column_header_cell(""),
            )),
            rx.table.body(rx.foreach(W.hooks, hook_row)),
            variant="surface", size="2", width="100%",
        ),
        overflow_x="auto", width="100%", id="hooks-table",
    )


def empty_state() -> rx.Component:
    return rx.card(rx.vstack(
        rx.icon("webhook", size=28, color="var(--accent-9)"),
        rx.heading("No webhook endpoints yet", size="4"),
        rx.text("A webhook tells your own system the moment something happens: a call ends, a lead is scored, a "
                "caller asks for a person, a document is ready. Each delivery is signed, and retried for a day.",
                size="2", color_scheme="gray", text_align="center", max_width="480px"),
        rx.cond(W.may_manage, rx.button(rx.icon("plus", size=16), "Add your first endpoint",
                                        on_click=W.set_create_open(True))),
        align="center", spacing="3", padding="24px",
    ), width="100%")


def event_box(event: str) -> rx.Component:
    box_id = "event-" + event.replace(".", "-")
    return rx.el.label(
        rx.hstack(rx.el.input(type="checkbox", name=f"event:{event}", id=box_id),
                  rx.code(event, size="2", variant="ghost"), align="center", spacing="1"),
        html_for=box_id,
    )


def create_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("plus", size=16), "Add endpoint", id="hook-create-open", size="2",
                                    variant="soft")),
        rx.dialog.content(
            rx.dialog.title("Add a webhook endpoint"),
            rx.dialog.description("Its signing secret is shown once, right after you add it.", size="2",
                                  margin_bottom="16px"),
            rx.form(
                rx.vstack(
                    text_input("Address", id="hook-url", name="url", state=W, required=True, max_length=2000,
                               placeholder="https://example.com/hooks/quantum-voice",
                               hint="A public https address that answers 2xx within 10 seconds.", auto_focus=True),
                    text_input("Description", id="hook-description", name="description", state=W, max_length=500,
                               placeholder="CRM sync"),
                    rx.vstack(
                        rx.text("Events", size="2", weight="medium"),
                        rx.grid(*[event_box(e) for e in EVENT_TYPES], columns="2", gap_x="4", gap_y="1"),
                        forms.field_error(W, "events"),
                        spacing="2", width="100%", role="group", aria_label="Events",
                    ),
                    rx.el.label(
                        rx.hstack(rx.el.input(type="checkbox", name="test_events", id="hook-test-events"),
                                  rx.text("Also send the events of test data (test calls, test keys), marked "
                                          "\"livemode\": false", size="2"), align="center", spacing="2"),
                        html_for="hook-test-events",
                    ),
                    form_alert(W),
                    rx.flex(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Add endpoint", id="hook-create-submit", type="submit"),
                        spacing="3", justify="end", width="100%",
                    ),
                    spacing="4", width="100%",
                ),
                on_submit=W.create, width="100%",
            ),
            max_width="520px",
        ),
        open=W.create_open,
        on_open_change=W.set_create_open,
    )


def secret_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Signing secret"),
            rx.text("For ", rx.code(W.secret_label), size="2", word_break="break-all"),
            rx.callout("Copy it now and keep it in your receiver's secret store: this is the only time it is shown.",
                       icon="triangle-alert", color_scheme="amber", width="100%", margin_top="12px"),
            rx.hstack(
                rx.input(value=W.secret, read_only=True, id="hook-secret", width="100%",
                         aria_label="The signing secret", font_family="monospace"),
                rx.icon_button(rx.icon("copy", size=16), on_click=[rx.set_clipboard(W.secret),
                                                                    rx.toast.info("Copied.")],
                               aria_label="Copy the secret", type="button"),
                width="100%", margin_y="16px",
            ),
            rx.text("Check each delivery's ", rx.code("QV-Signature"), " header with it (docs/developers.md).",
                    size="2", color_scheme="gray"),
            rx.flex(rx.dialog.close(rx.button("I have copied it", id="hook-secret-close")), justify="end",
                    margin_top="16px"),
            max_width="560px",
        ),
        open=W.secret != "",
        on_open_change=W.close_secret,
    )


def delivery_row(row: DeliveryRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.time, size="1", white_space="nowrap")),
        rx.table.cell(rx.code(row.event, size="1", variant="ghost")),
        rx.table.cell(rx.vstack(
            rx.badge(row.status, color_scheme=row.colour, variant="soft"),
            rx.cond(row.error != "", rx.text(row.error, size="1", color_scheme="red")),
            rx.cond(row.next_try != "", rx.text("next try ", row.next_try, size="1", color_scheme="gray")),
            spacing="1",
        )),
        rx.table.cell(rx.text(row.code, size="1")),
        rx.table.cell(rx.text(row.duration, size="1", white_space="nowrap"), display=WIDE_ONLY),
        rx.table.cell(rx.text(row.attempts, size="1")),
        rx.table.cell(rx.hstack(
            rx.button("Attempts", size="1", variant="ghost", on_click=W.show_delivery(row.id),
                      aria_label="Attempts of delivery " + row.id.to_string()),
            rx.cond(W.may_manage, rx.button("Replay", size="1", variant="soft", on_click=W.replay(row.id),
                                            aria_label="Replay delivery " + row.id.to_string())),
            spacing="2",
        )),
        id="delivery-" + row.id.to_string(),
    )


def attempt_row(row: AttemptRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.number, " ", row.manual, size="1")),
        rx.table.cell(rx.text(row.time, size="1", white_space="nowrap")),
        rx.table.cell(rx.text(row.code, size="1")),
        rx.table.cell(rx.text(row.duration, size="1")),
        rx.table.cell(rx.vstack(
            rx.text(row.outcome, size="1"),
            rx.cond(row.excerpt != "", rx.code(row.excerpt, size="1", variant="ghost", white_space="pre-wrap",
                                               word_break="break-all")),
            spacing="1",
        )),
    )


def attempts_panel() -> rx.Component:
    return rx.cond(W.shown_delivery != 0, rx.vstack(
        rx.heading("Attempts", size="3"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("#", "Time (UTC)", "Code", "Took", "Outcome and answer")])),
            rx.table.body(rx.foreach(W.attempts, attempt_row)),
            size="1", width="100%",
        ),
        rx.heading("Payload", size="3"),
        rx.code_block(W.payload, language="json", width="100%", font_size="12px"),
        spacing="2", width="100%", id="delivery-attempts",
    ))


def log_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Delivery log"),
            rx.text(rx.code(W.log_url), size="2", word_break="break-all"),
            rx.cond(W.deliveries.length() > 0,
                    rx.box(rx.table.root(
                        rx.table.header(rx.table.row(
                            rx.table.column_header_cell("Time (UTC)"),
                            rx.table.column_header_cell("Event"),
                            rx.table.column_header_cell("Status"),
                            rx.table.column_header_cell("Code"),
                            rx.table.column_header_cell("Took", display=WIDE_ONLY),
                            rx.table.column_header_cell("Attempts"),
                            rx.table.column_header_cell(""),
                        )),
                        rx.table.body(rx.foreach(W.deliveries, delivery_row)),
                        size="1", width="100%",
                    ), overflow_x="auto", width="100%", id="deliveries-table", margin_y="12px"),
                    rx.text("Nothing was sent to this endpoint yet. Send a test event to try it.", size="2",
                            color_scheme="gray", margin_y="12px")),
            attempts_panel(),
            rx.flex(rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")), justify="end",
                    margin_top="12px"),
            max_width="960px", width="95vw",
        ),
        open=W.log_open,
        on_open_change=W.set_log_open,
    )


def webhooks_section() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.vstack(
                rx.heading("Webhooks", size="5"),
                rx.text(f"Your system hears of calls, leads, hand-offs and documents as they happen. At most "
                        f"{MAX_ENDPOINTS} endpoints.", size="2", color_scheme="gray"),
                spacing="1",
            ),
            rx.spacer(),
            rx.cond(W.may_manage, create_dialog()),
            width="100%", align="end",
        ),
        rx.cond(W.loaded, rx.cond(W.hooks.length() > 0, hooks_table(), empty_state()),
                rx.skeleton(height="120px", width="100%")),
        secret_dialog(),
        log_dialog(),
        forms.confirm_dialog(title=W.confirm_title, text=W.confirm_text, action_label="Confirm",
                             on_confirm=W.confirm, open_=W.confirm_open, on_open_change=W.set_confirm_open,
                             action_id="hook-confirm"),
        spacing="3", width="100%", id="webhooks-section",
    )
