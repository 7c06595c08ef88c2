"""/leads: the organisation's leads — filters kept in the URL, a sortable table a page at a time, bulk status and
assignment, the CSV of the current filter, and new leads arriving without a reload."""

import reflex as rx

from quantum_voice.components.forms import NATIVE_SELECT_STYLE
from quantum_voice.components.layout import app_layout, page_header
from quantum_voice.components.leads import lead_status_badge, score_with_band
from quantum_voice.components.listing import icon_bubble, pager
from quantum_voice.states.leads import LeadListRow, LeadsState as S, Option

WIDE_ONLY = ["none", "none", "table-cell"]
STATUS_CHOICES = (("new", "New"), ("contacted", "Contacted"), ("qualified", "Qualified"), ("won", "Won"),
                  ("lost", "Lost"))
BAND_CHOICES = (("hot", "Hot"), ("warm", "Warm"), ("cold", "Cold"))
SORT_CHOICES = (("newest", "Newest first"), ("oldest", "Oldest first"), ("score", "Highest score"),
                ("score_low", "Lowest score"), ("updated", "Recently changed"))


def select(*options: rx.Component, value, on_change, label: str, id: str, width: str = "170px") -> rx.Component:
    return rx.el.select(*options, value=value, on_change=on_change, aria_label=label, id=id,
                        style={**NATIVE_SELECT_STYLE, "width": width})


def option(value: str, label: str) -> rx.Component:
    return rx.el.option(label, value=value)


def state_option(choice: Option) -> rx.Component:
    return rx.el.option(choice.label, value=choice.value)


def export_button() -> rx.Component:
    # The browser fetches the API's streamed CSV itself (with the session cookie): no rows pass through the page.
    return rx.button(rx.icon("download", size=16), "Export CSV", variant="soft", size="2", id="leads-export",
                     on_click=rx.download(url=S.export_href), data_href=S.export_href,
                     aria_label="Export the leads of this filter as CSV")


def filters() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.input(rx.input.slot(rx.icon("search", size=14)), placeholder="Name, email, phone or words said",
                     value=S.query, on_change=S.set_query.debounce(400), aria_label="Search leads", id="leads-search",
                     width="100%", max_width=["100%", "300px"]),
            select(option("", "All campaigns"), rx.foreach(S.campaign_options, state_option), value=S.campaign_id,
                   on_change=S.set_campaign, label="Filter by campaign", id="leads-campaign"),
            select(option("", "Any band"), *[option(v, label) for v, label in BAND_CHOICES], value=S.band,
                   on_change=S.set_band, label="Filter by band", id="leads-band", width="120px"),
            select(option("", "Any status"), *[option(v, label) for v, label in STATUS_CHOICES], value=S.status,
                   on_change=S.set_status, label="Filter by status", id="leads-status", width="140px"),
            select(option("", "Anyone"), option("none", "Unassigned"), rx.foreach(S.member_options, state_option),
                   value=S.assignee, on_change=S.set_assignee, label="Filter by assignee", id="leads-assignee"),
            gap="3", wrap="wrap", width="100%", align="center",
        ),
        rx.flex(
            rx.hstack(rx.el.label(rx.text("From", size="2"), html_for="leads-from"),
                      rx.input(type="date", value=S.created_from, on_change=S.set_created_from, id="leads-from",
                               aria_label="Created from (UTC)"), align="center", spacing="2"),
            rx.hstack(rx.el.label(rx.text("to", size="2"), html_for="leads-to"),
                      rx.input(type="date", value=S.created_to, on_change=S.set_created_to, id="leads-to",
                               aria_label="Created to (UTC, inclusive)"), align="center", spacing="2"),
            rx.el.label(rx.hstack(rx.switch(checked=S.include_tests, on_change=S.set_include_tests,
                                            id="leads-tests"),
                                  rx.text("Show test calls", size="2"), align="center", spacing="2")),
            rx.spacer(),
            select(*[option(v, label) for v, label in SORT_CHOICES], value=S.sort_by, on_change=S.sort,
                   label="Sort leads", id="leads-sort", width="170px"),
            rx.cond(S.filtered, rx.button(rx.icon("x", size=14), "Clear filters", variant="ghost", size="2",
                                          on_click=S.clear_filters, id="leads-clear")),
            gap="3", wrap="wrap", width="100%", align="center",
        ),
        rx.cond(S.filter_error != "", rx.callout(S.filter_error, icon="triangle-alert", color_scheme="red",
                                                 role="alert", width="100%", id="leads-filter-error")),
        spacing="3", width="100%",
    )


def bulk_bar() -> rx.Component:
    return rx.cond(S.can_manage & (S.selected.length() > 0), rx.flex(
        rx.text(S.selected.length(), " selected", size="2", weight="medium"),
        select(option("", "Set status…"), *[option(v, label) for v, label in STATUS_CHOICES], value="",
               on_change=S.bulk_status, label="Set the status of the selected leads", id="leads-bulk-status",
               width="150px"),
        select(option("", "Assign to…"), option("none", "Nobody (unassign)"),
               rx.foreach(S.member_options, state_option), value="", on_change=S.bulk_assign,
               label="Assign the selected leads", id="leads-bulk-assign"),
        gap="3", align="center", wrap="wrap", padding="8px 12px", border_radius="var(--radius-3)",
        background_color="var(--accent-a3)", width="100%", id="leads-bulk",
    ))


