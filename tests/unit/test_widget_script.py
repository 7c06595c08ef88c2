"""assets/widget.js, the script businesses paste into their websites: valid JavaScript, and its behaviour
(tests/js/widget.test.js, run by Node on a fake host page): the button, the panel or popup with the call page,
keyboard and labels."""

from pathlib import Path

from tests.unit.js_checks import assert_node_tests_pass, assert_valid_javascript

WIDGET = Path(__file__).resolve().parents[2] / "assets" / "widget.js"


def test_widget_script_is_valid_javascript():
    assert_valid_javascript(WIDGET)


def test_widget_script_behaves_as_the_node_tests_expect():
    assert_node_tests_pass("widget.test.js")
