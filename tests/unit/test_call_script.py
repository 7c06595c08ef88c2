"""assets/call.js, the in-browser call: valid JavaScript, and its behaviour (tests/js/call.test.js, run by Node
against fakes of fetch, WebSocket, RTCPeerConnection, the DOM and the clock): placing a call, the WebRTC → socket
fallback, resuming a call whose sidecar died, the live transcript, mute, hang-up and metrics. The browser test in
tests/e2e/test_call_in_browser.py runs it for real against a sidecar."""

from pathlib import Path

from tests.unit.js_checks import assert_node_tests_pass, assert_valid_javascript

CALL = Path(__file__).resolve().parents[2] / "assets" / "call.js"


def test_call_script_is_valid_javascript():
    assert_valid_javascript(CALL)


def test_call_script_behaves_as_the_node_tests_expect():
    assert_node_tests_pass("call.test.js")
