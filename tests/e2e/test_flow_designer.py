"""The demo owner designs a flow in Chromium: drags a node in, connects it, publishes, and talks to the simulator."""

import re

from sqlmodel import Session, select

from quantum_voice.core.db import make_engine
from quantum_voice.models.calls import Conversation
from quantum_voice.models.flows import FlowVersion
from quantum_voice.services.flows.node_types import NODE_SPECS, NodeType
from tests.e2e.conftest import ARTIFACTS


NODES = "#flow-canvas .react-flow__node"


def _sign_in_as_demo_owner(live_app, page):
    page.goto(live_app.url + "/login")
    page.fill("#login-email", "demo@example.com")
    page.fill("#login-password", "demo-password-123")
    page.click("#login-submit")
    page.wait_for_url(re.compile(r".*/dashboard"))


def _node_ids(page) -> list[str]:
    return page.eval_on_selector_all(NODES, "els => els.map(e => e.getAttribute('data-id'))")


def _assert_nodes_drawn_from_the_table(page) -> None:
    """Each canvas node shows its type's label and the palette item's icon; its handles follow the table."""
    palette_icons = {}
    for node_type, spec in NODE_SPECS.items():
        item = page.locator(f"#palette-{node_type.value}")
        assert item.inner_text().strip() == spec.label
        palette_icons[node_type.value] = item.locator("svg").get_attribute("class")
        assert "lucide" in palette_icons[node_type.value].split()
    nodes = page.eval_on_selector_all(NODES, """els => els.map(e => {
        const n = e.querySelector('.qv-node');
        return {kind: n.dataset.kind, text: n.textContent, icon: n.querySelector('svg').getAttribute('class'),
                entry: !!e.querySelector('.react-flow__handle.target'),
                exits: !!e.querySelector('.react-flow__handle.source')};
    })""")
    for drawn in nodes:
        spec = NODE_SPECS[NodeType(drawn["kind"])]
        assert drawn["text"].startswith(spec.label) and drawn["icon"] == palette_icons[drawn["kind"]], drawn
        assert (drawn["entry"], drawn["exits"]) == (spec.has_entry, spec.has_exits), drawn


def _version(page) -> int:
    return int(re.search(r"\d+", page.inner_text("#flow-version")).group())


def _empty_spot(page, width: float = 260, height: float = 130) -> dict:
    """A point on the canvas (relative to the pane) where a new node covers no node, minimap or control."""
    pane = page.locator("#flow-canvas .react-flow__pane").bounding_box()
    taken = [page.locator(sel).nth(i).bounding_box()
             for sel in (NODES, "#flow-canvas .react-flow__minimap", "#flow-canvas .react-flow__controls")
             for i in range(page.locator(sel).count())]
    for y in range(int(height / 2) + 10, int(pane["height"] - height / 2), 20):
        for x in range(int(width / 2) + 10, int(pane["width"] - width / 2), 20):
            cx, cy = pane["x"] + x, pane["y"] + y
            if all(cx + width / 2 < b["x"] or cx - width / 2 > b["x"] + b["width"] or
                   cy + height / 2 < b["y"] or cy - height / 2 > b["y"] + b["height"] for b in taken):
                return {"x": x, "y": y}
    raise AssertionError("no free space on the canvas to drop a node")


