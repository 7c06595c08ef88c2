"""What the database cannot hold is refused at the edge, naming the field."""

import pytest

from quantum_voice.api.input_checks import MAX_INT, address_problem, json_problem, text_problem


@pytest.mark.parametrize("text", ["a\ud800b", "nul\x00here", "bell\x07", "\u202egnp.exe", "isolate\u2066x"])
def test_text_the_database_cannot_hold_or_that_reads_differently_is_refused(text):
    assert text_problem(text)


@pytest.mark.parametrize("text", ["plain", "tabs\tand\nnewlines\r\n", "Zoë, 東京, مرحبا \u200f", "emoji 🎉"])
def test_ordinary_text_passes(text):
    assert text_problem(text) is None


def test_a_json_body_names_the_first_bad_field():
    assert json_problem({"name": "ok", "draft": {"nodes": [{"label": "x\x00"}]}})[0] == "draft.nodes.0.label"
    assert json_problem({"knowledge_base_id": MAX_INT + 1}) == ("knowledge_base_id",
                                                                f"is out of range (at most {MAX_INT})")
    assert json_problem({"n": MAX_INT, "x": -MAX_INT, "f": 1e300, "b": True, "z": None}) is None


@pytest.mark.parametrize("path, query, field", [
    ("/api/campaigns/9223372036854775808", "", "path"),
    ("/api/leads", "offset=100000000000000000000", "offset"),
    ("/api/campaigns/%00", "", "path"),
    ("/api/knowledge/search", "q=%E2%80%AEabc", "q"),
])
def test_an_address_with_a_number_too_large_or_bad_text_is_refused(path, query, field):
    assert address_problem(path, query)[0] == field


def test_an_ordinary_address_passes():
    assert address_problem("/api/campaigns/9223372036854775807", "offset=0&limit=100&q=caf%C3%A9") is None
