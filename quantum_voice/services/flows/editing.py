"""A campaign's flow as the designer edits it: created from a template, saved as a draft (autosave may keep an
unfinished draft, with its problems listed). Publishing and versions are in ``publishing.py``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import Conflict, NotFound
from quantum_voice.models.accounts import Organization
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.flows import Flow
from quantum_voice.models.knowledge import KnowledgeBase
from quantum_voice.services import audit
from quantum_voice.services.flows.schema import NODE_LABELS, SCHEMA_VERSION, NodeType
from quantum_voice.services.flows.templates import DEFAULT_TEMPLATE, build_template, require_template
from quantum_voice.services.flows.validation import TOO_LARGE, FlowInvalid, FlowProblem, check_flow
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository


def get_flow(repo: OrgRepository, campaign_id: int) -> tuple[Campaign, Flow, list[FlowProblem]]:
    """The campaign's flow with the problems of its draft (an autosaved draft may be unfinished)."""
    repo.scope.require(Permission.VIEW)
    campaign, flow = campaign_and_flow(repo, campaign_id)
    return campaign, flow, draft_problems(repo, flow.draft)


def live_campaign(repo: OrgRepository, campaign_id: int) -> Campaign:
    """The organisation's campaign ``campaign_id``; a deleted one is "not found", like another organisation's."""
    campaign = repo.get(Campaign, campaign_id)
    if campaign.deleted_at is not None:
        raise NotFound(f"No campaign with id {campaign_id} in your organisation.")
    return campaign


def campaign_and_flow(repo: OrgRepository, campaign_id: int) -> tuple[Campaign, Flow]:
    campaign = live_campaign(repo, campaign_id)
    if campaign.flow_id is None:
        raise NotFound(f"Campaign '{campaign.name}' has no flow yet. Create one from a template first "
                       f"(POST /api/flows with campaign_id {campaign.id}).", code="no_flow")
    return campaign, repo.get(Flow, campaign.flow_id)


def ensure_knowledge_base(repo: OrgRepository, campaign: Campaign) -> int:
    """The campaign's knowledge base, created empty when it has none (its RAG nodes need one to be valid)."""
    if campaign.knowledge_base_id is None:
        kb = repo.add(KnowledgeBase(organization_id=repo.scope.organization_id, name=f"{campaign.name} knowledge",
                                    description=f"Documents and Q&A for the {campaign.name} campaign."))
        campaign.knowledge_base_id = kb.id
    return campaign.knowledge_base_id


def create_flow(repo: OrgRepository, campaign_id: int, template: str = DEFAULT_TEMPLATE, *,
                replace: bool = False) -> Flow:
    """Give a campaign a flow built from ``template``; ``replace`` starts an existing draft over."""
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    campaign = live_campaign(repo, campaign_id)
    require_template(template)
    if campaign.flow_id is not None and not replace:
        raise Conflict(f"Campaign '{campaign.name}' already has a flow. Edit it (PUT /api/flows/{campaign.id}) or "
                       "send \"replace\": true to start the draft over from the template.", code="flow_exists")
    organization = repo.session.get(Organization, repo.scope.organization_id)
    definition = build_template(template, knowledge_base_id=ensure_knowledge_base(repo, campaign),
                                business=organization.name if organization else campaign.name)
    if campaign.flow_id is not None:
        flow = repo.get(Flow, campaign.flow_id)
        flow.draft, flow.template_key, flow.updated_at = definition.to_json(), template, utcnow()
    else:
        flow = repo.add(Flow(organization_id=repo.scope.organization_id, name=f"{campaign.name} flow",
                             template_key=template, schema_version=SCHEMA_VERSION, draft=definition.to_json()))
        campaign.flow_id = flow.id
    repo.session.flush()
    audit.record(repo.session, "flow.created", organization_id=repo.scope.organization_id,
                 actor_user_id=repo.scope.user_id, target_type="flow", target_id=flow.id, template=template,
                 campaign_id=campaign.id, replaced=replace)
    return flow


def save_draft(repo: OrgRepository, campaign_id: int, draft: Any, *, name: str | None = None,
               allow_invalid: bool = False) -> tuple[Flow, list[FlowProblem]]:
    """Save the designer's draft. Invalid drafts are refused (naming the nodes) unless ``allow_invalid``
    (autosave of work in progress); either way the problems come back for the designer to mark."""
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    _, flow = campaign_and_flow(repo, campaign_id)
    problems = draft_problems(repo, draft)
    too_large = any(p.code == TOO_LARGE for p in problems)
    if problems and (not allow_invalid or too_large or not _has_nodes_and_edges(draft)):
        raise FlowInvalid(problems)
    check = check_flow(draft)
    flow.draft = check.definition.to_json() if check.definition is not None and not problems else dict(draft)
    if name and name.strip():
        flow.name = " ".join(name.split())[:200]
    flow.updated_at = utcnow()
    repo.session.flush()
    return flow, problems


def _has_nodes_and_edges(draft: Any) -> bool:
    return isinstance(draft, Mapping) and isinstance(draft.get("nodes", []), list) and \
        isinstance(draft.get("edges", []), list)


def draft_problems(repo: OrgRepository, draft: Any) -> list[FlowProblem]:
    """Everything wrong with ``draft``: the flow's own rules plus knowledge bases this organisation lacks."""
    problems = check_flow(draft).problems
    return problems + _missing_knowledge_bases(repo, draft)


def _missing_knowledge_bases(repo: OrgRepository, draft: Any) -> list[FlowProblem]:
    wanted = _knowledge_bases_of(draft)
    if not wanted:
        return []
    existing = {kb.id for kb in repo.list(KnowledgeBase, KnowledgeBase.id.in_(set(wanted.values())), limit=1000)}
    label = NODE_LABELS[NodeType.RAG_ANSWER]
    return [FlowProblem("unknown_knowledge_base", f"{label} node '{node_id}': knowledge base {kb_id} does not exist in "
                        "your organisation. Pick one of your knowledge bases.", node_id)
            for node_id, kb_id in wanted.items() if kb_id not in existing]


def _knowledge_bases_of(draft: Any) -> dict[str, int]:
    """{RAG Answer node id: knowledge base id} as the raw draft says (it may not parse as a whole)."""
    if not _has_nodes_and_edges(draft):
        return {}
    wanted: dict[str, int] = {}
    for node in draft.get("nodes", []):
        if not isinstance(node, Mapping) or node.get("type") != NodeType.RAG_ANSWER.value:
            continue
        config = node.get("config")
        kb_id = config.get("knowledge_base_id") if isinstance(config, Mapping) else None
        if isinstance(kb_id, int) and not isinstance(kb_id, bool):
            wanted[str(node.get("id"))] = kb_id
    return wanted
