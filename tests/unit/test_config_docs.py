"""docs/configuration.md is written from core/config.py: it must say what the code does, every setting included."""

import pytest

from quantum_voice.core import config_docs
from quantum_voice.core.config import Settings


def test_the_configuration_reference_is_up_to_date():
    assert config_docs.main(["--check"]) == 0, "run: python -m quantum_voice.core.config_docs"


def test_every_setting_is_in_the_reference_with_its_default():
    text = config_docs.TARGET.read_text()
    for name in Settings.model_fields:
        row = next((line for line in text.splitlines() if line.startswith(f"| `{name.upper()}` |")), None)
        assert row is not None, name
        assert config_docs.default_of(name) in row


def test_a_setting_without_a_comment_is_refused():
    source = 'class Settings:\n    # Documented together.\n    a: int = 1\n    b: int = 2\n\n    c: int = 3\n'
    with pytest.raises(ValueError, match="c"):
        config_docs.render(source)


def test_a_comment_block_over_several_settings_heads_their_table():
    source = ('class Settings:\n    # Mail settings.\n    host: str = ""  # the server\n    port: int = 587  # its port\n')
    groups = config_docs.groups(source)
    assert [[(g.text, g.names) for g in section] for section in groups] == [[("Mail settings.", ["host", "port"])]]
