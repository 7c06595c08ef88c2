"""Shared checks for the browser scripts in assets/: they parse, and their behaviour tests in tests/js/ (run by
Node's own test runner, against fakes of the browser) pass."""

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
JS_TESTS = REPO / "tests" / "js"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")  # `make setup` needs it anyway
    return node


def assert_valid_javascript(path: Path) -> None:
    """``node --check``: the file parses."""
    result = subprocess.run([_node(), "--check", str(path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def assert_node_tests_pass(test_file: str) -> None:
    """``node --test tests/js/<test_file>``; a failure shows Node's report."""
    result = subprocess.run([_node(), "--test", "--test-reporter=spec", str(JS_TESTS / test_file)], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"node --test tests/js/{test_file} failed:\n{result.stdout[-12000:]}" \
                                   f"{result.stderr[-4000:]}"
