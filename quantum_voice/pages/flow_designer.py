"""/flows/designer/[campaign_id]: palette, canvas, property panel, simulator, publishing and versions."""

from __future__ import annotations

import reflex as rx

from quantum_voice.components.flow_canvas import flow_canvas, palette_item
from quantum_voice.components import forms
from quantum_voice.components.forms import NATIVE_SELECT_STYLE, field
from quantum_voice.components.layout import app_layout
from quantum_voice.components.listing import icon_bubble
from quantum_voice.services.flows.document import NODE_FORMS, FieldSpec
from quantum_voice.services.flows.node_types import NODE_SPECS
from quantum_voice.states.flow_designer import (
    CanvasState as Canvas,
    ChatLine,
    EdgeRow,
    FactRow,
    FlowDesignerState as Flow,
    HistoryState as History,
    InspectorState as Inspector,
    ProblemRow,
    SimulatorState as Simulator,
    VersionRow,
    VersionsState as Versions,
)
from quantum_voice.states.templates import TemplateOption

DESKTOP = ["none", "none", "flex"]
BAND_COLOURS = (("hot", "red"), ("warm", "amber"), ("cold", "blue"))
PANEL_WIDTH = "320px"
CANVAS_HEIGHT = ["460px", "520px", "calc(100vh - 196px)"]


# ---------------------------------------------------------------- header

def save_indicator() -> rx.Component:
    icon = rx.match(History.save_status, ("saved", rx.icon("cloud-check", size=14)), ("saving", rx.spinner(size="1")),
                    ("error", rx.icon("cloud-alert", size=14)), rx.icon("cloud-upload", size=14))
    return rx.tooltip(rx.hstack(
        icon, rx.text(History.save_label, size="1"),
        id="flow-saved", data_status=History.save_status, align="center", spacing="1", white_space="nowrap",
        color=rx.match(History.save_status, ("error", "var(--red-11)"), ("saved", "var(--gray-11)"), "var(--amber-11)"),
        aria_live="polite",
    ), content="Drafts save as you work. Last saved " + History.saved_at + " (UTC). Callers get the published version.")


def version_badge() -> rx.Component:
    return rx.tooltip(
        rx.badge(
            rx.icon("radio", size=12),
            rx.cond(Versions.published_version > 0,
                    rx.text("Live ", rx.el.span(Versions.version_label, id="flow-version")),
                    rx.el.span("Not published", id="flow-version")),
            color_scheme=rx.cond(Versions.published_version > 0, "green", "gray"), variant="soft", size="2",
        ),
        content=rx.cond(Versions.published_version > 0,
                        "Published " + Versions.published_at + " (UTC). Calls follow this version.",
                        "No version is published yet: calls cannot use this flow."),
    )


def header() -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.hstack(
                rx.link(rx.hstack(rx.icon("chevron-left", size=14), rx.text("Flows", size="1"), spacing="1",
                                  align="center"), href="/flows", color_scheme="gray", underline="hover"),
                rx.text("/", size="1", color_scheme="gray"),
                rx.text(Flow.campaign_name, size="1", color_scheme="gray", trim="both"),
                align="center", spacing="2",
            ),
            rx.hstack(rx.heading(Flow.flow_name, size="5", id="flow-title", trim="both"), version_badge(),
                      rx.cond(Versions.draft_differs & (Versions.published_version > 0),
                              rx.tooltip(rx.badge("Draft changes", color_scheme="amber", variant="soft", size="2",
                                                  id="flow-draft-changes"),
                                         content="The canvas differs from the live version. Publish to use it.")),
                      rx.cond(Flow.problem_count == 0, checks()),
                      align="center", spacing="2", wrap="wrap"),
            spacing="1", min_width="0",
        ),
        rx.spacer(),
        rx.hstack(
            save_indicator(),
            rx.separator(orientation="vertical", size="1"),
            rx.tooltip(rx.icon_button(rx.icon("undo-2", size=16), id="flow-undo", variant="soft", color_scheme="gray",
                                      disabled=~History.can_undo | ~Flow.can_edit, on_click=History.undo,
                                      aria_label="Undo"),
                       content="Undo (Ctrl+Z)"),
            rx.tooltip(rx.icon_button(rx.icon("redo-2", size=16), id="flow-redo", variant="soft", color_scheme="gray",
                                      disabled=~History.can_redo | ~Flow.can_edit, on_click=History.redo,
                                      aria_label="Redo"),
                       content="Redo (Ctrl+Shift+Z)"),
            rx.tooltip(rx.icon_button(rx.icon("history", size=16), id="flow-history", variant="soft",
                                      color_scheme="gray", on_click=Versions.set_history_open(True),
                                      aria_label="Published versions"),
                       content="Published versions and rollback"),
            rx.cond(Flow.can_edit, rx.button(rx.icon("rocket", size=16), "Publish", id="flow-publish",
                                             loading=Versions.publishing, on_click=Versions.publish)),
            align="center", spacing="2", wrap="wrap",
        ),
        align="center", gap="3", wrap="wrap", width="100%",
    )


