"""/campaigns: every campaign of the organisation, and the dialog that creates one from a flow template."""

import reflex as rx

from quantum_voice.components.listing import icon_bubble, pager

from quantum_voice.components.campaigns import status_badge
from quantum_voice.components.forms import NATIVE_SELECT_STYLE, field, form_alert, text_input
from quantum_voice.components.layout import app_layout, page_header
from quantum_voice.states.campaigns import CampaignRow, CampaignsState as S, KnowledgeOption
from quantum_voice.states.templates import TemplateOption

WIDE_ONLY = ["none", "none", "table-cell"]
PHONE_ONLY = ["flex", "flex", "none"]
ASCENDING = ("name", "status")


def sort_header(label: str, column: str, **props) -> rx.Component:
    return rx.table.column_header_cell(
        rx.button(label, rx.cond(S.sort_by == column, rx.icon("arrow-down-narrow-wide", size=12)),
                  variant="ghost", color_scheme="gray", size="1", on_click=S.sort(column),
                  aria_label=f"Sort by {label.lower()}", high_contrast=True),
        aria_sort=rx.cond(S.sort_by == column, "ascending" if column in ASCENDING else "descending", "none"),
        **props,
    )


def version_badge(row: CampaignRow) -> rx.Component:
    return rx.cond(row.version > 0,
                   rx.badge(rx.icon("radio", size=12), "v", row.version, color_scheme="green", variant="soft"),
                   rx.badge("Not published", color_scheme="gray", variant="soft"))


def campaign_row(row: CampaignRow) -> rx.Component:
    href = "/campaigns/" + row.id.to_string()
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(
            rx.link(row.name, href=href, weight="medium", high_contrast=True),
            rx.cond(row.template != "", rx.text(row.template, size="1", color_scheme="gray")),
            rx.hstack(status_badge(row.status), version_badge(row), spacing="2", display=PHONE_ONLY),
            spacing="1", align="start",
        )),
        rx.table.cell(status_badge(row.status), display=WIDE_ONLY),
        rx.table.cell(version_badge(row), display=WIDE_ONLY),
        rx.table.cell(row.created, white_space="nowrap", display=WIDE_ONLY),
        rx.table.cell(rx.button(
            rx.link(rx.icon("arrow-right", size=14), "Open", href=href, underline="none",
                    id="open-campaign-" + row.id.to_string(), aria_label="Open " + row.name),
            as_child=True, size="1", variant="soft", white_space="nowrap"), text_align="right"),
        align="center", class_name="campaign-row",
    )


def filters() -> rx.Component:
    return rx.flex(
        rx.input(rx.input.slot(rx.icon("search", size=14)), placeholder="Search campaigns",
                 value=S.query, on_change=S.set_query.debounce(250), aria_label="Search campaigns", width="100%",
                 max_width=["100%", "320px"], id="campaigns-search"),
        rx.el.select(
            rx.el.option("All statuses", value="all"), rx.el.option("Live", value="live"),
            rx.el.option("Draft", value="draft"), rx.el.option("Paused", value="paused"),
            value=S.status_filter, on_change=S.set_status_filter, aria_label="Filter by status",
            id="campaigns-status-filter", style={**NATIVE_SELECT_STYLE, "width": "180px"},
        ),
        gap="3", wrap="wrap", width="100%", align="center",
    )


def table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(
                sort_header("Campaign", "name"),
                sort_header("Status", "status", display=WIDE_ONLY),
                sort_header("Published flow", "version", display=WIDE_ONLY),
                sort_header("Created (UTC)", "created", display=WIDE_ONLY),
                rx.table.column_header_cell(""),
            )),
            rx.table.body(rx.foreach(S.visible, campaign_row)),
            variant="surface", size="2", width="100%",
        ),
        overflow_x="auto", width="100%", id="campaigns-table",
    )


def new_button(id: str) -> rx.Component:
    return rx.button(rx.icon("plus", size=16), "New campaign", id=id, size="2", on_click=S.open_create)


