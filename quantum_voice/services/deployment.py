"""Deploying a campaign: QR codes (one per place it is printed, each counting its scans) and the web widget snippet.

The scan URL a QR code encodes is ``APP_URL/api/q/{code}``: it counts the scan and sends the caller on to the
campaign's call page. Scans are counted at most ``SCAN_COUNT_LIMIT`` times per IP and code, so a bot cannot inflate
the numbers (it is still sent on).
"""

from __future__ import annotations

import html
import io
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M
from sqlmodel import Session, func, select, update

from quantum_voice.core.cache import get_cache
from quantum_voice.core.config import get_settings
from quantum_voice.core.errors import NotFound, ValidationFailed
from quantum_voice.core.security import sign
from quantum_voice.models.campaigns import Campaign, CampaignStatus, QRCode, QRScanEvent
from quantum_voice.services import audit
from quantum_voice.services.accounts import check_name
from quantum_voice.services.campaigns import BRAND_COLOR, active_campaign, call_url
from quantum_voice.services.permissions import Permission
from quantum_voice.services.ratelimit import Limit, RateLimiter
from quantum_voice.services.tenancy import OrgRepository

CODE_BYTES = 9  # 12 URL-safe characters, 72 random bits: short to print, impossible to guess
SCAN_COUNT_LIMIT = Limit(max_hits=5, window_seconds=3600)  # per IP and code
USER_AGENT_MAX, REFERRER_MAX = 400, 500  # the columns' lengths
WIDGET_LABEL_DEFAULT, WIDGET_LABEL_MAX = "Talk to us", 60
_QR_BOX_PIXELS, _QR_BORDER_MODULES = 10, 4


# ---------------------------------------------------------------- QR codes

@dataclass(frozen=True)
class QRCodeView:
    qr: QRCode
    scan_url: str
    last_scanned_at: datetime | None


def scan_url(code: str) -> str:
    """What a QR code encodes: the public scan counter, which then redirects to the call page."""
    return f"{get_settings().app_url.rstrip('/')}/api/q/{quote(code)}"


def create_qr_code(repo: OrgRepository, campaign_id: int, *, label: str, ip: str | None = None) -> QRCodeView:
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    campaign = active_campaign(repo, campaign_id)
    label = check_name(label or "", "QR code label (where it is printed, e.g. \"yard sign\")", "label",
                       max_length=120)
    qr = repo.add(QRCode(organization_id=repo.scope.organization_id, campaign_id=campaign.id, label=label,
                         code=_unused_code(repo.session)))
    audit.record(repo.session, "qr_code.created", organization_id=repo.scope.organization_id,
                 actor_user_id=repo.scope.user_id, target_type="qr_code", target_id=qr.id, ip=ip,
                 campaign_id=campaign.id, label=label)
    return QRCodeView(qr, scan_url(qr.code), None)


def list_qr_codes(repo: OrgRepository, campaign_id: int) -> list[QRCodeView]:
    """The campaign's QR codes, oldest first, with their scan counts. Creates nothing."""
    repo.scope.require(Permission.VIEW)
    campaign = active_campaign(repo, campaign_id)
    codes = repo.list(QRCode, QRCode.campaign_id == campaign.id, order_by=QRCode.id, limit=500)
    last_scans = dict(repo.session.exec(
        select(QRScanEvent.qr_code_id, func.max(QRScanEvent.scanned_at))
        .where(QRScanEvent.organization_id == repo.scope.organization_id, QRScanEvent.campaign_id == campaign.id)
        .group_by(QRScanEvent.qr_code_id)).all())
    return [QRCodeView(qr, scan_url(qr.code), last_scans.get(qr.id)) for qr in codes]


def get_qr_code(repo: OrgRepository, campaign_id: int, qr_id: int) -> QRCodeView:
    repo.scope.require(Permission.VIEW)
    qr = _campaign_qr(repo, campaign_id, qr_id)
    return QRCodeView(qr, scan_url(qr.code), None)


def delete_qr_code(repo: OrgRepository, campaign_id: int, qr_id: int, *, ip: str | None = None) -> None:
    """Deletes the code and its scan history; a printed copy then shows "not found". Calls keep their record."""
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    qr = _campaign_qr(repo, campaign_id, qr_id)
    audit.record(repo.session, "qr_code.deleted", organization_id=repo.scope.organization_id,
                 actor_user_id=repo.scope.user_id, target_type="qr_code", target_id=qr.id, ip=ip,
                 campaign_id=campaign_id, label=qr.label, scan_count=qr.scan_count)
    repo.delete(qr)


def qr_png(data: str) -> bytes:
    image = _qr(data).make_image()  # Pillow's image factory, the library's default
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def qr_svg(data: str) -> bytes:
    return _qr(data).make_image(image_factory=qrcode.image.svg.SvgPathImage).to_string(encoding="utf-8")


