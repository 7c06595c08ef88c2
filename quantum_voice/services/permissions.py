"""Who may do what. One table, checked on every action."""

from __future__ import annotations

from enum import Enum

from quantum_voice.core.errors import PermissionDenied
from quantum_voice.models.accounts import Role


class Permission(str, Enum):
    VIEW = "view"  # dashboards, campaigns, leads (read)
    WORK_CALLS = "work_calls"  # take hand-offs, set dispositions
    MANAGE_CAMPAIGNS = "manage_campaigns"  # campaigns, flows, knowledge
    MANAGE_LEADS = "manage_leads"
    MANAGE_TEAM = "manage_team"  # invite, change roles, remove members
    MANAGE_ORGANIZATION = "manage_organization"  # name, onboarding, integrations, billing
    MANAGE_DEVELOPER = "manage_developer"  # API keys, webhooks
    VIEW_ADMIN = "view_admin"  # audit log, email outbox, system health
    GRANT_OWNER = "grant_owner"


_ALL = set(Permission)
ROLE_PERMISSIONS: dict[Role, set[Permission]] = {
    Role.OWNER: _ALL,
    Role.ADMIN: _ALL - {Permission.GRANT_OWNER},
    Role.MANAGER: {Permission.VIEW, Permission.WORK_CALLS, Permission.MANAGE_CAMPAIGNS, Permission.MANAGE_LEADS},
    Role.AGENT: {Permission.VIEW, Permission.WORK_CALLS},
    Role.VIEWER: {Permission.VIEW},
}

ROLE_DESCRIPTIONS: dict[Role, str] = {
    Role.OWNER: "Everything, including billing and making other owners",
    Role.ADMIN: "Everything except making owners",
    Role.MANAGER: "Campaigns, flows, knowledge and leads",
    Role.AGENT: "Takes live calls handed off by the AI",
    Role.VIEWER: "Read-only access to dashboards and leads",
}


def has_permission(role: str, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(Role(role), set())


def require(role: str, permission: Permission) -> None:
    if not has_permission(role, permission):
        raise PermissionDenied(
            f"Your role ({role}) cannot do this ({permission.value.replace('_', ' ')}). "
            "Ask an owner or admin of your organisation to change your role."
        )
