"""What an API key may touch: one ``read`` and one ``write`` scope per resource (``leads:read``, ``leads:write``);
write implies read. A request's resource is the first part of its path after ``/api/``, its access the method
(GET and HEAD read, everything else writes), so a new router is covered the day it is added.

A test-mode key also never reaches the resources whose rows are live callers' data it could not be kept from:
the hand-off queue and the webhooks' delivery log (docs/developers.md, "Test mode")."""

from __future__ import annotations

from collections.abc import Iterable

from quantum_voice.core.errors import PermissionDenied, ValidationFailed

RESOURCES = ("campaigns", "knowledge", "flows", "leads", "calls", "handoffs", "webhooks")
ACCESS = ("read", "write")
ALL_SCOPES = tuple(f"{resource}:{access}" for resource in RESOURCES for access in ACCESS)

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# POSTs that only read: a search takes its question in the body.
_READS_BY_POST = frozenset({"/api/knowledge/search"})
# Routes that act as the signed-in person (the agent who takes a caller): a key is nobody.
_PEOPLE_ONLY = frozenset({"/api/handoffs/{handoff_id}/accept"})
LIVE_ONLY = frozenset({"handoffs", "webhooks"})  # not for test-mode keys


def parse_scopes(raw: Iterable[str] | str) -> list[str]:
    """Scopes as given ("leads:read, knowledge:write" or a list), checked and in a stable order; raises
    ``ValidationFailed`` naming every unknown one."""
    items = raw.replace(",", " ").split() if isinstance(raw, str) else [str(s) for s in raw]
    wanted = {item.strip().lower() for item in items if item.strip()}
    unknown = sorted(wanted - set(ALL_SCOPES))
    if unknown:
        raise ValidationFailed(f"Unknown scope{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. A scope is "
                               f"<resource>:read or <resource>:write, the resource one of {', '.join(RESOURCES)}.",
                               field="scopes")
    if not wanted:
        raise ValidationFailed("Choose at least one scope, e.g. leads:read.", field="scopes")
    return [scope for scope in ALL_SCOPES if scope in wanted]


def grants(scopes: Iterable[str], resource: str, access: str) -> bool:
    held = set(scopes)
    return f"{resource}:{access}" in held or (access == "read" and f"{resource}:write" in held)


def resource_of(path: str) -> str | None:
    """``/api/leads/{lead_id}`` → ``leads``; ``/api/leads/export.csv`` → ``leads``; None when no scope names it."""
    parts = path.strip("/").split("/")
    if len(parts) < 2 or parts[0] != "api":
        return None
    resource = parts[1].split(".", 1)[0]
    return resource if resource in RESOURCES else None


def access_of(method: str, path: str) -> str:
    return "read" if method.upper() in _READ_METHODS or path in _READS_BY_POST else "write"


def required_scope(method: str, path: str) -> str | None:
    """The scope a request to ``path`` (the route's template) needs; None when no key may call it."""
    resource = resource_of(path)
    if resource is None or path in _PEOPLE_ONLY:
        return None
    return f"{resource}:{access_of(method, path)}"


def check_request(scopes: Iterable[str], method: str, path: str, *, test_mode: bool = False) -> None:
    """Raises ``PermissionDenied`` (403) unless a key holding ``scopes`` (a test-mode one: ``test_mode``) may make
    this request."""
    needed = required_scope(method, path)
    if needed is None:
        raise PermissionDenied(f"API keys cannot call {method.upper()} {path}: it is for people signed in to the "
                               "app (accounts, team, admin, integrations, API keys themselves, taking calls). "
                               "Sign in and use a session token instead.", code="route_not_for_api_keys")
    resource, access = needed.split(":")
    if test_mode and resource in LIVE_ONLY:
        raise PermissionDenied(f"Test-mode keys cannot call {method.upper()} {path}: {resource} hold live callers' "
                               "data. Use a live key (qv_live_…).", code="not_in_test_mode")
    if not grants(scopes, resource, access):
        raise PermissionDenied(f"This API key lacks the scope {needed}, which {method.upper()} {path} needs. "
                               "Create a key with that scope on the Developers page.", code="missing_scope")
