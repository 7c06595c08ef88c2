"""What each API key scope allows, decided from the route's path and method alone."""

import pytest

from quantum_voice.core.errors import PermissionDenied, ValidationFailed
from quantum_voice.services.developer.scopes import ALL_SCOPES, check_request, grants, parse_scopes, required_scope


def test_scopes_are_read_and_write_per_resource():
    assert "leads:read" in ALL_SCOPES and "knowledge:write" in ALL_SCOPES and "handoffs:read" in ALL_SCOPES
    assert len(ALL_SCOPES) == 14


def test_parse_scopes_normalises_dedupes_and_orders():
    assert parse_scopes(" Leads:Read, campaigns:write leads:read") == ["campaigns:write", "leads:read"]
    assert parse_scopes(["knowledge:read", "knowledge:read"]) == ["knowledge:read"]


def test_parse_scopes_names_every_unknown_scope():
    with pytest.raises(ValidationFailed, match="billing:read, leads:delete") as caught:
        parse_scopes(["leads:delete", "billing:read", "leads:read"])
    assert caught.value.field == "scopes"


def test_parse_scopes_refuses_none():
    with pytest.raises(ValidationFailed, match="at least one"):
        parse_scopes([])


def test_write_implies_read_but_not_the_reverse():
    assert grants(["leads:write"], "leads", "read") and grants(["leads:write"], "leads", "write")
    assert grants(["leads:read"], "leads", "read") and not grants(["leads:read"], "leads", "write")
    assert not grants(["leads:write"], "knowledge", "read")


@pytest.mark.parametrize("method, path, scope", [
    ("GET", "/api/leads", "leads:read"),
    ("HEAD", "/api/leads/{lead_id}", "leads:read"),
    ("GET", "/api/leads/export.csv", "leads:read"),
    ("PATCH", "/api/leads/{lead_id}", "leads:write"),
    ("POST", "/api/knowledge/upload", "knowledge:write"),
    ("POST", "/api/knowledge/search", "knowledge:read"),
    ("GET", "/api/campaigns/{campaign_id}/qr/{qr_id}.png", "campaigns:read"),
    ("PUT", "/api/campaigns/{campaign_id}/notifications", "campaigns:write"),
    ("POST", "/api/flows/{campaign_id}/publish", "flows:write"),
    ("POST", "/api/handoffs/{handoff_id}/complete", "handoffs:write"),
    ("GET", "/api/me", None),
    ("POST", "/api/auth/logout", None),
    ("GET", "/api/team/members", None),
    ("GET", "/api/developer/keys", None),
    ("GET", "/api/integrations", None),
    ("GET", "/api/admin/audit-logs", None),
    ("PUT", "/api/agents/me/presence", None),
    ("POST", "/api/handoffs/{handoff_id}/accept", None),
    ("GET", "/health", None),
])
def test_the_scope_a_route_needs(method, path, scope):
    assert required_scope(method, path) == scope


def test_a_refusal_names_the_missing_scope():
    with pytest.raises(PermissionDenied, match="leads:write") as caught:
        check_request(["leads:read"], "POST", "/api/leads/bulk")
    assert caught.value.code == "missing_scope"
    with pytest.raises(PermissionDenied) as caught:
        check_request(list(ALL_SCOPES), "GET", "/api/developer/keys")
    assert caught.value.code == "route_not_for_api_keys"
    check_request(["leads:read"], "GET", "/api/leads")
