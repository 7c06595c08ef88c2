"""The flow canvas: Reflex wrappers around @xyflow/react (React Flow 12).

The canvas is controlled from Python: ``nodes`` and ``edges`` are state vars, and every change the canvas
proposes (a drag, a selection, a deletion, a new connection) arrives as an event that the state applies
and sends back. Nodes render with one custom node type (``qv``) that shows the node's kind, title, a
one-line summary of its settings, its validation problem (red outline) and whether the simulator is on it.
Each kind's label, colour, icon and handles come from ``NODE_SPECS`` (services/flows/node_types.py), injected
into the JavaScript below as JSON.

Node data the custom node reads: ``{"kind": <node type>, "title": str, "summary": str, "problem": str,
"active": bool}``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import reflex as rx
from reflex.event import passthrough_event_spec

from quantum_voice.services.flows.node_types import CANVAS_NODE_TYPE, NODE_SPECS, NodeType

XYFLOW = "@xyflow/react@12.12.1"
DRAG_MIME = "application/x-qv-node"  # what a palette item carries while dragged

# The node-type table as the canvas reads it: ``{node type: {label, colour, icon, has_entry, has_exits, ...}}``.
CANVAS_KINDS = {node_type.value: asdict(spec) for node_type, spec in NODE_SPECS.items()}


def lucide_export(icon: str) -> str:
    """The lucide-react component behind an ``rx.icon`` name: "book-open-text" -> "BookOpenText"."""
    return "".join(part.capitalize() for part in icon.split("-"))


# Each icon the table names, imported under a prefixed alias (the module shares its scope with Reflex's code).
_ICONS = sorted({spec.icon for spec in NODE_SPECS.values()})
_ICON_IMPORTS = ", ".join(f"{lucide_export(icon)} as QvIcon{lucide_export(icon)}" for icon in _ICONS)
_ICON_MAP = ", ".join(f"{json.dumps(icon)}: QvIcon{lucide_export(icon)}" for icon in _ICONS)

# Module-level JavaScript shipped with the canvas. It defines the custom node (plain createElement, no JSX),
# and three small browser hooks that do not need a server round trip: the palette's drag payload, letting the
# canvas accept a drop, and Ctrl/Cmd+Z / Ctrl+Y / Ctrl+Shift+Z pressing the undo and redo buttons.
_CUSTOM_CODE = (r"""
import '@xyflow/react/dist/style.css';
import { Handle as QvHandle, Position as QvPosition } from '@xyflow/react';
import { createElement as qvEl, memo as qvMemo } from 'react';
import { __QV_ICON_IMPORTS__, TriangleAlert as QvAlert } from 'lucide-react';

const QV_KINDS = __QV_KINDS__;
const QV_ICONS = { __QV_ICON_MAP__ };

const qvHandleStyle = (color) => ({
  width: 12, height: 12, border: '2px solid var(--color-panel-solid)', background: `var(--${color}-9)`,
});

