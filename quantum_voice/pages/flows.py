"""/flows: every campaign's conversation flow, with what is live and what is still a draft."""

import reflex as rx

from quantum_voice.components.listing import icon_bubble, pager

from quantum_voice.components.forms import NATIVE_SELECT_STYLE
from quantum_voice.components.layout import app_layout, page_header
from quantum_voice.states.flows import FlowRow, FlowsState as S

WIDE_ONLY = ["none", "none", "table-cell"]
PHONE_ONLY = ["flex", "flex", "none"]
STATUS_COLOURS = (("live", "green"), ("draft", "gray"), ("paused", "amber"), ("archived", "gray"))


def sort_header(label: str, column: str, **props) -> rx.Component:
    return rx.table.column_header_cell(
        rx.button(label, rx.cond(S.sort_by == column, rx.icon("arrow-down-narrow-wide", size=12)),
                  variant="ghost", color_scheme="gray", size="1", on_click=S.sort(column),
                  aria_label=f"Sort by {label.lower()}", high_contrast=True),
        aria_sort=rx.cond(S.sort_by == column, "ascending" if column in ("campaign", "flow") else "descending",
                          "none"),
        **props,
    )


def flow_state(row: FlowRow) -> rx.Component:
    return rx.hstack(
        rx.cond(row.version > 0,
                rx.badge(rx.icon("radio", size=12), "Live v", row.version, color_scheme="green", variant="soft"),
                rx.badge("Not published", color_scheme="gray", variant="soft")),
        rx.cond(row.pending & (row.version > 0), rx.badge("Draft changes", color_scheme="amber", variant="soft")),
        rx.cond(row.problems > 0, rx.badge(rx.icon("circle-alert", size=12), row.problems, color_scheme="red",
                                           variant="soft")),
        spacing="2", wrap="wrap",
    )


def flow_row(row: FlowRow) -> rx.Component:
    href = "/flows/designer/" + row.campaign_id.to_string()
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(
            rx.text(row.campaign, weight="medium"),
            rx.badge(row.campaign_status, variant="outline", size="1",
                     color_scheme=rx.match(row.campaign_status, *STATUS_COLOURS, "gray")),
            rx.box(rx.cond(row.has_flow, flow_state(row), rx.text("No flow yet", size="1", color_scheme="gray")),
                   display=PHONE_ONLY),
            spacing="1", align="start",
        )),
        rx.table.cell(rx.cond(row.has_flow, rx.vstack(
            rx.text(row.flow, size="2"),
            rx.text(rx.cond(row.template != "", row.template + " · ", ""), row.nodes, " nodes", size="1",
                    color_scheme="gray"),
            spacing="1"), rx.text("No flow yet", size="2", color_scheme="gray")), display=WIDE_ONLY),
        rx.table.cell(rx.cond(row.has_flow, flow_state(row)), display=WIDE_ONLY),
        rx.table.cell(row.updated, white_space="nowrap", display=WIDE_ONLY),
        rx.table.cell(rx.button(
            rx.link(rx.cond(row.has_flow, rx.icon("workflow", size=14), rx.icon("plus", size=14)),
                    rx.cond(row.has_flow, "Open designer", "Create flow"), href=href, underline="none",
                    id="open-designer-" + row.campaign_id.to_string(), aria_label="Open designer for " + row.campaign),
            as_child=True, size="1", variant="soft", white_space="nowrap"), text_align="right"),
        align="center",
    )


def filters() -> rx.Component:
    return rx.flex(
        rx.input(rx.input.slot(rx.icon("search", size=14)), placeholder="Search campaigns and flows",
                 value=S.query, on_change=S.set_query.debounce(250), aria_label="Search", width="100%",
                 max_width=["100%", "320px"]),
        rx.el.select(
            rx.el.option("All flows", value="all"), rx.el.option("Live", value="live"),
            rx.el.option("Not published", value="unpublished"), rx.el.option("With draft changes", value="changes"),
            value=S.status_filter, on_change=S.set_status_filter, aria_label="Filter by state",
            style={**NATIVE_SELECT_STYLE, "width": "200px"},
        ),
        gap="3", wrap="wrap", width="100%", align="center",
    )


def table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(
                sort_header("Campaign", "campaign"),
                sort_header("Flow", "flow", display=WIDE_ONLY),
                sort_header("State", "version", display=WIDE_ONLY),
                sort_header("Last edited (UTC)", "updated", display=WIDE_ONLY),
                rx.table.column_header_cell(""),
            )),
            rx.table.body(rx.foreach(S.visible, flow_row)),
            variant="surface", size="2", width="100%",
        ),
        overflow_x="auto", width="100%", id="flows-table",
    )


def empty_state() -> rx.Component:
    return rx.card(
        rx.vstack(
            icon_bubble("workflow"),
            rx.heading("No campaigns yet", size="4"),
            rx.text("A flow is what the AI agent does on a call: greet, take the caller's details and consent, "
                    "answer from your documents and hand over to your team. Each campaign has one. Create a "
                    "campaign to design its flow here.", size="2", color_scheme="gray", max_width="560px"),
            spacing="3", align="start",
        ),
        size="3", width="100%", id="flows-empty",
    )


def no_match() -> rx.Component:
    return rx.text("No flow matches these filters.", size="2", color_scheme="gray", padding="16px 0")


def flows_page() -> rx.Component:
    content = rx.vstack(
        page_header("Flows", "What your AI agent says and does on each campaign's calls. Design, test and "
                             "publish them here.", title_id="flows-title"),
        rx.cond(
            ~S.loaded, rx.skeleton(height="200px", width="100%"),
            rx.cond(S.rows.length() == 0, empty_state(), rx.vstack(
                filters(), rx.cond(S.filtered.length() > 0, table(), no_match()), pager(S),
                spacing="3", width="100%")),
        ),
        spacing="5", width="100%",
    )
    return app_layout(content, "/flows")
