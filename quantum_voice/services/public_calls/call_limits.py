"""Whether and how often a campaign's line takes calls: its status and hard budget, the email gate's limits per
caller address and address range, the attempts to place a call per caller address and range, the calls placed on
the campaign per hour (a placement that fails gives its count back), and the limits on resuming a dropped call.
Counters live in the shared cache, so every app process counts together."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, select

from quantum_voice.core.cache import get_cache
from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import get_settings
from quantum_voice.core.errors import RateLimited
from quantum_voice.models.billing import Budget, UsageRecord
from quantum_voice.models.campaigns import Campaign, CampaignStatus
from quantum_voice.services.deployment import hash_client_ip
from quantum_voice.services.ratelimit import Limit, RateLimiter

UNAVAILABLE = "This line isn't taking calls right now. Please try again later."
# resuming a lost call: the page tries a few times (with backoff) per drop; a call may drop a few times
RESUMES_PER_CALL_PER_HOUR = 20
RESUMES_PER_IP_PER_HOUR = 60


def why_not_accepting(session: Session, campaign: Campaign) -> str | None:
    """Why the campaign's line takes no calls now, for the caller; ``None`` when it does."""
    if campaign.status != CampaignStatus.LIVE.value:
        return UNAVAILABLE
    if _over_hard_budget(session, campaign):
        return UNAVAILABLE
    return None


def _over_hard_budget(session: Session, campaign: Campaign) -> bool:
    """A budget's hard limit refuses new calls: the campaign's own budget, else the organisation's."""
    budgets = session.exec(select(Budget).where(Budget.organization_id == campaign.organization_id,
                                                sa.or_(Budget.campaign_id == campaign.id,
                                                       Budget.campaign_id.is_(None)))).all()
    for budget in sorted(budgets, key=lambda b: b.campaign_id is None):
        if budget.hard_limit_usd is None:
            continue
        spent = session.exec(select(sa.func.coalesce(sa.func.sum(UsageRecord.cost_usd), 0)).where(
            UsageRecord.organization_id == campaign.organization_id,
            UsageRecord.created_at >= _period_start(budget.period),
            *([UsageRecord.campaign_id == campaign.id] if budget.campaign_id else []))).one()
        if Decimal(str(spent)) >= budget.hard_limit_usd:
            return True
    return False


def _period_start(period: str) -> datetime:
    now = utcnow()
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day if period == "daily" else day.replace(day=1) if period == "monthly" else day - timedelta(days=7)


def check_gate_limits(ip: str | None) -> None:
    """The email gate, per caller address and per address range (/24 for IPv4, /48 for IPv6): one network cannot
    write consent records without end. The campaign's capacity is counted where calls are placed (``use_capacity``),
    so gate posts alone can never shut a campaign's line."""
    if not ip:
        return
    settings = get_settings()
    limiter = RateLimiter(get_cache(), "calls")
    busy = "You've started a lot of calls in a short time. Please wait a while before calling again."
    for key, limit in ((f"ip:{hash_client_ip(ip)}", Limit(settings.calls_per_ip_per_hour, 3600)),
                       (f"range:{hash_client_ip(address_range(ip))}", Limit(settings.calls_per_range_per_hour, 3600))):
        verdict = limiter.hit(key, limit)
        if not verdict.allowed:
            raise RateLimited(busy, retry_after=verdict.retry_after)


def use_capacity(campaign: Campaign, *, is_test: bool) -> None:
    """One more call on the campaign's line this hour (the owner's test calls don't count). A call that is then not
    placed after all (the sidecar refused the offer, none was free, the socket never opened) gives it back with
    ``give_back_capacity``, so only calls actually placed use up the line."""
    if is_test:
        return
    verdict = RateLimiter(get_cache(), "calls").hit(
        f"campaign:{campaign.id}", Limit(get_settings().calls_per_campaign_per_hour, 3600))
    if not verdict.allowed:
        RateLimiter(get_cache(), "calls").undo(f"campaign:{campaign.id}")  # a refused call is not a call either
        raise RateLimited("This line is very busy right now. Please try again in a few minutes.",
                          retry_after=verdict.retry_after)


def give_back_capacity(campaign_id: int, *, is_test: bool) -> None:
    """The call ``use_capacity`` counted was not placed: the line has room for it again."""
    if not is_test:
        RateLimiter(get_cache(), "calls").undo(f"campaign:{campaign_id}")


# Placing a call from one ticket may take a few tries (WebRTC, then the WebSocket fallback; a retry): attempts are
# limited per caller address and range at this multiple of the gate's limits (CALLS_PER_IP_PER_HOUR,
# CALLS_PER_RANGE_PER_HOUR), so one network cannot keep the voice sidecars busy with offers.
PLACEMENT_TRIES_PER_CALL = 3


def check_placement_limits(ip: str | None) -> None:
    """One more attempt to place a call (``POST /calls``, ``/calls/livekit``, the call socket) from the caller's
    address and address range this hour, whether or not it succeeds."""
    if not ip:
        return
    settings = get_settings()
    limiter = RateLimiter(get_cache(), "call-placements")
    busy = "You've tried to start a lot of calls in a short time. Please wait a while before calling again."
    for key, per_hour in ((f"ip:{hash_client_ip(ip)}", settings.calls_per_ip_per_hour),
                          (f"range:{hash_client_ip(address_range(ip))}", settings.calls_per_range_per_hour)):
        verdict = limiter.hit(key, Limit(per_hour * PLACEMENT_TRIES_PER_CALL, 3600))
        if not verdict.allowed:
            raise RateLimited(busy, retry_after=verdict.retry_after)


def address_range(ip: str) -> str:
    """"203.0.113.7" → "203.0.113.0/24"; an IPv6 address → its /48; anything else as it is."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    return str(ipaddress.ip_network(f"{address}/{24 if address.version == 4 else 48}", strict=False))


def check_resume_limits(conversation_id: int, ip: str | None) -> None:
    """One more resume of the conversation's call, and from the caller's address, this hour."""
    limiter = RateLimiter(get_cache(), "call-resumes")
    checks = [(f"conversation:{conversation_id}", Limit(RESUMES_PER_CALL_PER_HOUR, 3600),
               "This call has been reconnected many times. Please press Call to start a new one.")]
    if ip:
        checks.append((f"ip:{hash_client_ip(ip)}", Limit(RESUMES_PER_IP_PER_HOUR, 3600),
                       "Too many reconnects from your network in a short time. Please wait a while before calling "
                       "again."))
    for key, limit, message in checks:
        verdict = limiter.hit(key, limit)
        if not verdict.allowed:
            raise RateLimited(message, retry_after=verdict.retry_after)
