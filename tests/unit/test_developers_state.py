"""What the Developers page shows of a key, and which scopes its create form sends."""

from datetime import datetime, timezone

from quantum_voice.services.developer.api_keys import KeyView
from quantum_voice.states.developers import key_row, scopes_of

WHEN = datetime(2026, 12, 4, 9, 30, tzinfo=timezone.utc)


def _view(**changes) -> KeyView:
    fields = dict(id=3, name="CRM sync", prefix="qv_live_ab12", scopes=["campaigns:read", "leads:write"],
                  role="manager", mode="live", status="active", created_at=WHEN, created_by="ana@example.com", last_used_at=None,
                  last_used_ip=None, expires_at=None, revoked_at=None, rotated_from_id=None)
    return KeyView(**{**fields, **changes})


def test_a_key_row_shows_the_prefix_scopes_and_never_used():
    row = key_row(_view())
    assert (row.prefix, row.scopes, row.last_used, row.expires) == (
        "qv_live_ab12…", "campaigns:read, leads:write", "Never", "Never")
    assert row.active and row.status_colour == "green"


def test_a_test_mode_key_row_says_so():
    row = key_row(_view(prefix="qv_test_ab12", mode="test"))
    assert (row.prefix, row.mode) == ("qv_test_ab12…", "test")
    assert key_row(_view()).mode == "live"


def test_a_used_revoked_key_shows_when_and_where_and_offers_no_actions():
    row = key_row(_view(status="revoked", last_used_at=WHEN, last_used_ip="203.0.113.9", revoked_at=WHEN))
    assert row.last_used == "04 Dec 2026, 09:30 from 203.0.113.9"
    assert not row.active and row.status_colour == "red"


def test_the_create_form_sends_the_ticked_scopes_only():
    form = {"name": "x", "scope:leads:read": "on", "scope:knowledge:write": "on", "scope:flows:read": "",
            "role": "manager"}
    assert sorted(scopes_of(form)) == ["knowledge:write", "leads:read"]