def _centre(page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _connect(page, source_id: str, target_id: str) -> None:
    """Drag from the source node's bottom handle to the target node's top handle, as a person would."""
    sx, sy = _centre(page, f'.react-flow__node[data-id="{source_id}"] .react-flow__handle.source')
    tx, ty = _centre(page, f'.react-flow__node[data-id="{target_id}"] .react-flow__handle.target')
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move((sx + tx) / 2, (sy + ty) / 2, steps=10)
    page.mouse.move(tx, ty, steps=10)
    page.mouse.up()


def _say(page, text: str, agent_lines: int) -> None:
    page.fill("#sim-input", text)
    page.click("#sim-send")
    page.wait_for_function(f"document.querySelectorAll('#sim-transcript .sim-agent').length >= {agent_lines}")


def test_drag_connect_publish_and_simulate(live_app, page):
    _sign_in_as_demo_owner(live_app, page)
    page.goto(live_app.url + "/flows")
    page.wait_for_selector("#flows-table")
    assert "Live v" in page.inner_text("#flows-table")
    # the demo campaign's published flow (other browser tests add campaigns to the same app)
    page.locator("#flows-table tr", has_text="Spring Open House").locator("[id^=open-designer-]").click()
    page.wait_for_url(re.compile(r".*/flows/designer/\d+"))
    page.wait_for_function(f"document.querySelectorAll('{NODES}').length >= 6")
    before, version = _node_ids(page), _version(page)
    end_id = page.locator(f'{NODES}:has([data-kind="end"])').first.get_attribute("data-id")

    # Drag a Dispatch node in from the palette: it is new, unconnected, and marked broken.
    page.locator("#palette-dispatch").drag_to(page.locator("#flow-canvas .react-flow__pane"),
                                              target_position=_empty_spot(page))
    page.wait_for_function(f"document.querySelectorAll('{NODES}').length === {len(before) + 1}")
    new_id = next(i for i in _node_ids(page) if i not in before)
    new_node = f'.react-flow__node[data-id="{new_id}"]'
    page.wait_for_selector(f'{new_node} [data-invalid="true"]')
    assert new_id in page.inner_text("#flow-problems") and "no way out" in page.inner_text(new_node)
    assert page.input_value("#prop-label") == "Dispatch"  # the dropped node is selected for editing
    _assert_nodes_drawn_from_the_table(page)

    # Undo takes it away, redo brings it back.
    page.click("#flow-undo")
    page.wait_for_function(f"document.querySelectorAll('{NODES}').length === {len(before)}")
    page.click("#flow-redo")
    page.wait_for_selector(new_node)

    # Connect it to the End node by dragging between handles: the problem goes away and the draft saves.
    edges = page.locator("#flow-canvas .react-flow__edge").count()
    _connect(page, new_id, end_id)
    page.wait_for_function(f"document.querySelectorAll('#flow-canvas .react-flow__edge').length === {edges + 1}")
    page.wait_for_selector(f'{new_node} [data-invalid="false"]')
    page.wait_for_selector('#flow-problems[data-empty="true"]')
    page.wait_for_selector('#flow-saved[data-status="saved"]')

    page.click("#flow-publish")
    page.wait_for_function(f"document.querySelector('#flow-version')?.innerText.includes('v{version + 1}')")
    assert _version(page) == version + 1

    # Rolling back to the version before replaces the canvas with it; Undo brings the draft back.
    page.click("#flow-history")
    page.click(f"#rollback-{version}")
    page.click("#rollback-confirm")
    page.wait_for_function(f"document.querySelectorAll('{NODES}').length === {len(before)}")
    page.click("#flow-undo")
    page.wait_for_selector(new_node)
    page.wait_for_selector('#flow-saved[data-status="saved"]')

    # The simulator: the agent greets, hears the name, and the canvas shows where the conversation is.
    page.click("#tab-simulator")
    _say(page, "Hi, I'm John Smith", agent_lines=2)
    agent = page.locator("#sim-transcript .sim-agent")
    assert agent.first.inner_text().strip() and agent.nth(1).inner_text().strip()
    assert "Hi, I'm John Smith" in page.inner_text("#sim-transcript")
    page.wait_for_selector('#flow-canvas [data-active="true"]')
    _say(page, "my email is john@example.com", agent_lines=3)
    assert "John Smith" not in page.inner_text("#sim-facts")  # personal details wait for consent
    _say(page, "yes, I agree", agent_lines=4)
    lead = page.inner_text("#sim-lead")
    assert "John Smith" in lead and "john@example.com" in lead and "Consent given" in lead
    page.wait_for_timeout(400)  # the transcript scrolls to the newest line
    page.screenshot(path=str(ARTIFACTS / "flow-designer-1280.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "flow-designer-390.png"), full_page=True)

    engine = make_engine(live_app.database_url)
    with Session(engine) as session:
        sims = session.exec(select(Conversation).where(Conversation.channel == "simulator")).all()
        assert len(sims) == 1 and sims[0].is_test  # one test call for the whole simulated conversation
        published = session.exec(select(FlowVersion).where(FlowVersion.version == version + 1)).all()
        assert any(new_id in {n["id"] for n in v.definition["nodes"]} and
                   any(e["source"] == new_id and e["target"] == end_id for e in v.definition["edges"])
                   for v in published)
    engine.dispose()
