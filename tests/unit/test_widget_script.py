"""assets/widget.js, the script businesses paste into their websites: valid JavaScript with the parts it promises."""

from pathlib import Path

from tests.unit.js_checks import assert_valid_javascript

WIDGET = Path(__file__).resolve().parents[2] / "assets" / "widget.js"


def test_widget_script_is_valid_javascript():
    assert_valid_javascript(WIDGET)


def test_widget_script_opens_the_embedded_call_page_accessibly():
    source = WIDGET.read_text()
    for promise in ('"/call/" + encodeURIComponent(slug) + "?embed=1&src=widget"',  # the call page, embedded
                    'allow: "microphone; autoplay"',  # the iframe may use the microphone
                    '"aria-label": label', '"aria-label": "Close the call"', 'type: "button"',  # keyboard, labels
                    'data-mode', 'window.open(', 'document.currentScript'):
        assert promise in source, promise
