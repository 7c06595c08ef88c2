"""assets/widget.js, the script businesses paste into their websites: valid JavaScript with the parts it promises."""

import shutil
import subprocess
from pathlib import Path

import pytest

WIDGET = Path(__file__).resolve().parents[2] / "assets" / "widget.js"


def test_widget_script_is_valid_javascript():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    result = subprocess.run([node, "--check", str(WIDGET)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def test_widget_script_opens_the_embedded_call_page_accessibly():
    source = WIDGET.read_text()
    for promise in ('"/call/" + encodeURIComponent(slug) + "?embed=1&src=widget"',  # the call page, embedded
                    'allow: "microphone; autoplay"',  # the iframe may use the microphone
                    '"aria-label": label', '"aria-label": "Close the call"', 'type: "button"',  # keyboard, labels
                    'data-mode', 'window.open(', 'document.currentScript'):
        assert promise in source, promise