function QvFlowNodeView({ id, data, selected }) {
  const kind = QV_KINDS[data.kind] || QV_KINDS.end;
  const invalid = !!data.problem;
  const active = !!data.active;
  const ring = invalid ? 'var(--red-9)' : active ? 'var(--grass-9)' : selected ? 'var(--accent-9)' : 'var(--gray-a6)';
  const glow = invalid ? '0 0 0 3px var(--red-a5)' : active ? '0 0 0 4px var(--grass-a5)'
    : selected ? '0 0 0 3px var(--accent-a5)' : '0 1px 2px var(--black-a3), 0 2px 8px var(--black-a2)';
  return qvEl('div', {
      className: 'qv-node', 'data-kind': data.kind, 'data-invalid': invalid ? 'true' : 'false',
      'data-active': active ? 'true' : 'false',
      title: invalid ? data.problem : undefined,
      style: { width: 230, borderRadius: 10, border: `1.5px solid ${ring}`, boxShadow: glow,
               background: 'var(--color-panel-solid)', color: 'var(--gray-12)',
               fontFamily: 'var(--default-font-family)',
               overflow: 'hidden', transition: 'box-shadow 120ms, border-color 120ms' } },
    kind.has_entry && qvEl(QvHandle, { type: 'target', position: QvPosition.Top,
                                       style: qvHandleStyle('gray') }),
    qvEl('div', { style: { display: 'flex', gap: 10, alignItems: 'center', padding: '10px 12px',
                           borderBottom: (data.summary || invalid) ? '1px solid var(--gray-a4)' : 'none' } },
      qvEl('div', { style: { width: 30, height: 30, flex: 'none', borderRadius: 8, display: 'grid',
                             placeItems: 'center',
                             background: `var(--${kind.colour}-a3)`, color: `var(--${kind.colour}-11)` } },
        qvEl(QV_ICONS[kind.icon], { size: 17, strokeWidth: 2 })),
      qvEl('div', { style: { minWidth: 0, flex: 1 } },
        qvEl('div', { style: { fontSize: 11, fontWeight: 600, letterSpacing: '0.04em', textTransform: 'uppercase',
                               color: `var(--${kind.colour}-11)` } }, kind.label),
        qvEl('div', { style: { fontSize: 13, fontWeight: 600, whiteSpace: 'nowrap', overflow: 'hidden',
                               textOverflow: 'ellipsis' } }, data.title || id)),
      active && qvEl('span', { style: { width: 8, height: 8, borderRadius: 99, background: 'var(--grass-9)',
                                        boxShadow: '0 0 0 3px var(--grass-a4)' }, 'aria-label': 'Simulator is here' })),
    data.summary && qvEl('div', { style: { padding: '7px 12px 9px', fontSize: 12, lineHeight: '17px',
                                          color: 'var(--gray-11)' } },
      qvEl('div', { className: 'qv-summary', style: { maxHeight: 34 } }, data.summary)),
    invalid && qvEl('div', { className: 'qv-node-problem', role: 'alert',
                             style: { display: 'flex', gap: 6, padding: '7px 12px', fontSize: 12, lineHeight: 1.35,
                                      background: 'var(--red-a3)', color: 'var(--red-11)' } },
      qvEl(QvAlert, { size: 14, style: { flex: 'none', marginTop: 1 } }),
      qvEl('span', { className: 'qv-problem-text' }, data.problem)),
    kind.has_exits && qvEl(QvHandle, { type: 'source', position: QvPosition.Bottom,
                                       style: qvHandleStyle(kind.colour) }));
}

