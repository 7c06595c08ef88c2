"""/api/me, /api/onboarding, /api/team and the admin reads."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from quantum_voice.api import cursors
from quantum_voice.api.deps import Auth, Repo, client_ip
from quantum_voice.services import admin, onboarding, paging, team
from quantum_voice.services.permissions import ROLE_PERMISSIONS
from quantum_voice.models.accounts import Role

router = APIRouter(prefix="/api", tags=["account"])


class OrganizationOut(BaseModel):
    id: int
    name: str
    slug: str
    industry: str | None
    onboarding_completed: bool


class MeOut(BaseModel):
    id: int
    email: str
    full_name: str | None
    role: str
    permissions: list[str]
    organization: OrganizationOut


@router.get("/me", response_model=MeOut)
def me(ctx: Auth) -> MeOut:
    org = ctx.organization
    return MeOut(id=ctx.user.id, email=ctx.user.email, full_name=ctx.user.full_name, role=ctx.role,
                 permissions=sorted(p.value for p in ROLE_PERMISSIONS[Role(ctx.role)]),
                 organization=OrganizationOut(id=org.id, name=org.name, slug=org.slug, industry=org.industry,
                                              onboarding_completed=org.onboarding_completed_at is not None))


class OnboardingIn(BaseModel):
    organization_name: str = Field(max_length=200)
    industry: str = Field(max_length=40)
    first_campaign_name: str = Field(max_length=200)


class OnboardingOut(BaseModel):
    campaign_id: int
    campaign_slug: str


@router.post("/onboarding", response_model=OnboardingOut)
def complete_onboarding(body: OnboardingIn, repo: Repo, request: Request) -> OnboardingOut:
    campaign = onboarding.complete_onboarding(repo, organization_name=body.organization_name,
                                              industry=body.industry, first_campaign_name=body.first_campaign_name,
                                              ip=client_ip(request))
    return OnboardingOut(campaign_id=campaign.id, campaign_slug=campaign.slug)


class MemberOut(BaseModel):
    id: int
    user_id: int
    email: str
    full_name: str | None
    role: str
    joined_at: datetime
    verified: bool


class InvitationOut(BaseModel):
    id: int
    email: str
    role: str
    expires_at: datetime
    expired: bool = False


class InviteIn(BaseModel):
    email: str = Field(max_length=320)
    role: str = Field(max_length=20)


class RoleIn(BaseModel):
    role: str = Field(max_length=20)


@router.get("/team/members", response_model=list[MemberOut])
def list_members(repo: Repo) -> list[MemberOut]:
    return [MemberOut(id=m.membership_id, user_id=m.user_id, email=m.email, full_name=m.full_name, role=m.role,
                      joined_at=m.joined_at, verified=m.verified) for m in team.list_members(repo)]


@router.patch("/team/members/{membership_id}", response_model=MemberOut)
def change_role(membership_id: int, body: RoleIn, repo: Repo, request: Request) -> MemberOut:
    team.change_role(repo, membership_id, body.role, ip=client_ip(request))
    member = next(m for m in team.list_members(repo) if m.membership_id == membership_id)
    return MemberOut(id=member.membership_id, user_id=member.user_id, email=member.email,
                     full_name=member.full_name, role=member.role, joined_at=member.joined_at,
                     verified=member.verified)


@router.delete("/team/members/{membership_id}", status_code=204)
def remove_member(membership_id: int, repo: Repo, request: Request) -> Response:
    team.remove_member(repo, membership_id, ip=client_ip(request))
    return Response(status_code=204)


@router.get("/team/invitations", response_model=list[InvitationOut])
def list_invitations(repo: Repo) -> list[InvitationOut]:
    return [InvitationOut(id=i.id, email=i.email, role=i.role, expires_at=i.expires_at, expired=i.expired)
            for i in team.list_invitations(repo)]


@router.post("/team/invitations", status_code=201, response_model=InvitationOut)
def invite(body: InviteIn, repo: Repo, request: Request) -> InvitationOut:
    invitation, _ = team.invite(repo, email=body.email, role=body.role, ip=client_ip(request))
    return InvitationOut(id=invitation.id, email=invitation.email, role=invitation.role,
                         expires_at=invitation.expires_at)


@router.delete("/team/invitations/{invitation_id}", status_code=204)
def revoke_invitation(invitation_id: int, repo: Repo, request: Request) -> Response:
    team.revoke_invitation(repo, invitation_id, ip=client_ip(request))
    return Response(status_code=204)


class AuditOut(BaseModel):
    id: int
    action: str
    actor_user_id: int | None
    actor_email: str | None
    actor: str = Field("", description="Who did it: the person's email, or \"api key qv_live_ab12…\"")
    target_type: str | None
    target_id: str | None
    ip: str | None
    details: dict
    created_at: datetime


class EmailOut(BaseModel):
    id: int
    to_address: str
    subject: str
    kind: str
    status: str
    body_text: str
    error: str | None
    created_at: datetime


# Newest first, up to 500 at a time (100 unless limit says), as before cursors came.
_LIMIT = Query(100, ge=1, le=500)
_OFFSET = Query(0, ge=0, description="How many to skip (the old way; cursor is better)")


@router.get("/admin/audit-logs", response_model=list[AuditOut], responses=cursors.NEXT_HEADERS)
def audit_logs(repo: Repo, request: Request, response: Response, limit: int = _LIMIT, offset: int = _OFFSET,
               cursor: cursors.Cursor = None) -> list[AuditOut]:
    cursors.no_offset_with(cursor, offset)
    key = cursors.key_of(cursor, int)
    rows = admin.audit_log(repo, limit + 1, offset, before_id=key[0] if key else None)
    batch = paging.batch_of(rows, limit, lambda row: (row.id,))
    return [AuditOut.model_validate(row, from_attributes=True) for row in cursors.sent(request, response, batch)]


@router.get("/admin/outbox", response_model=list[EmailOut], responses=cursors.NEXT_HEADERS)
def email_outbox(repo: Repo, request: Request, response: Response, limit: int = _LIMIT, offset: int = _OFFSET,
                 cursor: cursors.Cursor = None) -> list[EmailOut]:
    cursors.no_offset_with(cursor, offset)
    key = cursors.key_of(cursor, int)
    rows = admin.outbox(repo, limit + 1, offset, before_id=key[0] if key else None)
    batch = paging.batch_of(rows, limit, lambda row: (row.id,))
    return [EmailOut.model_validate(row, from_attributes=True) for row in cursors.sent(request, response, batch)]
