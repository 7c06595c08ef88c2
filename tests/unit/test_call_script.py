"""assets/call.js, the in-browser call: valid JavaScript, and it resumes a dropped call the way the app expects (the
browser test in tests/e2e/test_call_in_browser.py runs it against a sidecar that dies mid-call)."""

from pathlib import Path

from tests.unit.js_checks import assert_valid_javascript

CALL = Path(__file__).resolve().parents[2] / "assets" / "call.js"


def test_call_script_is_valid_javascript():
    assert_valid_javascript(CALL)


def test_call_script_resumes_a_dropped_call_with_its_call_token():
    source = CALL.read_text()
    for promise in ('"/api/public/calls/resume"', '"resume=" + encodeURIComponent(credential.resume)',
                    'call_token: this.callToken, sdp: pc.localDescription.sdp',  # its own call, a new offer
                    '"Reconnecting…"', "We couldn't reconnect your call. Press Call to start again.",
                    'code === "call_still_connected"', 'state === "disconnected"', "RESUME_AFTER_MS = 2000",
                    "this.seqBase = this.nextSeq"):  # the resumed call's turns go below those already shown
        assert promise in source, promise
