"""Reflex states: one per page, each holding only what its page shows and calling services."""
