"""What every list page lets people do to its table: search, filter by status, sort by a column, turn pages.
The page's state keeps ``sort_by`` (its own columns and default) and a ``page_count`` computed var."""

from __future__ import annotations

import reflex as rx


class ListControls(rx.State, mixin=True):
    query: str = ""
    status_filter: str = "all"
    page: int = 0

    @rx.event
    def set_query(self, value: str):
        self.query, self.page = value, 0

    @rx.event
    def set_status_filter(self, value: str):
        self.status_filter, self.page = value, 0

    @rx.event
    def sort(self, column: str):
        self.sort_by, self.page = column, 0

    @rx.event
    def next_page(self):
        self.page = min(self.page + 1, self.page_count - 1)

    @rx.event
    def previous_page(self):
        self.page = max(self.page - 1, 0)
