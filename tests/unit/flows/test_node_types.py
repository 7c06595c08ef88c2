"""The node-type table: one entry per node type the schema accepts, with handles that match validation."""

from typing import get_args

import pytest

from quantum_voice.services.flows import schema
from quantum_voice.services.flows.node_types import NODE_LABELS, NODE_SPECS, NodeType
from quantum_voice.services.flows.validation import check_flow
from tests.unit.flows.support import edge, node


def schema_node_types() -> set[str]:
    """The ``type`` of every node model in the definition's discriminated union."""
    models = get_args(get_args(schema.Node)[0])
    return {model.model_fields["type"].default for model in models}


def test_every_node_type_of_the_schema_has_exactly_one_entry_in_the_table():
    table = {node_type.value for node_type in NODE_SPECS}
    assert table == schema_node_types()
    assert table == {node_type.value for node_type in NodeType} == set(schema.CONFIG_MODELS)
    assert len(NODE_SPECS) == len(table)


def test_every_entry_names_a_label_a_colour_an_icon_and_a_description():
    for node_type, spec in NODE_SPECS.items():
        assert spec.label and spec.colour and spec.icon and spec.description, node_type
        assert NODE_LABELS[node_type] == spec.label


@pytest.mark.parametrize("node_type", list(NodeType))
def test_handles_offer_only_the_edges_validation_accepts(node_type):
    # One node of every type; an edge into and out of the node under test, from and to a Clarify node.
    other = "clarify" if node_type != NodeType.CLARIFY else "lead_gate"
    flow = {"nodes": [node(t.value, t.value) for t in NodeType],
            "edges": [edge(other, node_type.value), edge(node_type.value, other)]}
    codes_by_edge: dict[int, set[str]] = {0: set(), 1: set()}
    for problem in check_flow(flow).problems:
        if problem.edge_index is not None:
            codes_by_edge[problem.edge_index].add(problem.code)
    spec = NODE_SPECS[node_type]
    assert ("edge_into_start" in codes_by_edge[0]) is not spec.has_entry
    assert ("exit_from_end" in codes_by_edge[1]) is not spec.has_exits
