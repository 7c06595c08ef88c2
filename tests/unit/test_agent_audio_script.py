"""assets/agent_audio.js, the agent workspace's audio for a call taken over: valid JavaScript, and its behaviour
(tests/js/agent_audio.test.js, run by Node with fakes of the browser): microphone PCM, playback, mute, the socket's
messages and the queue alert."""

from pathlib import Path

from tests.unit.js_checks import assert_node_tests_pass, assert_valid_javascript

SCRIPT = Path(__file__).resolve().parents[2] / "assets" / "agent_audio.js"


def test_agent_audio_script_is_valid_javascript():
    assert_valid_javascript(SCRIPT)


def test_agent_audio_script_behaves_as_the_node_tests_expect():
    assert_node_tests_pass("agent_audio.test.js")
