"""Cutting a list into pages (services/paging.py), here 25 to a page as the knowledge documents are; and the API's
cursors: a batch after the last item seen."""

from datetime import datetime, timezone

import pytest

from quantum_voice.core.errors import ValidationFailed
from quantum_voice.services.paging import batch_of, items_after, page_of, read_cursor, write_cursor


def test_pages_of_25_with_a_range_label():
    first = page_of(60, 0, 25)
    assert (first.start, first.stop, first.count, first.label) == (0, 25, 3, "1–25 of 60")
    assert not first.has_previous and first.has_next
    last = page_of(60, 2, 25)
    assert (last.start, last.stop, last.label) == (50, 60, "51–60 of 60")
    assert last.has_previous and not last.has_next


def test_page_moves_back_when_the_list_shrinks():
    assert page_of(26, 1, 25).label == "26–26 of 26"
    assert page_of(25, 1, 25).number == 0 and page_of(25, 1, 25).label == "1–25 of 25"
    assert page_of(10, -3, 25).number == 0


def test_empty_list_has_one_empty_page():
    empty = page_of(0, 4, 25)
    assert (empty.number, empty.count, empty.start, empty.stop, empty.label) == (0, 1, 0, 0, "0 of 0")
    assert not empty.has_previous and not empty.has_next


def test_a_cursor_reads_back_the_key_it_was_written_with():
    when = datetime(2026, 12, 5, 3, 0, tzinfo=timezone.utc)
    assert read_cursor(write_cursor(when, 7), datetime, int) == (when, 7)
    assert read_cursor(write_cursor("Pricing", 3), str, int) == ("Pricing", 3)
    assert "=" not in write_cursor("padding", 1)  # safe in an address as it is


@pytest.mark.parametrize("cursor", ["nonsense", "", write_cursor(7)[:-1], write_cursor("7"), write_cursor(True),
                                    write_cursor(7, 8), write_cursor([7]), "%%%", "e30"])
def test_a_cursor_the_list_did_not_give_out_is_refused(cursor):
    with pytest.raises(ValidationFailed) as refused:
        read_cursor(cursor, int)
    assert refused.value.code == "invalid_cursor" and refused.value.field == "cursor"


def test_batches_of_a_short_list_cover_it_once_in_order():
    items = [{"id": i, "name": name} for i, name in enumerate(["delta", "alpha", "echo", "alpha", "bravo"])]

    def order(item):
        return item["name"], item["id"]
    seen, key = [], None
    while True:
        batch = batch_of(items_after(items, order, key), 2, order)
        seen += [(item["name"], item["id"]) for item in batch.items]
        if batch.next_cursor is None:
            break
        key = read_cursor(batch.next_cursor, str, int)
    assert seen == sorted(order(item) for item in items)
    newest = items_after(items, lambda item: (item["id"],), (3,), descending=True)
    assert [item["id"] for item in newest] == [2, 1, 0]