# ---------------------------------------------------------------- palette and checks

def palette() -> rx.Component:
    items = [palette_item(kind, on_click=Canvas.add_node(kind.value), draggable=Flow.can_edit) for kind in NODE_SPECS]
    return rx.hstack(
        rx.text("Add", size="1", weight="medium", color_scheme="gray", flex="none"),
        *items,
        spacing="2", width="100%", overflow_x="auto", padding_bottom="2px", align="center",
        aria_label="Node palette", role="toolbar",
    )


def problem_item(problem: ProblemRow) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.icon("circle-alert", size=14, color="var(--red-9)", flex="none", margin_top="1px"),
            rx.text(problem.message, size="1"),
            align="start", spacing="2",
        ),
        on_click=rx.cond(problem.node_id != "", Canvas.select_node(problem.node_id), Canvas.clear_selection),
        data_node=problem.node_id,
        cursor=rx.cond(problem.node_id != "", "pointer", "default"),
        padding="4px 6px", border_radius="var(--radius-2)", list_style="none",
        _hover={"background_color": "var(--red-a3)"},
    )


def checks() -> rx.Component:
    """What stops the flow from being published; each problem selects its node."""
    return rx.cond(
        Flow.problem_count > 0,
        rx.box(
            rx.hstack(rx.icon("triangle-alert", size=14, color="var(--red-11)"),
                      rx.text(Flow.problem_count, rx.cond(Flow.problem_count == 1, " problem", " problems"),
                              " to fix before publishing", size="2", weight="medium", color="var(--red-11)"),
                      align="center", spacing="2"),
            rx.el.ul(rx.foreach(Flow.problems, problem_item), id="flow-problems", role="list", margin="4px 0 0 0",
                     padding="0", max_height="112px", overflow_y="auto"),
            padding="8px 10px", width="100%", border_radius="var(--radius-3)",
            border="1px solid var(--red-a6)", background_color="var(--red-a2)",
        ),
        rx.tooltip(rx.badge(rx.icon("circle-check", size=12), "No problems", color_scheme="grass", variant="soft",
                            size="2", id="flow-problems", data_empty="true"),
                   content="Every node is reachable, has a way out and is set up to run."),
    )


# ---------------------------------------------------------------- property panel

def _error(spec: FieldSpec) -> rx.Component:
    return rx.cond(Inspector.field_errors.contains(spec.key),
                   rx.text(Inspector.field_errors[spec.key], size="1", color_scheme="red", role="alert",
                           id=spec.dom_id + "-error"))


def _key(spec: FieldSpec) -> rx.Var:
    return Inspector.selected_node + "-" + spec.key + "-" + Inspector.form_rev.to_string()


def _commit(spec: FieldSpec):
    return lambda value: Inspector.set_field(spec.key, value)


def _options(options: rx.Var, none_label: str) -> list:
    return [rx.el.option(none_label, value=""), rx.foreach(options, lambda o: rx.el.option(o.label, value=o.value))]


