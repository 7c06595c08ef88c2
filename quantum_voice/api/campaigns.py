"""/api/campaigns: create a campaign from a flow template, list, read, edit (go live, pause) and delete campaigns;
their QR codes (with images) and the web widget snippet. Reads need the view permission; changes need
manage_campaigns."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from quantum_voice.api import cursors
from quantum_voice.api.deps import Repo, client_ip
from quantum_voice.services import campaigns, deployment, paging
from quantum_voice.services.handoffs.expiry import wait_seconds
from quantum_voice.services.flows.templates import DEFAULT_TEMPLATE

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"])


class CampaignIn(BaseModel):
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=5000)
    knowledge_base_id: int | None = None  # empty: a new, empty knowledge base for this campaign
    template: str = Field(default=DEFAULT_TEMPLATE, max_length=60)


class CampaignUpdate(BaseModel):
    """Only the fields sent are changed. Going live (status "live") needs a published flow and privacy wording."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str | None = None
    target_audience: str | None = None
    status: str | None = Field(None, description="draft, live or paused")
    knowledge_base_id: int | None = Field(None, description="One of your knowledge bases; null detaches it")
    greeting: str | None = None
    brand_color: str | None = Field(None, description="#RRGGBB")
    logo_url: str | None = Field(None, description="An http(s) address or a path on this site; null removes it")
    privacy_wording: str | None = Field(None, description="What callers agree to; required while live")
    privacy_policy_version: str | None = None
    max_call_seconds: int | None = Field(None, description="30 to 3600")
    handoff_wait_seconds: int | None = Field(None, description="5 to 3600: how long a caller holds for a person "
                                                               "before a callback is offered")


class CampaignOut(BaseModel):
    id: int
    name: str
    slug: str
    description: str
    target_audience: str
    status: str
    knowledge_base_id: int | None
    flow_id: int | None
    template: str | None
    published_version: int | None
    greeting: str
    brand_color: str
    logo_url: str | None
    privacy_wording: str
    privacy_policy_version: str
    max_call_seconds: int
    handoff_wait_seconds: int = Field(description="How long a caller holds for a person (45 unless set)")
    call_url: str = Field(description="The public call link: APP_URL/call/{slug}")
    created_at: datetime
    updated_at: datetime


def _out(view: campaigns.CampaignView) -> CampaignOut:
    c = view.campaign
    return CampaignOut(id=c.id, name=c.name, slug=c.slug, description=c.description,
                       target_audience=c.target_audience, status=c.status, knowledge_base_id=c.knowledge_base_id,
                       flow_id=c.flow_id, template=view.template_key, published_version=view.published_version,
                       greeting=c.greeting, brand_color=c.brand_color, logo_url=c.logo_url,
                       privacy_wording=c.privacy_wording, privacy_policy_version=c.privacy_policy_version,
                       max_call_seconds=c.max_call_seconds, handoff_wait_seconds=wait_seconds(c),
                       call_url=campaigns.call_url(c),
                       created_at=c.created_at, updated_at=c.updated_at)


@router.post("", status_code=201, response_model=CampaignOut)
def create_campaign(body: CampaignIn, repo: Repo, request: Request) -> CampaignOut:
    campaign = campaigns.create_campaign(repo, name=body.name, description=body.description,
                                         knowledge_base_id=body.knowledge_base_id, template=body.template,
                                         ip=client_ip(request))
    return _out(campaigns.get_campaign(repo, campaign.id))


@router.get("", response_model=list[CampaignOut], responses=cursors.NEXT_HEADERS)
def list_campaigns(repo: Repo, request: Request, response: Response, limit: int = Query(100, ge=1, le=500),
                   offset: int = Query(0, ge=0, description="How many to skip (the old way; cursor is better)"),
                   cursor: cursors.Cursor = None) -> list[CampaignOut]:
    """Newest first. Up to 500 at a time (100 unless ``limit`` says), as before cursors came."""
    cursors.no_offset_with(cursor, offset)
    views = campaigns.list_campaigns(repo, limit=limit + 1, offset=offset,
                                     after=cursors.key_of(cursor, datetime, int))
    batch = paging.batch_of(views, limit, lambda view: (view.campaign.created_at, view.campaign.id))
    return [_out(view) for view in cursors.sent(request, response, batch)]


@router.get("/{campaign_id}", response_model=CampaignOut)
def get_campaign(campaign_id: int, repo: Repo) -> CampaignOut:
    return _out(campaigns.get_campaign(repo, campaign_id))


