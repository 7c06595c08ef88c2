"""/admin: the audit log and the email outbox (where mail lands when no SMTP server is configured)."""

import reflex as rx

from quantum_voice.components.layout import app_layout, page_header
from quantum_voice.states.admin import AdminState as S, AuditRow, EmailRow

STATUS_COLOURS = (("sent", "green"), ("logged", "blue"), ("failed", "red"))


def table(headers: list[str], body: rx.Component) -> rx.Component:
    return rx.box(
        rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                      rx.table.body(body), variant="surface", size="1", width="100%"),
        overflow_x="auto", width="100%",
    )


def empty(text: str) -> rx.Component:
    return rx.text(text, size="2", color_scheme="gray", padding="16px 0")


def audit_row(row: AuditRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.when, white_space="nowrap"),
        rx.table.cell(rx.code(row.action, variant="ghost")),
        rx.table.cell(row.actor),
        rx.table.cell(row.target),
        rx.table.cell(row.ip),
        rx.table.cell(rx.text(row.details, size="1", color_scheme="gray", word_break="break-word"), min_width="200px"),
    )


def audit_tab() -> rx.Component:
    return rx.cond(S.audit.length() > 0,
                   table(["When (UTC)", "Action", "Who", "Target", "IP", "Details"], rx.foreach(S.audit, audit_row)),
                   empty("Nothing recorded yet. Sign-ins, invitations and role changes are listed here."))


def email_body(row: EmailRow) -> rx.Component:
    # <details> keeps the table compact; opening it shows the body and its links ready to click.
    return rx.el.details(
        rx.el.summary(rx.text(row.subject, weight="medium", as_="span"), cursor="pointer"),
        rx.vstack(
            rx.foreach(row.links, lambda link: rx.link(link, href=link, size="1", word_break="break-all")),
            rx.box(rx.text(row.body, size="1", white_space="pre-wrap", word_break="break-word",
                           font_family="var(--code-font-family)"),
                   padding="12px", border_radius="var(--radius-2)", background_color="var(--gray-a2)",
                   width="100%"),
            spacing="2", padding_top="8px", max_width="560px",
        ),
    )


def email_row(row: EmailRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.recipient),
        rx.table.cell(email_body(row)),
        rx.table.cell(rx.badge(row.kind, variant="soft", color_scheme="gray")),
        rx.table.cell(rx.badge(row.status, variant="soft",
                               color_scheme=rx.match(row.status, *STATUS_COLOURS, "gray"))),
        rx.table.cell(row.created, white_space="nowrap"),
    )


def outbox_tab() -> rx.Component:
    return rx.cond(S.emails.length() > 0,
                   table(["To", "Subject", "Kind", "Status", "Created (UTC)"], rx.foreach(S.emails, email_row)),
                   empty("No email yet. Invitations and notifications your organisation sends appear here; the "
                         "links in them are hidden, because only their recipient may use them."))


def admin_page() -> rx.Component:
    content = rx.vstack(
        page_header("Admin", "What happened in your organisation, and the email it sent."),
        rx.tabs.root(
            rx.tabs.list(rx.tabs.trigger("Audit log", value="audit", id="tab-audit"),
                         rx.tabs.trigger("Email outbox", value="outbox", id="tab-outbox")),
            rx.tabs.content(audit_tab(), value="audit", padding_top="16px"),
            rx.tabs.content(outbox_tab(), value="outbox", padding_top="16px"),
            default_value="audit", width="100%",
        ),
        spacing="5", width="100%",
    )
    return app_layout(content, "/admin")
