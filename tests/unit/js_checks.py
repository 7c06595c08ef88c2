"""Shared checks for the browser scripts in assets/."""

import shutil
import subprocess
from pathlib import Path

import pytest


def assert_valid_javascript(path: Path) -> None:
    """``node --check``: the file parses (skipped where Node is missing; `make setup` needs it anyway)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    result = subprocess.run([node, "--check", str(path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