@router.put("/{campaign_id}", response_model=CampaignOut)
def update_campaign(campaign_id: int, body: CampaignUpdate, repo: Repo, request: Request) -> CampaignOut:
    campaigns.update_campaign(repo, campaign_id, body.model_dump(exclude_unset=True), ip=client_ip(request))
    return _out(campaigns.get_campaign(repo, campaign_id))


@router.delete("/{campaign_id}", status_code=204)
def delete_campaign(campaign_id: int, repo: Repo, request: Request) -> Response:
    campaigns.delete_campaign(repo, campaign_id, ip=client_ip(request))
    return Response(status_code=204)


# ---------------------------------------------------------------- QR codes

class QRCodeIn(BaseModel):
    label: str = Field(max_length=120, description='Where it is printed: "yard sign", "flyer"')


class QRCodeOut(BaseModel):
    id: int
    campaign_id: int
    label: str
    code: str
    scan_url: str = Field(description="What the QR code encodes: APP_URL/api/q/{code}")
    scan_count: int
    last_scanned_at: datetime | None
    png_url: str
    svg_url: str
    created_at: datetime


def _qr_out(view: deployment.QRCodeView) -> QRCodeOut:
    qr = view.qr
    image = f"/api/campaigns/{qr.campaign_id}/qr/{qr.id}"
    return QRCodeOut(id=qr.id, campaign_id=qr.campaign_id, label=qr.label, code=qr.code, scan_url=view.scan_url,
                     scan_count=qr.scan_count, last_scanned_at=view.last_scanned_at, png_url=f"{image}.png",
                     svg_url=f"{image}.svg", created_at=qr.created_at)


@router.post("/{campaign_id}/qr", status_code=201, response_model=QRCodeOut)
def create_qr_code(campaign_id: int, body: QRCodeIn, repo: Repo, request: Request) -> QRCodeOut:
    return _qr_out(deployment.create_qr_code(repo, campaign_id, label=body.label, ip=client_ip(request)))


@router.get("/{campaign_id}/qr", response_model=list[QRCodeOut])
def list_qr_codes(campaign_id: int, repo: Repo) -> list[QRCodeOut]:
    return [_qr_out(view) for view in deployment.list_qr_codes(repo, campaign_id)]


def _image(view: deployment.QRCodeView, content: bytes, media_type: str, extension: str) -> Response:
    filename = f"qr-{view.qr.campaign_id}-{view.qr.code}.{extension}"
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "private"})


@router.get("/{campaign_id}/qr/{qr_id}.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "The QR code as a PNG image"}})
def qr_code_png(campaign_id: int, qr_id: int, repo: Repo) -> Response:
    view = deployment.get_qr_code(repo, campaign_id, qr_id)
    return _image(view, deployment.qr_png(view.scan_url), "image/png", "png")


@router.get("/{campaign_id}/qr/{qr_id}.svg", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}, "description": "The QR code as an SVG image"}})
def qr_code_svg(campaign_id: int, qr_id: int, repo: Repo) -> Response:
    view = deployment.get_qr_code(repo, campaign_id, qr_id)
    return _image(view, deployment.qr_svg(view.scan_url), "image/svg+xml", "svg")


@router.delete("/{campaign_id}/qr/{qr_id}", status_code=204)
def delete_qr_code(campaign_id: int, qr_id: int, repo: Repo, request: Request) -> Response:
    deployment.delete_qr_code(repo, campaign_id, qr_id, ip=client_ip(request))
    return Response(status_code=204)


# ---------------------------------------------------------------- web widget

class WidgetPreview(BaseModel):
    color: str
    label: str
    greeting: str


class WidgetOut(BaseModel):
    snippet: str = Field(description="The <script> tag to paste into a website")
    call_url: str
    preview: WidgetPreview


@router.get("/{campaign_id}/widget", response_model=WidgetOut)
def widget(campaign_id: int, repo: Repo,
           color: str | None = Query(None, max_length=20, description="#RRGGBB; default: the campaign's colour"),
           label: str | None = Query(None, max_length=200, description='Button text; default "Talk to us"'),
           ) -> WidgetOut:
    view = deployment.widget(repo, campaign_id, color=color, label=label)
    return WidgetOut(snippet=view.snippet, call_url=view.call_url,
                     preview=WidgetPreview(color=view.color, label=view.label, greeting=view.greeting))