def field_control(spec: FieldSpec) -> rx.Component:
    common = {"id": spec.dom_id, "key": _key(spec)}
    text = Inspector.form_text[spec.key]
    if spec.kind == "switch":
        return rx.el.label(
            rx.hstack(rx.switch(checked=Inspector.form_flags[spec.key], on_change=_commit(spec),
                                disabled=~Flow.can_edit, id=spec.dom_id),
                      rx.text(spec.label, size="2"), align="center", spacing="2"),
            html_for=spec.dom_id, cursor="pointer",
        )
    if spec.kind in ("select", "knowledge_base", "variable"):
        if spec.kind == "select":
            choices = [rx.el.option(label, value=value) for value, label in spec.options]
        elif spec.kind == "knowledge_base":
            choices = _options(Inspector.knowledge_bases, "No knowledge base")
        else:
            choices = _options(Inspector.variables, "None")
        control = rx.el.select(*choices, value=text, on_change=_commit(spec), disabled=~Flow.can_edit,
                               style=NATIVE_SELECT_STYLE, **common)
    elif spec.kind in ("textarea", "lines"):
        control = rx.text_area(default_value=text, on_blur=_commit(spec), read_only=~Flow.can_edit, rows="3",
                               resize="vertical", width="100%", **common)
    else:
        number = spec.kind in ("int", "float")
        control = rx.input(default_value=text, on_blur=_commit(spec), read_only=~Flow.can_edit, width="100%",
                           type="number" if number else "text", input_mode="decimal" if number else None,
                           step="0.05" if spec.kind == "float" else None, **common)
    return field(spec.label, control, id=spec.dom_id, hint=spec.hint)


def node_form(node_type: str) -> rx.Component:
    parts = []
    for spec in NODE_FORMS[node_type]:
        hint = rx.text(spec.hint, size="1", color_scheme="gray") if spec.kind == "switch" and spec.hint else None
        parts.append(rx.vstack(field_control(spec), *([hint] if hint else []), _error(spec), spacing="1",
                               width="100%"))
    return rx.vstack(*parts, spacing="4", width="100%")


def node_panel() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.badge(Inspector.selected_type_label, variant="soft", size="2"),
            rx.code(Inspector.selected_node, variant="ghost", size="1", color_scheme="gray"),
            rx.spacer(),
            rx.cond(Flow.can_edit, rx.tooltip(
                rx.icon_button(rx.icon("trash-2", size=15), variant="ghost", color_scheme="red", size="1",
                               on_click=Canvas.delete_selected, aria_label="Delete node", id="node-delete"),
                content="Delete node (Delete key)")),
            align="center", width="100%",
        ),
        rx.cond(Inspector.selected_problem != "",
                rx.callout(Inspector.selected_problem, icon="triangle-alert", color_scheme="red", size="1",
                           width="100%", id="node-problem")),
        field("Title", rx.input(default_value=Inspector.selected_label, on_blur=Inspector.set_label,
                                read_only=~Flow.can_edit, id="prop-label",
                                key=Inspector.selected_node + "-label-" + Inspector.form_rev.to_string(),
                                placeholder="Shown on the canvas", width="100%"), id="prop-label"),
        rx.match(Inspector.selected_type, *[(kind, node_form(kind)) for kind in NODE_FORMS], rx.fragment()),
        spacing="4", width="100%",
    )


def edge_row(row: EdgeRow) -> rx.Component:
    return rx.hstack(
        rx.input(default_value=row.condition, on_blur=lambda v: Inspector.set_condition(row.id, v),
                 read_only=~Flow.can_edit, placeholder="default exit",
                 key=row.id + "-" + Inspector.form_rev.to_string(), id="edge-condition-" + row.id,
                 aria_label="Condition", flex="1", min_width="0", font_family="var(--code-font-family)"),
        rx.cond(Flow.can_edit, rx.icon_button(rx.icon("trash-2", size=14), variant="ghost", color_scheme="red",
                                              size="1", on_click=Canvas.delete_edge(row.id),
                                              aria_label="Delete connection")),
        align="center", width="100%",
    )


def edge_panel() -> rx.Component:
    return rx.vstack(
        rx.badge("Connection", variant="soft", size="2"),
        rx.hstack(rx.text(Inspector.edge_from, size="2", weight="medium"), rx.icon("arrow-right", size=14),
                  rx.text(Inspector.edge_to, size="2", weight="medium"), align="center", spacing="2", wrap="wrap"),
        rx.text("Condition", size="2", weight="medium"),
        rx.foreach(Inspector.edge_rows, edge_row),
        rx.text("Empty: the default exit. ",
                rx.cond(Inspector.edge_outcomes != "",
                        rx.fragment("Outcomes of this node: ", rx.code(Inspector.edge_outcomes), ". ")),
                "Or a test, like ", rx.code("score >= 70"), " or ", rx.code("has phone"), ".",
                size="1", color_scheme="gray"),
        spacing="3", width="100%",
    )