def empty_state() -> rx.Component:
    return rx.card(
        rx.vstack(
            icon_bubble("megaphone"),
            rx.heading("No campaigns yet", size="4"),
            rx.text("A campaign is one call line for one purpose — an open house, a flyer drop, your website. It "
                    "has its own conversation flow, knowledge base, call link, QR codes and website button, and "
                    "every call and lead it brings in is counted under it.", size="2", color_scheme="gray",
                    max_width="560px"),
            rx.cond(S.can_edit, new_button("campaigns-empty-new"),
                    rx.text("Owners, admins and managers can create campaigns.", size="2", color_scheme="gray")),
            spacing="3", align="start",
        ),
        size="3", width="100%", id="campaigns-empty",
    )


def no_match() -> rx.Component:
    return rx.text("No campaign matches these filters.", size="2", color_scheme="gray", padding="16px 0",
                   id="campaigns-no-match")


# ---------------------------------------------------------------- the "New campaign" dialog

def template_card(template: TemplateOption) -> rx.Component:
    return rx.radio_cards.item(
        rx.vstack(rx.text(template.name, size="2", weight="bold"),
                  rx.text(template.description, size="1", color_scheme="gray"),
                  spacing="1", align="start", width="100%"),
        value=template.key, id="template-" + template.key, align_items="start",
    )


def template_picker() -> rx.Component:
    return rx.vstack(
        rx.text("Flow template", size="2", weight="medium", id="new-campaign-template-label"),
        rx.radio_cards.root(rx.foreach(S.templates, template_card), value=S.new_template,
                            on_value_change=S.set_new_template, columns=rx.breakpoints(initial="1", sm="3"),
                            gap="2", width="100%", aria_labelledby="new-campaign-template-label"),
        rx.text("What the AI agent does on calls. You can change it in the flow designer; it is published at once, "
                "so the campaign can take calls when you take it live.", size="1", color_scheme="gray"),
        rx.cond(S.error_field == "template", rx.text(S.error, size="1", color_scheme="red", role="alert")),
        spacing="1", width="100%",
    )


def knowledge_option(kb: KnowledgeOption) -> rx.Component:
    return rx.el.option(kb.label, value=kb.value)


def create_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New campaign"),
            rx.dialog.description("One call line with its own flow, knowledge base, call link and QR codes.",
                                  size="2", margin_bottom="16px"),
            rx.form(
                rx.vstack(
                    text_input("Name", id="new-campaign-name", name="name", state=S, required=True,
                               placeholder="Spring Open House", auto_focus=True),
                    field("Description", rx.text_area(id="new-campaign-description", name="description",
                                                      placeholder="What callers ask about", rows="2",
                                                      width="100%"),
                          id="new-campaign-description", state=S, name="description"),
                    text_input("Target audience", id="new-campaign-audience", name="target_audience", state=S,
                               placeholder="First-time buyers in the harbour district"),
                    template_picker(),
                    field("Knowledge base",
                          rx.el.select(rx.el.option("A new empty one", value=""),
                                       rx.foreach(S.knowledge_bases, knowledge_option),
                                       id="new-campaign-kb", name="knowledge_base_id", default_value="",
                                       style=NATIVE_SELECT_STYLE),
                          id="new-campaign-kb", state=S, name="knowledge_base_id",
                          hint="Where the agent finds its answers. Add documents to it on the Knowledge page."),
                    form_alert(S),
                    rx.flex(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Create campaign", id="new-campaign-submit", type="submit"),
                        spacing="3", justify="end", width="100%",
                    ),
                    spacing="4", width="100%",
                ),
                on_submit=S.create, reset_on_submit=False, width="100%",
            ),
            max_width="640px",
        ),
        open=S.create_open,
        on_open_change=S.set_create_open,
    )


def campaigns_page() -> rx.Component:
    content = rx.vstack(
        page_header("Campaigns", "Each campaign is a call line: its flow, knowledge, call link, QR codes and "
                                 "website button.", rx.cond(S.can_edit, new_button("campaign-new")),
                    title_id="campaigns-title"),
        rx.cond(
            ~S.loaded, rx.skeleton(height="200px", width="100%"),
            rx.cond(S.rows.length() == 0, empty_state(), rx.vstack(
                filters(), rx.cond(S.filtered.length() > 0, table(), no_match()), pager(S),
                spacing="3", width="100%")),
        ),
        rx.cond(S.can_edit, create_dialog()),
        spacing="5", width="100%",
    )
    return app_layout(content, "/campaigns")
