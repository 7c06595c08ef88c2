"""Cutting a list into pages (services/paging.py), here 25 to a page as the knowledge documents are."""

from quantum_voice.services.paging import page_of


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
