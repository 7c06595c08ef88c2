"""Shared UI pieces: the page layouts and form controls every page is built from."""
