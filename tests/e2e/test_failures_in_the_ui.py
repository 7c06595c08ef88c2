"""When the database does not answer, the page says so and keeps the person's work: the flow designer does not
stay on "Saving…" (and saves the change once it can), an upload does not stay on "Uploading…".

The failure is real: the test holds SQLite's write lock, so the app's writes wait out their busy timeout and fail
as they would on a busy or broken database."""

import re
import sqlite3
import time
from contextlib import contextmanager

import pytest
from sqlmodel import Session, select

from quantum_voice.core.db import make_engine
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.flows import Flow
from tests.e2e.test_flow_designer import NODES, _sign_in_as_demo_owner



@contextmanager
def database_write_lock(live_app):
    if not live_app.database_url.startswith("sqlite"):
        pytest.skip("holds SQLite's write lock; PostgreSQL failures are covered by the API tests")
    path = live_app.database_url.split("sqlite:///", 1)[1]
    holder = sqlite3.connect(path, isolation_level=None, timeout=30)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _draft_position(live_app, node_id: str) -> dict:
    engine = make_engine(live_app.database_url)
    with Session(engine) as session:
        campaign = session.exec(select(Campaign).where(Campaign.name == "Spring Open House")).one()
        draft = session.get(Flow, campaign.flow_id).draft
    engine.dispose()
    return next(n["position"] for n in draft["nodes"] if n["id"] == node_id)


def test_a_save_that_fails_says_so_keeps_the_change_and_saves_it_later(live_app, page):
    _sign_in_as_demo_owner(live_app, page)
    page.goto(live_app.url + "/flows")
    page.locator("#flows-table tr", has_text="Spring Open House").locator("[id^=open-designer-]").click()
    page.wait_for_url(re.compile(r".*/flows/designer/\d+"))
    page.wait_for_function(f"document.querySelectorAll('{NODES}').length >= 6")
    node = page.locator(NODES).last
    node_id = node.get_attribute("data-id")
    before = _draft_position(live_app, node_id)
    box = node.bounding_box()
    with database_write_lock(live_app):
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 12)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] / 2 + 90, box["y"] + 52, steps=12)
        page.mouse.up()
        # a writer waits for SQLite's lock up to DB_STATEMENT_TIMEOUT_MS (30 s) before the save fails
        page.wait_for_selector('#flow-saved[data-status="error"]', timeout=60_000)
        assert "Your changes are kept on this page" in page.inner_text("body")
        assert _draft_position(live_app, node_id) == before
    page.wait_for_selector('#flow-saved[data-status="saved"]', timeout=60_000)  # the retry, once it can
    # on a loaded machine "saved" may first report a save queued before the move; the move's own follows
    deadline, after = time.monotonic() + 30, _draft_position(live_app, node_id)
    while after["x"] <= before["x"] + 40 and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        after = _draft_position(live_app, node_id)
    assert after["x"] > before["x"] + 40  # the move was not lost


def test_an_upload_that_cannot_be_stored_says_so_and_does_not_hang(live_app, page):
    _sign_in_as_demo_owner(live_app, page)
    page.goto(live_app.url + "/knowledge/upload")
    page.wait_for_selector("#kb-upload")
    with database_write_lock(live_app):
        page.set_input_files("#kb-upload input[type=file]", files=[
            {"name": "notes.md", "mimeType": "text/markdown", "buffer": b"# Notes\n\nThe gym opens at 6 a.m.\n"}])
        page.click("#kb-upload-submit")
        page.wait_for_selector(".kb-upload-row[data-status='failed']", timeout=60_000)
    assert "could not be stored just now" in page.inner_text("#kb-upload-progress")
    assert page.locator(".kb-upload-row[data-status='uploading']").count() == 0