def empty_panel() -> rx.Component:
    return rx.vstack(
        icon_bubble("mouse-pointer-click", 22),
        rx.text("Nothing selected", size="3", weight="bold"),
        rx.text(rx.cond(Flow.can_edit,
                        "Click a node to change what it says and does, or a connection to set its condition. "
                        "Drag new nodes in from the palette and connect them by dragging from a node's bottom "
                        "dot to another node.",
                        "Click a node or a connection to see its settings."),
                size="2", color_scheme="gray"),
        spacing="2", align="start", padding_y="8px",
    )


def properties_tab() -> rx.Component:
    return rx.cond(Inspector.selected_node != "", node_panel(),
                   rx.cond(Inspector.selected_edge != "", edge_panel(), empty_panel()))


# ---------------------------------------------------------------- simulator

def chat_line(line: ChatLine) -> rx.Component:
    caller = line.who == "caller"
    return rx.vstack(
        rx.box(rx.text(line.text, size="2"), padding="8px 12px", max_width="88%",
               border_radius=rx.cond(caller, "14px 14px 4px 14px", "14px 14px 14px 4px"),
               background_color=rx.cond(caller, "var(--accent-9)", "var(--gray-a3)"),
               color=rx.cond(caller, "var(--accent-contrast)", "var(--gray-12)"),
               class_name=rx.cond(caller, "sim-caller", "sim-agent")),
        rx.cond(line.node != "", rx.text(line.node, size="1", color_scheme="gray")),
        align=rx.cond(caller, "end", "start"), spacing="1", width="100%",
    )


def fact(row: FactRow) -> rx.Component:
    return rx.hstack(rx.text(row.label, size="1", color_scheme="gray", width="72px", flex="none"),
                     rx.text(rx.cond(row.value != "", row.value, "—"), size="1", weight="medium",
                             word_break="break-all"),
                     width="100%", align="start")


def lead_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text("Lead so far", size="2", weight="bold"), rx.spacer(),
                      rx.cond(Simulator.sim_band != "",
                              rx.badge(Simulator.sim_band,
                                       color_scheme=rx.match(Simulator.sim_band, *BAND_COLOURS, "gray"),
                                       variant="soft", id="sim-band")),
                      width="100%", align="center"),
            rx.hstack(rx.text("Score", size="1", color_scheme="gray", width="72px", flex="none"),
                      rx.progress(value=Simulator.sim_score, max=100, size="1", flex="1"),
                      rx.text(Simulator.sim_score, size="1", weight="bold", id="sim-score"), width="100%",
                      align="center"),
            rx.vstack(rx.cond(Simulator.sim_facts.length() > 0, rx.foreach(Simulator.sim_facts, fact),
                              rx.text("Nothing captured yet.", size="1", color_scheme="gray")),
                      spacing="2", width="100%", id="sim-facts"),
            rx.cond((Simulator.sim_consent != "yes") & (Simulator.sim_lines.length() > 0),
                    rx.text("Name, email and phone show once the caller agrees to the privacy terms.", size="1",
                            color_scheme="gray")),
            rx.hstack(
                rx.match(Simulator.sim_consent,
                         ("yes", rx.badge(rx.icon("check", size=12), "Consent given", color_scheme="green")),
                         ("no", rx.badge(rx.icon("x", size=12), "Consent declined", color_scheme="red")),
                         rx.badge("No consent yet", color_scheme="gray")),
                rx.cond(Simulator.sim_handoff != "",
                        rx.badge(rx.icon("headset", size=12), "Hand-off: " + Simulator.sim_handoff,
                                 color_scheme="orange", id="sim-handoff")),
                rx.cond(Simulator.sim_ended, rx.badge("Call ended", color_scheme="gray", id="sim-ended")),
                spacing="2", wrap="wrap",
            ),
            spacing="2", width="100%",
        ),
        size="1", width="100%", id="sim-lead",
    )


