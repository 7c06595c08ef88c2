"""The team page: members and their roles, invitations, and the confirm step before removing anything."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.models.accounts import Role
from quantum_voice.services import team
from quantum_voice.services.permissions import ROLE_DESCRIPTIONS
from quantum_voice.services.tenancy import OrgRepository
from quantum_voice.states.format import day
from quantum_voice.states.forms import ConfirmStep, FormErrors
from quantum_voice.states.session import SessionState


@dataclass
class MemberRow:
    membership_id: int = 0
    name: str = ""
    email: str = ""
    role: str = ""
    verified: bool = False
    joined: str = ""
    is_me: bool = False


@dataclass
class InvitationRow:
    id: int = 0
    email: str = ""
    role: str = ""
    expires: str = ""
    expired: bool = False


@dataclass
class RoleOption:
    value: str = ""
    label: str = ""
    description: str = ""


def role_options(can_grant_owner: bool) -> list[RoleOption]:
    return [RoleOption(r.value, r.value.capitalize(), ROLE_DESCRIPTIONS[r])
            for r in Role if can_grant_owner or r is not Role.OWNER]


class TeamState(ConfirmStep, FormErrors, SessionState):
    loaded: bool = False
    members: list[MemberRow] = []
    invitations: list[InvitationRow] = []
    roles: list[RoleOption] = []
    invite_open: bool = False
    invite_role: str = Role.AGENT.value

    @rx.var
    def invite_role_description(self) -> str:
        return next((r.description for r in self.roles if r.value == self.invite_role), "")

    # ------------------------------------------------------------ loading

    def _reload(self, repo: OrgRepository) -> None:
        self.members = [MemberRow(m.membership_id, m.full_name or "", m.email, m.role, m.verified, day(m.joined_at),
                                  m.email == self.user_email) for m in team.list_members(repo)]
        self.invitations = ([InvitationRow(i.id, i.email, i.role, day(i.expires_at), i.expired)
                             for i in team.list_invitations(repo)] if self.can_manage_team else [])
        self.roles = role_options(self.can_grant_owner)
        self.loaded = True

    @rx.event
    def load(self):
        if redirect := self._guard():
            return redirect
        return self._attempt(lambda repo: None)

    def _attempt(self, action: Callable[[OrgRepository], object], success: str = ""):
        """Run one service call, refresh the lists, and say how it went. On an error the lists are
        refreshed too, so a role select snaps back to the role the member really has."""
        error = self._act_then_reload(action, self._reload)
        if error is not None:
            return rx.toast.error(error.message)
        return rx.toast.success(success) if success else None

    # ------------------------------------------------------------ members

    @rx.event
    def change_role(self, membership_id: int, role: str):
        ip = self._client_ip()
        return self._attempt(lambda repo: team.change_role(repo, membership_id, role, ip=ip),
                             f"Role changed to {role}.")

    @rx.event
    def ask_remove(self, membership_id: int, who: str):
        self._ask("remove_member", membership_id, "Remove teammate?",
                  f"{who} will lose access to this organisation at once and be signed out.")

    @rx.event
    def ask_revoke(self, invitation_id: int, email: str):
        self._ask("revoke_invitation", invitation_id, "Revoke invitation?",
                  f"The link sent to {email} will stop working.")

    @rx.event
    def confirm(self):
        self.confirm_open = False
        target, ip = self._confirm_id, self._client_ip()
        if self._confirm_action == "remove_member":
            return self._attempt(lambda repo: team.remove_member(repo, target, ip=ip), "Teammate removed.")
        return self._attempt(lambda repo: team.revoke_invitation(repo, target, ip=ip), "Invitation revoked.")

    # ------------------------------------------------------------ invitations

    @rx.event
    def set_invite_open(self, open_: bool):
        self.invite_open = open_
        self._clear_error()

    @rx.event
    def set_invite_role(self, role: str):
        self.invite_role = role

    @rx.event
    def send_invite(self, form: dict):
        self._clear_error()
        email, ip = form.get("email", ""), self._client_ip()
        try:
            with self._signed_in_repo() as repo:
                team.invite(repo, email=email, role=self.invite_role, ip=ip)
        except DomainError as exc:
            self._show_error(exc, ("email", "role"))
            return None
        self.invite_open = False
        return self._attempt(lambda repo: None, f"Invitation sent to {email.strip()}.")
