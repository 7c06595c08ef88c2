"""The canvas's JavaScript is generated from the node-type table: it receives the table as JSON, imports each
icon the table names, and colours the minimap from it."""

import json
import re
from dataclasses import asdict

from quantum_voice.components import flow_canvas
from quantum_voice.services.flows.node_types import CANVAS_NODE_TYPE, NODE_SPECS
from tests.unit.js_checks import assert_valid_javascript

SCRIPT = flow_canvas._CUSTOM_CODE


def injected_json(code: str, after: str):
    """The JSON value the code carries right after ``after``."""
    value, _ = json.JSONDecoder().raw_decode(code, code.index(after) + len(after))
    return value


def test_the_custom_node_receives_the_whole_node_type_table():
    kinds = injected_json(SCRIPT, "const QV_KINDS = ")
    assert kinds == {node_type.value: asdict(spec) for node_type, spec in NODE_SPECS.items()}
    assert kinds["start"]["has_entry"] is False and kinds["end"]["has_exits"] is False
    assert injected_json(SCRIPT, "window.__qvNodeTypes || { [") == CANVAS_NODE_TYPE
    assert "__QV_" not in SCRIPT  # every placeholder was filled


def test_every_icon_the_table_names_is_imported_from_lucide():
    imported = re.search(r"import \{([^}]*)\} from 'lucide-react'", SCRIPT).group(1)
    exports = dict(reversed(part.split(" as ")) for part in (p.strip() for p in imported.split(",")))
    icon_map = dict(re.findall(r'"([a-z0-9-]+)": (\w+)', re.search(r"const QV_ICONS = \{([^}]*)\}", SCRIPT).group(1)))
    for spec in NODE_SPECS.values():
        assert exports[icon_map[spec.icon]] == flow_canvas.lucide_export(spec.icon)
    assert flow_canvas.lucide_export("message-circle-question") == "MessageCircleQuestion"


def test_the_minimap_colours_each_node_type_from_the_table():
    colours = injected_json(str(flow_canvas._NODE_COLOURS), "((n) => (")
    assert colours == {node_type.value: f"var(--{spec.colour}-9)" for node_type, spec in NODE_SPECS.items()}


def test_the_canvas_script_is_valid_javascript(tmp_path):
    module = tmp_path / "flow_canvas.mjs"
    module.write_text(SCRIPT)
    assert_valid_javascript(module)
