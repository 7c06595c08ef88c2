"""docs/configuration.md, written from ``Settings`` so the reference cannot drift from the code.

Each setting's text is the comment the code already carries: a comment block above a run of settings explains
the run, a comment at the end of a setting's line explains that setting. A setting with neither is an error
(every setting is documented). ``make test`` fails when the file differs from what this writes
(tests/unit/test_config_docs.py); after changing ``core/config.py``, run ``python -m quantum_voice.core.config_docs``.
"""

from __future__ import annotations

import argparse
import ast
import io
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from quantum_voice.core import config
from quantum_voice.core.config import REPO_ROOT, Settings

TARGET = REPO_ROOT / "docs" / "configuration.md"

# read by the launch script (scripts/run.sh), not by the app
SCRIPT_VARIABLES = (
    ("PORT", "3000", "The port `make run` serves the app on (UI, its websocket and `/api`)."),
    ("START_VOICE_SIDECAR", "1", "`0` → `make run` serves the app without starting the voice sidecar "
                                 "(`python -m agent`)."),
)

HEADER = """\
# Configuration

<!-- Written by `python -m quantum_voice.core.config_docs` from quantum_voice/core/config.py; do not edit by hand:
     `make test` fails when the two differ. -->

Everything is read once, in `quantum_voice/core/config.py`, from environment variables (any case). Every setting
has a working default: nothing is required, and every job has a local default that works offline. Secrets are
`SecretStr`: never printed, never logged.
"""


@dataclass
class Group:
    """Settings written together in the code, under one comment block (or none)."""

    text: str
    names: list[str] = field(default_factory=list)


def _settings_body(source: str) -> list[ast.stmt]:
    return next(n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == "Settings").body


def _comments(source: str) -> dict[int, str]:
    """Line number → the comment on it."""
    return {t.start[0]: t.string.lstrip("#").strip()
            for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type == tokenize.COMMENT}


def groups(source: str) -> list[list[Group]]:
    """The settings of ``Settings`` in source order: sections (runs between blank lines) of groups (a comment block
    and the settings under it)."""
    comments, lines = _comments(source), source.splitlines()
    sections: list[list[Group]] = []
    for node in _settings_body(source):
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        above, line = [], node.lineno - 1  # ``line``: 1-based number of the line above, walking up
        while line >= 1 and lines[line - 1].strip().startswith("#"):
            above.insert(0, comments[line])
            line -= 1
        if not sections or not lines[line - 1].strip():
            sections.append([Group(" ".join(above))])
        elif above:
            sections[-1].append(Group(" ".join(above)))
        sections[-1][-1].names.append(node.target.id)
    return sections


def _inline(source: str) -> dict[str, str]:
    """Setting name → the comment at the end of its line."""
    comments, lines = _comments(source), source.splitlines()
    return {node.target.id: comments[node.end_lineno] for node in _settings_body(source)
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
            and node.end_lineno in comments and not lines[node.end_lineno - 1].strip().startswith("#")}


def default_of(name: str) -> str:
    value = Settings.model_fields[name].default
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, Path):
        try:
            return f"`./{value.relative_to(REPO_ROOT).as_posix()}`"
        except ValueError:
            return f"`{value}`"
    if value is None or value == "":
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"`{value}`"


def render(source: str | None = None) -> str:
    """The whole of docs/configuration.md. A setting explained by its own comment block is a row of a table; a
    comment block over several settings is a paragraph above their table."""
    source = source if source is not None else Path(config.__file__).read_text()
    notes = _inline(source)
    sections = groups(source)
    undocumented = [name for section in sections for group in section if not group.text
                    for name in group.names if not notes.get(name)]
    if undocumented:
        raise ValueError(f"settings without a comment in core/config.py: {', '.join(undocumented)}")
    out = [HEADER]
    table_open = False
    for section in sections:
        for group in section:
            if len(group.names) == 1 and not notes.get(group.names[0]):
                if not table_open:
                    out += ["", *_TABLE_HEAD]
                    table_open = True
                out.append(_row(group.names[0], group.text))
                continue
            out += ["", group.text, ""] if group.text else [""]
            out += [*_TABLE_HEAD, *(_row(name, notes.get(name, "")) for name in group.names)]
            table_open = False
    out += ["", "## Read by the launch script", "", *_TABLE_HEAD]
    out += [f"| `{name}` | `{default}` | {note} |" for name, default, note in SCRIPT_VARIABLES]
    return "\n".join(out) + "\n"


_TABLE_HEAD = ("| Variable | Default | What it does |", "|---|---|---|")


def _row(name: str, note: str) -> str:
    return f"| `{name.upper()}` | {default_of(name)} | {_cell(note)} |"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/configuration.md is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = TARGET.read_text() if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET.relative_to(REPO_ROOT)} is out of date: run python -m quantum_voice.core.config_docs")
            return 1
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