const QvFlowNode = qvMemo(QvFlowNodeView);
const QV_CSS = `
.react-flow__minimap { width: 150px; height: 100px; border-radius: 8px; overflow: hidden;
  border: 1px solid var(--gray-a5); box-shadow: none; }
.react-flow__minimap svg { width: 150px; height: 100px; }
.react-flow__controls { border-radius: 8px; overflow: hidden; box-shadow: 0 1px 3px var(--black-a3); }
.react-flow__edge.selected .react-flow__edge-path {
  stroke: var(--accent-9) !important; stroke-width: 2.5px !important; }
.react-flow__handle:hover { box-shadow: 0 0 0 4px var(--accent-a5); }
.react-flow__attribution { background: transparent; }
@media (max-width: 768px) { .react-flow__minimap { display: none; } }
.qv-summary { display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
.qv-problem-text { display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
`;
if (typeof window !== 'undefined') {
  if (!document.getElementById('qv-flow-css')) {
    const tag = document.createElement('style');
    tag.id = 'qv-flow-css';
    tag.textContent = QV_CSS;
    document.head.appendChild(tag);
  }
  window.__qvNodeTypes = window.__qvNodeTypes || { [__QV_NODE_TYPE__]: QvFlowNode };
  window.__qvFlowPosition = (e) => {
    const flow = window.__qvFlow;
    return flow ? flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }) : { x: 0, y: 0 };
  };
  if (!window.__qvCanvasListeners) {
    window.__qvCanvasListeners = true;
    document.addEventListener('dragstart', (e) => {
      const item = e.target instanceof Element ? e.target.closest('[data-qv-node-type]') : null;
      if (!item) return;
      e.dataTransfer.setData('__QV_MIME__', item.getAttribute('data-qv-node-type'));
      e.dataTransfer.effectAllowed = 'copy';
    });
    document.addEventListener('dragover', (e) => {
      if (e.target instanceof Element && e.target.closest('.react-flow') &&
          Array.from(e.dataTransfer?.types || []).includes('__QV_MIME__')) {
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
      }
    });
    document.addEventListener('keydown', (e) => {
      if (!(e.ctrlKey || e.metaKey) || e.altKey) return;
      const t = e.target;
      if (t instanceof Element && (t.closest('input, textarea, select, [contenteditable="true"]'))) return;
      const key = e.key.toLowerCase();
      const which = key === 'z' ? (e.shiftKey ? 'flow-redo' : 'flow-undo') : key === 'y' ? 'flow-redo' : null;
      const button = which && document.getElementById(which);
      if (button && !button.disabled) { e.preventDefault(); button.click(); }
    });
  }
}
""".replace("__QV_MIME__", DRAG_MIME)
                .replace("__QV_KINDS__", json.dumps(CANVAS_KINDS))
                .replace("__QV_ICON_IMPORTS__", _ICON_IMPORTS)
                .replace("__QV_ICON_MAP__", _ICON_MAP)
                .replace("__QV_NODE_TYPE__", json.dumps(CANVAS_NODE_TYPE)))


def _drop_spec(event: rx.Var) -> tuple[rx.Var[str], rx.Var[dict[str, float]]]:
    """A drop on the canvas: the node type the palette item carried and where it landed, in flow coordinates."""
    return (
        rx.Var(f"({event}?.dataTransfer?.getData('{DRAG_MIME}') ?? '')", _var_type=str),
        rx.Var(f"window.__qvFlowPosition({event})", _var_type=dict[str, float]),
    )


class FlowLibrary(rx.NoSSRComponent):
    """Everything from @xyflow/react. Loaded in the browser only: React Flow measures the DOM."""

    library = XYFLOW
    is_default = False

    def _get_custom_code(self) -> str:
        return _CUSTOM_CODE


class ReactFlow(FlowLibrary):
    tag = "ReactFlow"

    nodes: rx.Var[list[dict[str, Any]]]
    edges: rx.Var[list[dict[str, Any]]]
    node_types: rx.Var[dict[str, Any]]
    default_edge_options: rx.Var[dict[str, Any]]
    fit_view: rx.Var[bool]
    fit_view_options: rx.Var[dict[str, Any]]
    min_zoom: rx.Var[float]
    max_zoom: rx.Var[float]
    snap_to_grid: rx.Var[bool]
    snap_grid: rx.Var[list[int]]
    nodes_draggable: rx.Var[bool]
    nodes_connectable: rx.Var[bool]
    elements_selectable: rx.Var[bool]
    delete_key_code: rx.Var[Any]
    color_mode: rx.Var[str]
    pro_options: rx.Var[dict[str, Any]]
    on_init: rx.Var[Any]  # a plain JS callback: keeps the instance for screen → flow coordinates

    on_nodes_change: rx.EventHandler[passthrough_event_spec(list[dict[str, Any]])]
    on_edges_change: rx.EventHandler[passthrough_event_spec(list[dict[str, Any]])]
    on_connect: rx.EventHandler[passthrough_event_spec(dict[str, Any])]
    on_drop: rx.EventHandler[_drop_spec]


class Background(FlowLibrary):
    tag = "Background"

    variant: rx.Var[str]  # dots | lines | cross
    gap: rx.Var[int]
    size: rx.Var[float]
    color: rx.Var[str]


class Controls(FlowLibrary):
    tag = "Controls"

    show_interactive: rx.Var[bool]
    position: rx.Var[str]


class MiniMap(FlowLibrary):
    tag = "MiniMap"

    pannable: rx.Var[bool]
    zoomable: rx.Var[bool]
    position: rx.Var[str]
    node_color: rx.Var[Any]
    node_stroke_width: rx.Var[int]
    mask_color: rx.Var[str]


_KEEP_INSTANCE = rx.Var("((instance) => { window.__qvFlow = instance; })")
_MINIMAP_COLOURS = {kind: f"var(--{spec['colour']}-9)" for kind, spec in CANVAS_KINDS.items()}
_NODE_COLOURS = rx.Var(f"((n) => ({json.dumps(_MINIMAP_COLOURS)})[n.data?.kind] ?? 'var(--gray-9)')")


def flow_canvas(*, nodes: rx.Var, edges: rx.Var, editable: rx.Var | bool, on_nodes_change, on_edges_change,
                on_connect, on_drop, height: str | list[str] = "640px", **props: Any) -> rx.Component:
    """The canvas inside a box of explicit height (React Flow fills its parent and needs one)."""
    canvas = ReactFlow.create(
        Background.create(variant="dots", gap=18, size=1.2, color="var(--gray-a6)"),
        Controls.create(show_interactive=False, position="bottom-left"),
        MiniMap.create(pannable=True, zoomable=True, position="top-right", node_color=_NODE_COLOURS,
                       node_stroke_width=2, mask_color="var(--gray-a3)"),
        nodes=nodes,
        edges=edges,
        node_types=rx.Var("window.__qvNodeTypes"),
        default_edge_options={"type": "smoothstep", "markerEnd": {"type": "arrowclosed"}},
        fit_view=True,
        fit_view_options={"padding": 0.2, "maxZoom": 1},
        min_zoom=0.2,
        max_zoom=2.0,
        snap_to_grid=True,
        snap_grid=[6, 6],
        nodes_draggable=editable,
        nodes_connectable=editable,
        elements_selectable=True,
        delete_key_code=rx.cond(editable, rx.Var.create(["Backspace", "Delete"]), rx.Var("null")),
        color_mode=rx.color_mode_cond("light", "dark"),
        on_init=_KEEP_INSTANCE,
        on_nodes_change=on_nodes_change,
        on_edges_change=on_edges_change,
        on_connect=on_connect,
        on_drop=on_drop,
    )
    props.setdefault("id", "flow-canvas")
    return rx.box(canvas, height=height, width="100%", position="relative", **props)


def palette_item(node_type: NodeType, *, on_click, draggable: rx.Var | bool = True) -> rx.Component:
    """A node type to drag onto the canvas (or click to add it beside the selected node)."""
    spec = NODE_SPECS[node_type]
    label, icon, colour, description = spec.label, spec.icon, spec.colour, spec.description
    return rx.tooltip(
        rx.hstack(
            rx.center(rx.icon(icon, size=13), width="22px", height="22px", flex="none",
                      border_radius="var(--radius-2)", background_color=f"var(--{colour}-a3)",
                      color=f"var(--{colour}-11)"),
            rx.text(label, size="1", weight="medium", white_space="nowrap"),
            id=f"palette-{node_type.value}",
            custom_attrs={"data-qv-node-type": node_type.value},
            draggable=draggable,
            role="button",
            tab_index=0,
            aria_label=f"Add a {label} node: {description}",
            on_click=on_click,
            align="center",
            spacing="2",
            padding="4px 10px 4px 4px",
            border="1px solid var(--gray-a5)",
            border_radius="var(--radius-3)",
            background_color="var(--color-panel-solid)",
            cursor="grab",
            user_select="none",
            flex="none",
            _hover={"border_color": f"var(--{colour}-8)", "background_color": f"var(--{colour}-a2)"},
            _focus_visible={"outline": "2px solid var(--focus-8)", "outline_offset": "1px"},
        ),
        content=description + " · drag onto the canvas or click to add",
    )
