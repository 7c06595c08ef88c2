"""The documents list: sorting by a column in either direction, header clicks, and pages of 25."""

from dataclasses import dataclass
from datetime import datetime

import pytest

from quantum_voice.services.knowledge.listing import next_sort, sort_documents


@dataclass
class Row:
    id: int
    name: str
    status: str
    size_bytes: int
    created_at: datetime | str


ROWS = [
    Row(1, "price list.pdf", "ready", 20_000, datetime(2025, 3, 2, 9, 0)),
    Row(2, "Brochure.docx", "failed", 5_000, datetime(2025, 3, 1, 9, 0)),
    Row(3, "faq.md", "embedding", 300, datetime(2025, 3, 3, 9, 0)),
    Row(4, "https://example.com/", "queued", 0, datetime(2025, 3, 3, 9, 0)),
]


def names(rows) -> list[str]:
    return [r.name for r in rows]


def test_sort_by_name_ignores_case():
    assert names(sort_documents(ROWS, "name")) == ["Brochure.docx", "faq.md", "https://example.com/",
                                                   "price list.pdf"]
    assert names(sort_documents(ROWS, "name", descending=True))[0] == "price list.pdf"


def test_sort_by_status_follows_processing_with_failed_last():
    assert [r.status for r in sort_documents(ROWS, "status")] == ["queued", "embedding", "ready", "failed"]


def test_sort_by_size_and_date_added_break_ties_by_id():
    assert [r.id for r in sort_documents(ROWS, "size", descending=True)] == [1, 2, 3, 4]
    assert [r.id for r in sort_documents(ROWS, "added")] == [2, 1, 3, 4]
    assert [r.id for r in sort_documents(ROWS, "added", descending=True)] == [4, 3, 1, 2]


def test_iso_strings_sort_like_the_datetimes_they_came_from():
    as_text = [Row(r.id, r.name, r.status, r.size_bytes, r.created_at.isoformat()) for r in ROWS]
    assert [r.id for r in sort_documents(as_text, "added")] == [r.id for r in sort_documents(ROWS, "added")]


def test_unknown_column_sorts_by_date_added():
    assert [r.id for r in sort_documents(ROWS, "colour")] == [2, 1, 3, 4]


@pytest.mark.parametrize(("state", "clicked", "after"), [
    (("added", True), "added", ("added", False)),  # same column flips
    (("name", False), "name", ("name", True)),
    (("added", True), "name", ("name", False)),  # another column starts in its natural order
    (("name", False), "size", ("size", True)),
    (("name", True), "status", ("status", False)),
    (("name", True), "colour", ("name", True)),  # unknown column: nothing changes
])
def test_header_click_toggles_or_switches_column(state, clicked, after):
    assert next_sort(*state, clicked) == after