def simulator_tab() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Type as the caller to try the flow on this canvas. Test leads are kept apart from real ones.",
                    size="1", color_scheme="gray"),
            rx.tooltip(rx.icon_button(rx.icon("rotate-ccw", size=14), variant="soft", color_scheme="gray", size="1",
                                      on_click=Simulator.sim_restart, aria_label="Restart the conversation",
                                      id="sim-restart"), content="Start over"),
            align="start", width="100%",
        ),
        rx.box(
            rx.cond(Simulator.sim_lines.length() > 0,
                    rx.vstack(rx.foreach(Simulator.sim_lines, chat_line), spacing="3", width="100%"),
                    rx.vstack(rx.text("Start the call to hear the greeting, or just say something.", size="1",
                                      color_scheme="gray"),
                              rx.button(rx.icon("phone-call", size=14), "Start the call", size="1", variant="soft",
                                        on_click=Simulator.sim_start, loading=Simulator.sim_running, id="sim-start",
                                        disabled=~Flow.can_edit),
                              align="center", justify="center", height="100%", spacing="3")),
            id="sim-transcript", aria_live="polite", role="log",
            height=["300px", "300px", "calc(100vh - 560px)"], min_height="200px", overflow_y="auto", width="100%",
            padding="12px", border="1px solid var(--gray-a5)", border_radius="var(--radius-3)",
            background_color="var(--gray-a2)",
        ),
        rx.cond(Simulator.sim_error != "", rx.callout(Simulator.sim_error, icon="triangle-alert", color_scheme="red",
                                                      size="1", width="100%")),
        rx.cond(~Flow.can_edit, rx.callout("Owners, admins and managers can run test calls.", icon="lock",
                                           color_scheme="gray", size="1", width="100%")),
        rx.form(
            rx.hstack(
                rx.input(name="message", id="sim-input", placeholder="Say something as the caller…",
                         aria_label="Caller's message", auto_complete="off", width="100%", size="2",
                         disabled=Simulator.sim_ended | ~Flow.can_edit),
                rx.icon_button(rx.icon("send-horizontal", size=16), id="sim-send", type="submit",
                               loading=Simulator.sim_running, disabled=Simulator.sim_ended | ~Flow.can_edit,
                               aria_label="Send"),
                width="100%", spacing="2",
            ),
            on_submit=Simulator.sim_send, reset_on_submit=True, width="100%",
        ),
        lead_card(),
        spacing="3", width="100%",
    )


def side_panel() -> rx.Component:
    return rx.tabs.root(
        rx.tabs.list(
            rx.tabs.trigger(rx.icon("sliders-horizontal", size=14), "Properties", value="properties",
                            id="tab-properties"),
            rx.tabs.trigger(rx.icon("messages-square", size=14), "Simulator", value="simulator", id="tab-simulator"),
            size="2",
        ),
        rx.tabs.content(rx.box(properties_tab(), padding_top="16px"), value="properties"),
        rx.tabs.content(rx.box(simulator_tab(), padding_top="16px"), value="simulator"),
        value=Inspector.panel_tab, on_change=Inspector.set_panel_tab,
        width=["100%", "100%", PANEL_WIDTH], min_width=["0", "0", PANEL_WIDTH],
        max_height=["none", "none", "calc(100vh - 150px)"], overflow_y="auto", padding_right="2px",
    )


# ---------------------------------------------------------------- versions

def version_row(row: VersionRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.hstack(rx.text("v", row.version, weight="bold"),
                                           rx.cond(row.live, rx.badge("Live", color_scheme="green", variant="soft")),
                                           align="center", spacing="2")),
        rx.table.cell(row.published, white_space="nowrap"),
        rx.table.cell(rx.cond(row.by != "", row.by, "—")),
        rx.table.cell(row.node_count),
        rx.table.cell(rx.cond(Flow.can_edit & ~row.live,
                              rx.button("Roll back", size="1", variant="soft",
                                        on_click=Versions.ask_rollback(row.version),
                                        id="rollback-" + row.version.to_string()))),
        align="center",
    )


