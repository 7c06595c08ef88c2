"""/api/flows: templates, a campaign's flow draft, publishing, versions and rollback, and the simulator."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from quantum_voice.api.deps import Repo
from quantum_voice.api.schema import errors
from quantum_voice.models.flows import Flow, FlowVersion
from quantum_voice.models.leads import Lead
from quantum_voice.services import conversations
from quantum_voice.services.flows import editing, publishing
from quantum_voice.services.flows.knowledge import KnowledgeSearch
from quantum_voice.services.flows.templates import DEFAULT_TEMPLATE, TEMPLATES
from quantum_voice.services.flows.validation import FlowProblem

router = APIRouter(prefix="/api/flows", tags=["flows"])


def knowledge_search() -> KnowledgeSearch | None:
    """The simulator's knowledge search; ``None`` means the knowledge service. Tests override this dependency."""
    return None


Knowledge = Annotated[KnowledgeSearch | None, Depends(knowledge_search)]


class TemplateOut(BaseModel):
    key: str
    name: str
    description: str


class ProblemOut(BaseModel):
    code: str
    message: str
    node_id: str | None = None
    edge_index: int | None = None


class VersionOut(BaseModel):
    id: int
    version: int
    checksum: str
    published_at: datetime
    published_by_id: int | None
    active: bool


class VersionDetailOut(VersionOut):
    definition: dict[str, Any]


class FlowOut(BaseModel):
    id: int
    campaign_id: int
    name: str
    template_key: str | None
    schema_version: int
    draft: dict[str, Any]
    problems: list[ProblemOut]
    published_version: VersionOut | None
    updated_at: datetime


class FlowCreateIn(BaseModel):
    campaign_id: int
    template: str = Field(default=DEFAULT_TEMPLATE, max_length=60)
    replace: bool = False  # start an existing draft over from the template


class FlowSaveIn(BaseModel):
    draft: dict[str, Any]
    name: str | None = Field(default=None, max_length=200)


class RollbackIn(BaseModel):
    version: int = Field(ge=1)


class SimulationIn(BaseModel):
    messages: list[Annotated[str, Field(max_length=conversations.MAX_UTTERANCE_CHARS)]] = Field(max_length=60)
    use_published: bool = False  # default: the draft, as the designer shows it


class SimulatedTurnOut(BaseModel):
    caller: str | None
    agent: str
    node_id: str | None
    node_type: str | None


class SimulatedLeadOut(BaseModel):
    id: int
    name: str | None
    email: str | None
    phone: str | None
    interest: str | None
    timeline: str | None
    budget: str | None
    score: int
    band: str


class HandoffOut(BaseModel):
    reason: str
    detail: str | None = None
    priority: str
    skill: str | None = None


class SimulationOut(BaseModel):
    conversation_id: int
    turns: list[SimulatedTurnOut]
    lead: SimulatedLeadOut | None
    consent: bool | None
    handoff: HandoffOut | None
    ended: bool
    variables: dict[str, str]
    score: int
    band: str


def _version_out(version: FlowVersion, flow: Flow) -> VersionOut:
    return VersionOut(id=version.id, version=version.version, checksum=version.checksum,
                      published_at=version.published_at, published_by_id=version.published_by_id,
                      active=version.id == flow.published_version_id)


def _flow_out(repo, campaign_id: int) -> FlowOut:
    _, flow, problems = editing.get_flow(repo, campaign_id)
    active = publishing.active_version(repo, flow)
    return FlowOut(id=flow.id, campaign_id=campaign_id, name=flow.name, template_key=flow.template_key,
                   schema_version=flow.schema_version, draft=flow.draft, problems=[_problem(p) for p in problems],
                   published_version=_version_out(active, flow) if active else None, updated_at=flow.updated_at)


def _problem(problem: FlowProblem) -> ProblemOut:
    return ProblemOut(**problem.to_json())


@router.get("/templates", response_model=list[TemplateOut])
def list_templates() -> list[TemplateOut]:
    return [TemplateOut(key=t.key, name=t.name, description=t.description) for t in TEMPLATES.values()]


@router.post("", status_code=201, response_model=FlowOut, responses=errors(404))
def create_flow(body: FlowCreateIn, repo: Repo) -> FlowOut:
    editing.create_flow(repo, body.campaign_id, body.template, replace=body.replace)
    return _flow_out(repo, body.campaign_id)


@router.get("/{campaign_id}", response_model=FlowOut)
def get_flow(campaign_id: int, repo: Repo) -> FlowOut:
    return _flow_out(repo, campaign_id)


@router.put("/{campaign_id}", response_model=FlowOut)
def save_draft(campaign_id: int, body: FlowSaveIn, repo: Repo,
               allow_invalid: bool = Query(False, description="Autosave: keep an unfinished draft, list problems"),
               ) -> FlowOut:
    editing.save_draft(repo, campaign_id, body.draft, name=body.name, allow_invalid=allow_invalid)
    return _flow_out(repo, campaign_id)


@router.post("/{campaign_id}/publish", status_code=201, response_model=VersionOut)
def publish(campaign_id: int, repo: Repo) -> VersionOut:
    version = publishing.publish(repo, campaign_id)
    return _version_out(version, repo.get(Flow, version.flow_id))


@router.get("/{campaign_id}/versions", response_model=list[VersionOut])
def list_versions(campaign_id: int, repo: Repo) -> list[VersionOut]:
    versions = publishing.list_versions(repo, campaign_id)
    flow = repo.get(Flow, versions[0].flow_id) if versions else None
    return [_version_out(v, flow) for v in versions]


@router.get("/{campaign_id}/versions/{version}", response_model=VersionDetailOut)
def get_version(campaign_id: int, version: int, repo: Repo) -> VersionDetailOut:
    found = publishing.get_version(repo, campaign_id, version)
    summary = _version_out(found, repo.get(Flow, found.flow_id))
    return VersionDetailOut(**summary.model_dump(), definition=found.definition)


@router.post("/{campaign_id}/rollback", response_model=FlowOut)
def rollback(campaign_id: int, body: RollbackIn, repo: Repo) -> FlowOut:
    publishing.rollback(repo, campaign_id, body.version)
    return _flow_out(repo, campaign_id)


@router.post("/{campaign_id}/test", response_model=SimulationOut)
def simulate(campaign_id: int, body: SimulationIn, repo: Repo, knowledge: Knowledge) -> SimulationOut:
    result = conversations.simulate(repo, campaign_id, body.messages, use_draft=not body.use_published,
                                    services=conversations.CallServices(knowledge=knowledge))
    return SimulationOut(
        conversation_id=result.conversation_id,
        turns=[SimulatedTurnOut(caller=t.caller, agent=t.agent, node_id=t.node_id, node_type=t.node_type)
               for t in result.turns],
        lead=_simulated_lead(result.lead), consent=result.consent,
        handoff=HandoffOut(**result.handoff) if result.handoff else None, ended=result.ended,
        variables=result.variables, score=result.score, band=result.band)


def _simulated_lead(lead: Lead | None) -> SimulatedLeadOut | None:
    return SimulatedLeadOut.model_validate(lead, from_attributes=True) if lead else None
