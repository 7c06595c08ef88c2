"""How list pages cut their rows into pages (states/listing.py)."""

from quantum_voice.states.listing import count_pages, rows_on_page


def test_an_empty_list_still_has_one_page_and_a_partial_page_counts():
    assert count_pages(0, 20) == 1
    assert count_pages(20, 20) == 1
    assert count_pages(21, 20) == 2


def test_a_page_past_the_end_shows_the_last_page():
    rows = list(range(45))
    assert rows_on_page(rows, 0, 20) == list(range(20))
    assert rows_on_page(rows, 2, 20) == [40, 41, 42, 43, 44]
    assert rows_on_page(rows, 7, 20) == [40, 41, 42, 43, 44]
    assert rows_on_page([], 3, 20) == []