def versions_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Published versions"),
            rx.dialog.description("Each publish is kept as it was. Rolling back makes an older version live again "
                                  "and puts it back on the canvas as the draft.", size="2", margin_bottom="16px"),
            rx.cond(
                Versions.versions.length() > 0,
                rx.box(rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                   ("Version", "Published (UTC)", "By", "Nodes", "")])),
                    rx.table.body(rx.foreach(Versions.versions, version_row)),
                    variant="surface", size="1", width="100%"), overflow_x="auto", max_height="50vh",
                    overflow_y="auto", id="flow-versions"),
                rx.text("Nothing published yet. Publish the flow to make it what callers get.", size="2",
                        color_scheme="gray"),
            ),
            rx.flex(rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")), justify="end",
                    margin_top="16px"),
            max_width="640px",
        ),
        open=Versions.history_open, on_open_change=Versions.set_history_open,
    )


def rollback_dialog() -> rx.Component:
    version = Versions.rollback_version.to_string()
    return forms.confirm_dialog(
        title="Roll back to version " + version + "?",
        text="New calls follow version " + version + " at once. The canvas is replaced with it; your current "
             "draft can be brought back with Undo.",
        action_label="Roll back", on_confirm=Versions.rollback, open_=Versions.rollback_open,
        on_open_change=Versions.set_rollback_open, action_id="rollback-confirm", max_width="440px")


# ---------------------------------------------------------------- the page

def canvas() -> rx.Component:
    return rx.box(
        flow_canvas(nodes=Canvas.nodes, edges=Canvas.edges, editable=Flow.can_edit,
                    on_nodes_change=Canvas.nodes_change, on_edges_change=Canvas.edges_change,
                    on_connect=Canvas.connect, on_drop=Canvas.drop_node.prevent_default, height=CANVAS_HEIGHT),
        rx.cond(~Flow.can_edit, rx.badge(rx.icon("eye", size=12), "Read-only", variant="surface", color_scheme="gray",
                                         position="absolute", top="10px", left="10px", z_index="5")),
        position="relative", width="100%",
        border="1px solid var(--gray-a5)", border_radius="var(--radius-4)", overflow="hidden",
        background_color="var(--gray-2)",
    )


def workspace() -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.cond(Flow.can_edit, palette()),
            rx.cond(Flow.problem_count > 0, checks()),
            canvas(),
            spacing="3", flex="1", min_width="0", width="100%",
        ),
        side_panel(),
        direction=rx.breakpoints(initial="column", md="row"), gap="4", width="100%", align="start",
    )


def missing() -> rx.Component:
    return rx.callout(Flow.missing, icon="triangle-alert", color_scheme="red", width="100%", id="flow-missing")


def template_card(template: TemplateOption) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(template.name, size="3", weight="bold"),
            rx.text(template.description, size="2", color_scheme="gray"),
            rx.spacer(),
            rx.button("Start from this template", size="2", variant="soft", disabled=~Flow.can_edit,
                      on_click=Flow.create_from_template(template.key), id="template-" + template.key),
            spacing="3", align="start", height="100%",
        ),
        size="2",
    )


def no_flow() -> rx.Component:
    return rx.vstack(
        rx.heading("Give this campaign a flow", size="6"),
        rx.text("Pick a starting point. Every template is a working flow you can change on the canvas, try in the "
                "simulator and publish.", size="2", color_scheme="gray"),
        rx.cond(~Flow.can_edit, rx.callout("Owners, admins and managers can create the flow.", icon="eye",
                                           color_scheme="gray", size="1")),
        rx.grid(rx.foreach(Flow.templates, template_card), columns=rx.breakpoints(initial="1", md="3"), spacing="4",
                width="100%"),
        spacing="4", width="100%", max_width="1100px", id="flow-templates",
    )


def flow_designer_page() -> rx.Component:
    content = rx.vstack(
        rx.cond(
            Flow.missing != "",
            missing(),
            rx.cond(Flow.no_flow, no_flow(),
            rx.cond(
                Flow.loaded,
                rx.vstack(
                    header(),
                    rx.cond(~Flow.can_edit, rx.callout(
                        "You can look at this flow and its settings. Owners, admins and managers can change, test "
                        "and publish it.", icon="eye", color_scheme="gray", size="1", width="100%")),
                    workspace(), versions_dialog(), rollback_dialog(),
                    spacing="4", width="100%",
                ),
                rx.vstack(rx.skeleton(height="44px", width="40%"), rx.skeleton(height="560px", width="100%"),
                          spacing="4", width="100%"),
            )),
        ),
        width="100%",
    )
    return app_layout(content, "/flows", wide=True)