def _qr(data: str) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=_QR_BOX_PIXELS, border=_QR_BORDER_MODULES)
    qr.add_data(data)
    qr.make(fit=True)
    return qr


def _campaign_qr(repo: OrgRepository, campaign_id: int, qr_id: int) -> QRCode:
    campaign = active_campaign(repo, campaign_id)
    qr = repo.get(QRCode, qr_id)
    if qr.campaign_id != campaign.id:
        raise NotFound(f"Campaign '{campaign.name}' has no QR code with id {qr_id}.")
    return qr


def _unused_code(session: Session) -> str:
    while True:  # a collision is astronomically unlikely, but cheap to rule out
        code = secrets.token_urlsafe(CODE_BYTES)
        if session.exec(select(QRCode.id).where(QRCode.code == code)).first() is None:
            return code


# ---------------------------------------------------------------- scans (public, nobody signed in)

@dataclass(frozen=True)
class ScanOutcome:
    redirect_url: str
    counted: bool


def hash_client_ip(ip: str | None) -> str | None:
    """A keyed hash of the caller's IP (HMAC-SHA256 with the app's secret key): equal IPs give equal hashes, for
    counting and rate limits, but the IP cannot be recovered by hashing every possible address. The same scheme as
    the call's ``caller_ip_hash`` (services/public_calls/placement.py), so a scan and the call it led to hash alike."""
    return sign(get_settings().effective_secret_key, f"ip:{ip}".encode()) if ip else None


def record_scan(session: Session, code: str, *, ip: str | None, user_agent: str | None,
                referrer: str | None) -> ScanOutcome | None:
    """Count a scan of ``code`` and say where to send the caller; ``None`` when the code or its campaign is gone."""
    qr = session.exec(select(QRCode).where(QRCode.code == code)).first()
    campaign = session.get(Campaign, qr.campaign_id) if qr else None
    if campaign is None or campaign.deleted_at is not None or campaign.status == CampaignStatus.ARCHIVED.value:
        return None
    ip_hash = hash_client_ip(ip)
    counted = RateLimiter(get_cache(), "qr-scan").hit(f"{qr.code}:{ip_hash or 'unknown'}", SCAN_COUNT_LIMIT).allowed
    if counted:
        session.add(QRScanEvent(organization_id=qr.organization_id, qr_code_id=qr.id, campaign_id=campaign.id,
                                user_agent=_clip(user_agent, USER_AGENT_MAX), ip_hash=ip_hash,
                                referrer=_clip(referrer, REFERRER_MAX)))
        # in SQL, so simultaneous scans never overwrite each other's count
        session.exec(update(QRCode).where(QRCode.id == qr.id).values(scan_count=QRCode.scan_count + 1))
        session.flush()
    return ScanOutcome(f"{call_url(campaign)}?qr={quote(qr.code)}", counted)


def _clip(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else None


# ---------------------------------------------------------------- web widget

@dataclass(frozen=True)
class WidgetView:
    snippet: str
    call_url: str
    color: str
    label: str
    greeting: str


def widget_script_url() -> str:
    return f"{get_settings().app_url.rstrip('/')}/widget.js"  # assets/widget.js, served at the site root


def widget(repo: OrgRepository, campaign_id: int, *, color: str | None = None,
           label: str | None = None) -> WidgetView:
    """The ``<script>`` tag to paste into a website, in the campaign's colour; ``color`` and ``label`` override
    them (the live preview while customising)."""
    repo.scope.require(Permission.VIEW)
    campaign = active_campaign(repo, campaign_id)
    color = _widget_color(color) if color is not None else campaign.brand_color
    label = _widget_label(label) if label is not None else WIDGET_LABEL_DEFAULT
    attributes = {"src": widget_script_url(), "data-campaign": campaign.slug, "data-color": color,
                  "data-label": label}
    snippet = "<script " + " ".join(f'{name}="{html.escape(value, quote=True)}"'
                                    for name, value in attributes.items()) + " async></script>"
    return WidgetView(snippet, call_url(campaign), color, label, campaign.greeting)


def _widget_color(value: str) -> str:
    if not BRAND_COLOR.fullmatch(value.strip()):
        raise ValidationFailed(f"color must be a hex colour like #6E56CF (got {value!r}).", field="color")
    return value.strip().upper()


def _widget_label(value: str) -> str:
    value = " ".join(value.split())
    if not value or len(value) > WIDGET_LABEL_MAX:
        raise ValidationFailed(f"label must be 1 to {WIDGET_LABEL_MAX} characters, e.g. \"{WIDGET_LABEL_DEFAULT}\".",
                               field="label")
    return value