def sort_header(label: str, first: str, second: str, **props) -> rx.Component:
    """A column header that sorts by ``first``, and by ``second`` (the other way) when already sorted by first."""
    active = (S.sort_by == first) | (S.sort_by == second)
    return rx.table.column_header_cell(
        rx.button(label, rx.cond(S.sort_by == first, rx.icon("arrow-down-wide-narrow", size=12),
                                 rx.cond(S.sort_by == second, rx.icon("arrow-up-narrow-wide", size=12))),
                  variant="ghost", color_scheme="gray", size="1", high_contrast=True,
                  on_click=S.sort(rx.cond(S.sort_by == first, second, first)), aria_label=f"Sort by {label.lower()}"),
        aria_sort=rx.cond(active, rx.cond(S.sort_by == first, "descending", "ascending"), "none"), **props,
    )


def lead_row(row: LeadListRow) -> rx.Component:
    href = "/leads/" + row.id.to_string()
    return rx.table.row(
        rx.cond(S.can_manage, rx.table.cell(rx.checkbox(
            checked=S.selected.contains(row.id), on_change=lambda checked: S.toggle_row(row.id, checked),
            aria_label="Select " + rx.cond(row.name != "", row.name, row.email),
            id="lead-select-" + row.id.to_string()))),
        rx.table.row_header_cell(rx.vstack(
            rx.hstack(
                rx.link(rx.cond(row.erased, "Erased person", rx.cond(row.name != "", row.name, "No name given")),
                        href=href, weight="medium", high_contrast=True, id="lead-link-" + row.id.to_string()),
                rx.cond(row.is_test, rx.badge("test call", color_scheme="gray", variant="outline", size="1")),
                spacing="2", align="center"),
            rx.text(row.email, size="1", color_scheme="gray"),
            spacing="0", align="start",
        )),
        rx.table.cell(row.campaign, display=WIDE_ONLY),
        rx.table.cell(score_with_band(row.score, row.band)),
        rx.table.cell(lead_status_badge(row.status)),
        rx.table.cell(rx.cond(row.assignee != "", row.assignee, rx.text("—", color_scheme="gray")),
                      display=WIDE_ONLY, class_name="lead-assignee"),
        rx.table.cell(row.created, white_space="nowrap", display=WIDE_ONLY),
        align="center", class_name="lead-row", data_lead_id=row.id,
    )


def table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(
                rx.cond(S.can_manage, rx.table.column_header_cell(rx.checkbox(
                    checked=S.all_selected, on_change=S.toggle_all, aria_label="Select all leads on this page",
                    id="leads-select-all")), rx.fragment()),
                rx.table.column_header_cell("Lead"),
                rx.table.column_header_cell("Campaign", display=WIDE_ONLY),
                sort_header("Score", "score", "score_low"),
                rx.table.column_header_cell("Status"),
                rx.table.column_header_cell("Assignee", display=WIDE_ONLY),
                sort_header("Created (UTC)", "newest", "oldest", display=WIDE_ONLY),
            )),
            rx.table.body(rx.foreach(S.rows, lead_row)),
            variant="surface", size="2", width="100%",
        ),
        overflow_x="auto", width="100%", id="leads-table",
    )


def empty_state() -> rx.Component:
    return rx.card(
        rx.vstack(
            icon_bubble("contact"),
            rx.heading("No leads yet", size="4"),
            rx.text("Leads appear here when callers agree to be contacted. Share a campaign's call link or QR code, "
                    "or put its button on your website: every caller who leaves their details becomes a lead, "
                    "scored hot, warm or cold, with the call's transcript.", size="2", color_scheme="gray",
                    max_width="560px"),
            rx.hstack(
                rx.button(rx.link(rx.icon("megaphone", size=16), "Go to campaigns", href="/campaigns",
                                  underline="none"), as_child=True, size="2", id="leads-empty-campaigns"),
                rx.button("Show leads from test calls", variant="ghost", size="2", id="leads-empty-tests",
                          on_click=S.set_include_tests(True)),
                spacing="3", align="center", wrap="wrap"),
            spacing="3", align="start",
        ),
        size="3", width="100%", id="leads-empty",
    )


def no_match() -> rx.Component:
    return rx.card(rx.hstack(
        rx.text("No lead matches these filters.", size="2", color_scheme="gray"),
        rx.button("Clear filters", variant="soft", size="1", on_click=S.clear_filters, id="leads-no-match-clear"),
        align="center", spacing="3"), width="100%", id="leads-no-match")


def footer() -> rx.Component:
    return rx.hstack(rx.text(S.page_label, size="1", color_scheme="gray", id="leads-count"), rx.spacer(),
                     rx.box(pager(S)), align="center", width="100%")


def leads_page() -> rx.Component:
    content = rx.vstack(
        page_header("Leads", "The people your calls brought in: who they are, how hot, and what the team did next.",
                    export_button(), title_id="leads-title"),
        rx.cond(
            ~S.loaded, rx.skeleton(height="240px", width="100%"),
            rx.cond((S.total == 0) & ~S.filtered & (S.filter_error == ""), empty_state(), rx.vstack(
                filters(),
                bulk_bar(),
                rx.cond(S.total > 0, table(), no_match()),
                footer(),
                spacing="3", width="100%")),
        ),
        spacing="5", width="100%", on_unmount=S.stop_watching,
    )
    return app_layout(content, "/leads")
