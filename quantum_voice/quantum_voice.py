"""The Reflex app: registers the pages and mounts the REST API under /api."""

from contextlib import asynccontextmanager

import reflex as rx

from quantum_voice.api import create_api
from quantum_voice.api.headers import SecurityHeaders
from quantum_voice.core.db import make_room_for_waiting_requests
from quantum_voice.core.logging_setup import configure_logging
from quantum_voice.core.origins import is_trusted_origin
from quantum_voice.pages.accept_invite import accept_invite_page
from quantum_voice.pages.admin import admin_page
from quantum_voice.pages.agent_workspace import agent_workspace_page
from quantum_voice.pages.call import call_page
from quantum_voice.pages.call_detail import call_detail_page
from quantum_voice.pages.campaign_detail import campaign_detail_page
from quantum_voice.pages.campaigns import campaigns_page
from quantum_voice.pages.dashboard import dashboard_page
from quantum_voice.pages.developers import developers_page
from quantum_voice.pages.flow_designer import flow_designer_page
from quantum_voice.pages.flows import flows_page
from quantum_voice.pages.home import home_page
from quantum_voice.pages.integrations import integrations_page
from quantum_voice.pages.knowledge import knowledge_page
from quantum_voice.pages.knowledge_upload import knowledge_upload_page
from quantum_voice.pages.lead_detail import lead_detail_page
from quantum_voice.pages.leads import leads_page
from quantum_voice.pages.login import login_page
from quantum_voice.pages.onboarding import onboarding_page
from quantum_voice.pages.password import forgot_password_page, reset_password_page
from quantum_voice.pages.signup import signup_page
from quantum_voice.pages.team import team_page
from quantum_voice.pages.verify import verify_page
from quantum_voice.states.auth import (
    ForgotPasswordState,
    LoginState,
    ResetPasswordState,
    SignupState,
    VerifyState,
)
from quantum_voice.states.admin import AdminState
from quantum_voice.states.agent_call import CallPanelState
from quantum_voice.states.agent_workspace import AgentWorkspaceState
from quantum_voice.states.call import CallPageState
from quantum_voice.states.call_detail import CallDetailState
from quantum_voice.states.campaign_detail import CampaignDetailState
from quantum_voice.states.campaigns import CampaignsState
from quantum_voice.states.dashboard import DashboardState
from quantum_voice.states.developers import DevelopersState
from quantum_voice.states.webhooks import WebhooksState
from quantum_voice.states.flow_designer import FlowDesignerState
from quantum_voice.states.flows import FlowsState
from quantum_voice.states.integrations import IntegrationsState
from quantum_voice.states.invitation import AcceptInviteState
from quantum_voice.states.knowledge import KnowledgeState
from quantum_voice.states.knowledge.uploads import UploadsState
from quantum_voice.states.lead_detail import LeadDetailState
from quantum_voice.states.leads import LeadsState
from quantum_voice.states.onboarding import OnboardingState
from quantum_voice.states.session import SessionState
from quantum_voice.states.team import TeamState

configure_logging()

# The REST API is mounted under /api; the security headers wrap everything served (pages, scripts, the API).
# The theme is set by RadixThemesPlugin in rxconfig.py.
app = rx.App(api_transformer=[create_api(), SecurityHeaders])


def _websocket_origin_allowed(origin: str | None, environ: dict) -> bool:
    """The UI's websocket carries the sign-in cookie: only the app's own pages (or a configured origin) may open it."""
    return is_trusted_origin(origin, host=environ.get("HTTP_HOST"), scheme=environ.get("wsgi.url_scheme", "http"),
                             forwarded_proto=environ.get("HTTP_X_FORWARDED_PROTO"))


if app.sio is not None:
    app.sio.eio.cors_allowed_origins = _websocket_origin_allowed


@asynccontextmanager
async def background_worker():
    """Document processing and other queued jobs run beside the app for as long as it runs."""
    import threading

    from quantum_voice.services.flows import semantic
    from quantum_voice.services.knowledge import grammar
    from quantum_voice.worker import start_background_worker, stop_background_worker

    def warm_up() -> None:
        semantic.warm_up()
        grammar.warm_up()

    start_background_worker()
    # Load the intent examples' embeddings and the English parser now, not during a caller's first turn (about
    # 10 s on 2 cores).
    threading.Thread(target=warm_up, name="models-warm-up", daemon=True).start()
    try:
        yield
    finally:
        stop_background_worker()


app.register_lifespan_task(background_worker)
app.register_lifespan_task(make_room_for_waiting_requests)


def title(page: str) -> str:
    return f"{page} · Quantum Voice"


# Public pages.
app.add_page(home_page, route="/", title="Quantum Voice", on_load=SessionState.route_home)
app.add_page(login_page, route="/login", title=title("Sign in"), on_load=LoginState.load)
app.add_page(signup_page, route="/signup", title=title("Create account"), on_load=SignupState.load)
app.add_page(verify_page, route="/verify", title=title("Verify email"), on_load=VerifyState.load)
app.add_page(forgot_password_page, route="/forgot-password", title=title("Reset password"),
             on_load=ForgotPasswordState.load)
app.add_page(reset_password_page, route="/reset-password", title=title("Choose a new password"),
             on_load=ResetPasswordState.load)
app.add_page(accept_invite_page, route="/accept-invite", title=title("Join your team"),
             on_load=AcceptInviteState.load)
# The caller's page (QR codes, call links and the web widget lead here): no sign-in.
app.add_page(call_page, route="/call/[slug]", title="Call us", on_load=CallPageState.load)

# Signed-in pages: each load handler runs the session guard first.
app.add_page(onboarding_page, route="/onboarding", title=title("Set up"), on_load=OnboardingState.load)
app.add_page(dashboard_page, route="/dashboard", title=title("Dashboard"), on_load=DashboardState.load)
app.add_page(campaigns_page, route="/campaigns", title=title("Campaigns"), on_load=CampaignsState.load)
app.add_page(campaign_detail_page, route="/campaigns/[campaign_id]", title=title("Campaign"),
             on_load=CampaignDetailState.load)
app.add_page(flows_page, route="/flows", title=title("Flows"), on_load=FlowsState.load)
app.add_page(flow_designer_page, route="/flows/designer/[campaign_id]", title=title("Flow designer"),
             on_load=FlowDesignerState.load)
app.add_page(knowledge_page, route="/knowledge", title=title("Knowledge"), on_load=KnowledgeState.load)
app.add_page(knowledge_upload_page, route="/knowledge/upload", title=title("Upload documents"),
             on_load=[UploadsState.drop_unsent, KnowledgeState.load])
app.add_page(agent_workspace_page, route="/agent", title=title("Agent workspace"),
             on_load=[AgentWorkspaceState.load, CallPanelState.load])
app.add_page(leads_page, route="/leads", title=title("Leads"), on_load=LeadsState.load)
app.add_page(lead_detail_page, route="/leads/[lead_id]", title=title("Lead"), on_load=LeadDetailState.load)
app.add_page(call_detail_page, route="/calls/[call_id]", title=title("Call"), on_load=CallDetailState.load)
app.add_page(team_page, route="/team", title=title("Team"), on_load=TeamState.load)
app.add_page(integrations_page, route="/integrations", title=title("Integrations"), on_load=IntegrationsState.load)
app.add_page(developers_page, route="/developers", title=title("Developers"),
             on_load=[DevelopersState.load, WebhooksState.load])
app.add_page(admin_page, route="/admin", title=title("Admin"), on_load=AdminState.load)
