"""/api/developer/keys: the organisation's API keys. Managers and up list them; owners and admins create, revoke
and rotate them, signed in (an API key cannot call these routes). A new key's secret is in the creating (or
rotating) response only. How keys work: docs/developers.md."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from quantum_voice.api.deps import Repo, client_ip
from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import ValidationFailed
from quantum_voice.services.developer import api_keys
from quantum_voice.services.developer.scopes import ALL_SCOPES

router = APIRouter(prefix="/api/developer", tags=["developer"])


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200, description="What uses the key, e.g. \"CRM sync\"")
    scopes: list[str] = Field(max_length=len(ALL_SCOPES), description="e.g. [\"leads:read\", \"knowledge:write\"]; "
                                                                      "write implies read")
    role: str = Field("manager", description="admin, manager, agent or viewer; no higher than yours")
    expires_at: datetime | None = Field(None, description="When the key stops working; empty: never")
    expires_in_days: int | None = Field(None, ge=1, le=api_keys.MAX_LIFETIME_DAYS,
                                        description="Instead of expires_at: days from now")


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_hours: float = Field(api_keys.DEFAULT_OVERLAP_HOURS, ge=0, le=api_keys.MAX_OVERLAP_HOURS,
                                 description="How long the old key keeps working (0 to 168 hours)")


class KeyOut(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The key's first characters (qv_live_ab12), to tell keys apart")
    scopes: list[str]
    role: str
    status: str = Field(description="active, expired or revoked")
    created_at: datetime
    created_by: str | None
    last_used_at: datetime | None
    last_used_ip: str | None
    expires_at: datetime | None
    revoked_at: datetime | None
    rotated_from_id: int | None


class NewKeyOut(KeyOut):
    secret: str = Field(description="The whole key. Shown in this response only: store it now")


def _out(view: api_keys.KeyView) -> KeyOut:
    return KeyOut(**view.__dict__)


def _new(new: api_keys.NewKey) -> NewKeyOut:
    return NewKeyOut(**new.key.__dict__, secret=new.secret)


@router.get("/keys", response_model=list[KeyOut])
def list_keys(repo: Repo) -> list[KeyOut]:
    return [_out(view) for view in api_keys.list_keys(repo)]


@router.post("/keys", response_model=NewKeyOut, status_code=201)
def create_key(body: KeyIn, repo: Repo, request: Request) -> NewKeyOut:
    if body.expires_at is not None and body.expires_in_days is not None:
        raise ValidationFailed("Give expires_at or expires_in_days, not both.", field="expires_in_days")
    expires_at = body.expires_at
    if body.expires_in_days is not None:
        expires_at = utcnow() + timedelta(days=body.expires_in_days)
    return _new(api_keys.create_key(repo, name=body.name, scopes=body.scopes, role=body.role, expires_at=expires_at,
                                    ip=client_ip(request)))


@router.post("/keys/{key_id}/revoke", response_model=KeyOut)
def revoke_key(key_id: int, repo: Repo, request: Request) -> KeyOut:
    return _out(api_keys.revoke_key(repo, key_id, ip=client_ip(request)))


@router.post("/keys/{key_id}/rotate", response_model=NewKeyOut, status_code=201)
def rotate_key(key_id: int, repo: Repo, request: Request, body: RotateIn | None = None) -> NewKeyOut:
    overlap = body.overlap_hours if body is not None else api_keys.DEFAULT_OVERLAP_HOURS
    return _new(api_keys.rotate_key(repo, key_id, overlap_hours=overlap, ip=client_ip(request)))
