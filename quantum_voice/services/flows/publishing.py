"""Publishing: an immutable ``FlowVersion`` per publish; the campaign runs the active one; rollback makes an
older version active again (and loads it into the draft)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlmodel import func, select

from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import Conflict, NotFound
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.flows import Flow, FlowVersion
from quantum_voice.services import audit
from quantum_voice.services.flows.editing import campaign_and_flow, draft_problems
from quantum_voice.services.flows.schema import FlowDefinition
from quantum_voice.services.flows.validation import FlowInvalid, require_valid_flow
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository


def checksum(definition: dict[str, Any]) -> str:
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def publish(repo: OrgRepository, campaign_id: int) -> FlowVersion:
    """Freeze the draft as the next version and make it the one the campaign runs."""
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    campaign, _ = campaign_and_flow(repo, campaign_id)
    flow = _locked(repo, campaign.flow_id)
    problems = draft_problems(repo, flow.draft)
    if problems:
        raise FlowInvalid(problems)
    definition = require_valid_flow(flow.draft).to_json()
    digest = checksum(definition)
    active = repo.session.get(FlowVersion, flow.published_version_id) if flow.published_version_id else None
    if active is not None and active.checksum == digest:
        raise Conflict(f"Version {active.version} is already live with exactly this flow. Change the draft before "
                       "publishing again.", code="nothing_to_publish")
    version = repo.add(FlowVersion(organization_id=repo.scope.organization_id, flow_id=flow.id,
                                   version=_next_version(repo, flow.id), definition=definition, checksum=digest,
                                   published_by_id=repo.scope.user_id, published_at=utcnow()))
    flow.published_version_id, flow.updated_at = version.id, utcnow()
    repo.session.flush()
    audit.record(repo.session, "flow.published", organization_id=repo.scope.organization_id,
                 actor_user_id=repo.scope.user_id, target_type="flow", target_id=flow.id, version=version.version,
                 campaign_id=campaign.id)
    return version


def _locked(repo: OrgRepository, flow_id: int) -> Flow:
    """The flow row, locked (PostgreSQL) so two publishes cannot pick the same version number."""
    flow = repo.session.exec(repo.select(Flow).where(Flow.id == flow_id).with_for_update()).first()
    if flow is None:
        raise NotFound(f"No flow with id {flow_id} in your organisation.")
    return flow


def _next_version(repo: OrgRepository, flow_id: int) -> int:
    stmt = select(func.max(FlowVersion.version)).where(FlowVersion.flow_id == flow_id,
                                                      FlowVersion.organization_id == repo.scope.organization_id)
    return int(repo.session.exec(stmt).one() or 0) + 1


def list_versions(repo: OrgRepository, campaign_id: int) -> list[FlowVersion]:
    repo.scope.require(Permission.VIEW)
    _, flow = campaign_and_flow(repo, campaign_id)
    return repo.list(FlowVersion, FlowVersion.flow_id == flow.id, order_by=FlowVersion.version.desc(), limit=500)


def get_version(repo: OrgRepository, campaign_id: int, version: int) -> FlowVersion:
    repo.scope.require(Permission.VIEW)
    _, flow = campaign_and_flow(repo, campaign_id)
    found = repo.list(FlowVersion, FlowVersion.flow_id == flow.id, FlowVersion.version == version, limit=1)
    if not found:
        raise NotFound(f"This flow has no version {version}. See the version list for the ones that exist.")
    return found[0]


def rollback(repo: OrgRepository, campaign_id: int, version: int) -> FlowVersion:
    """Make ``version`` the live one again and load it into the draft. No version is created or changed."""
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    target = get_version(repo, campaign_id, version)
    flow = _locked(repo, target.flow_id)
    flow.published_version_id, flow.draft, flow.updated_at = target.id, dict(target.definition), utcnow()
    repo.session.flush()
    audit.record(repo.session, "flow.rolled_back", organization_id=repo.scope.organization_id,
                 actor_user_id=repo.scope.user_id, target_type="flow", target_id=flow.id, version=version,
                 campaign_id=campaign_id)
    return target


def active_version(repo: OrgRepository, flow: Flow) -> FlowVersion | None:
    return repo.get(FlowVersion, flow.published_version_id) if flow.published_version_id else None


def runnable_flow(repo: OrgRepository, campaign: Campaign, *, use_draft: bool) -> tuple[FlowDefinition, int | None]:
    """What a new call on ``campaign`` runs: the live version (its id), or the draft for the simulator."""
    _, flow = campaign_and_flow(repo, campaign.id)
    if use_draft:
        problems = draft_problems(repo, flow.draft)
        if problems:
            raise FlowInvalid(problems)
        return require_valid_flow(flow.draft), None
    version = active_version(repo, flow)
    if version is None:
        raise Conflict(f"Campaign '{campaign.name}' has no published flow yet. Publish the flow first.",
                       code="flow_not_published")
    return FlowDefinition.model_validate(version.definition), version.id
