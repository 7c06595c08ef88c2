"""New campaigns start from the "Lead capture + Q&A" template, published: the demo one and the onboarding one."""

from sqlmodel import select

from quantum_voice.core.db import session_scope
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.flows import Flow, FlowVersion
from quantum_voice.models.system import AuditLog
from quantum_voice.services import conversations, onboarding
from quantum_voice.services.conversations import CallServices
from quantum_voice.services.flows.validation import check_flow
from quantum_voice.services.seed import seed_demo
from quantum_voice.services.tenancy import OrgRepository, Scope
from tests.factories import repo_for, verified_owner
from tests.unit.flows.support import FixedPassages


def assert_runs_the_lead_capture_flow(session, campaign: Campaign) -> None:
    flow = session.get(Flow, campaign.flow_id)
    version = session.get(FlowVersion, flow.published_version_id)
    assert flow.template_key == "lead_capture_qa" and version.version == 1
    assert check_flow(version.definition).ok and campaign.knowledge_base_id is not None
    rag = next(n for n in version.definition["nodes"] if n["type"] == "rag_answer")
    assert rag["config"]["knowledge_base_id"] == campaign.knowledge_base_id


def test_the_demo_campaign_runs_the_lead_capture_flow(engine):
    with session_scope() as session:
        assert seed_demo(session)
    with session_scope() as session:
        campaign = session.exec(select(Campaign)).one()
        assert_runs_the_lead_capture_flow(session, campaign)
        scope = Scope(user_id=None, organization_id=campaign.organization_id, role="owner", via="system")
        outcome = conversations.start_conversation(OrgRepository(session, scope), campaign.id, None,
                                                   CallServices(knowledge=FixedPassages()))
        assert outcome.agent.startswith("Hi, thanks for calling Harbor View Residences!")


def test_the_onboarding_campaign_runs_the_lead_capture_flow(engine):
    with session_scope() as session:
        user, _ = verified_owner(session)
        campaign = onboarding.complete_onboarding(repo_for(session, user), organization_name="Sunny Solar",
                                                  industry="solar", first_campaign_name="Roof check")
        assert_runs_the_lead_capture_flow(session, campaign)
        actions = {a.action for a in session.exec(select(AuditLog)).all()}
        assert {"campaign.created", "flow.created", "flow.published", "organization.onboarded"} <= actions
        greeting = session.get(Flow, campaign.flow_id).draft["nodes"][0]["config"]["greeting"]
        assert greeting.startswith("Hi, thanks for calling Sunny Solar!")
