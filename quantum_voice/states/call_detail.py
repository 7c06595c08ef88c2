"""/calls/[call_id]: one call — its transcript with each turn's time from the start, and per answered turn the latency
waterfall the voice sidecar measured. Thin: ``services/analytics/call_view`` reads the call; this turns it into
rows the page draws (bars as widths in per cent of the call's slowest turn, so turns compare at a glance)."""

from __future__ import annotations

from dataclasses import dataclass, field

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.services.analytics import call_view
from quantum_voice.services.analytics.call_view import CallDetail, CallTurn, Waterfall
from quantum_voice.states.format import moment
from quantum_voice.states.session import SessionState

STAGE_COLOURS = {"stt_ms": "#3E63DD", "endpointing_ms": "#8D8D8D", "brain_ms": "#6E56CF",
                 "tts_first_byte_ms": "#12A594", "rest": "rgba(139,141,152,0.35)"}
REST_LABEL = "Not broken down"  # voice to voice beyond the measured stages (audio queued, sent, played)
SPEAKERS = {"caller": "Caller", "agent": "Agent", "human_agent": "Team member", "system": "System"}
END_REASONS = {"completed": "The flow finished", "caller_hung_up": "The caller hung up",
               "voice_worker_lost": "The voice server was lost", "max_duration": "The call reached its length limit",
               "agent_disconnected": "The agent disconnected", "simulation_finished": "The simulation finished"}


@dataclass
class Legend:
    label: str = ""
    colour: str = ""


LEGEND = [Legend(label, STAGE_COLOURS[key]) for key, label in call_view.STAGES] + \
    [Legend(REST_LABEL, STAGE_COLOURS["rest"])]


@dataclass
class Segment:
    label: str = ""
    ms: str = ""  # "120 ms"
    left: str = "0%"
    width: str = "0%"
    colour: str = ""


@dataclass
class TurnRow:
    seq: int = 0
    speaker: str = ""
    who: str = ""
    text: str = ""
    at: str = ""  # "01:05.3" from the start of the call
    spoke_for: str = ""  # the caller's speech, "2.4 s"
    interrupted: bool = False
    heard: str = ""
    unspoken: bool = False
    has_waterfall: bool = False
    voice_to_voice: str = ""  # "812 ms", "" when not measured
    breakdown: str = ""  # "Speech to text 120 ms · End-of-turn wait 300 ms · …"
    segments: list[Segment] = field(default_factory=list)


@dataclass
class UsageRow:
    service: str = ""
    provider: str = ""
    amount: str = ""


def offset_text(offset_ms: int | None) -> str:
    """A turn's time from the start of its call, as mm:ss.s (h:mm:ss.s past an hour); "" when unknown."""
    if offset_ms is None or offset_ms < 0:
        return ""
    tenths = offset_ms // 100
    seconds, tenth = divmod(tenths, 10)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}.{tenth}" if hours else f"{minutes:02d}:{secs:02d}.{tenth}"


def ms_text(ms: float | None) -> str:
    return "" if ms is None else f"{ms:,.0f} ms"


def length_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def segments(w: Waterfall, scale_ms: float) -> list[Segment]:
    """The measured stages, then what voice to voice leaves unexplained, as positions on a shared scale."""
    def pct(ms: float) -> str:
        return f"{min(100.0, 100.0 * ms / scale_ms):.2f}%"

    rows = [Segment(s.label, ms_text(s.ms), pct(s.start_ms), pct(s.ms), STAGE_COLOURS[s.key]) for s in w.stages]
    rest = (w.voice_to_voice_ms or 0.0) - w.measured_ms
    if rest >= 1:
        rows.append(Segment(REST_LABEL, ms_text(rest), pct(w.measured_ms), pct(rest), STAGE_COLOURS["rest"]))
    return rows


def turn_row(turn: CallTurn, scale_ms: float) -> TurnRow:
    w = turn.waterfall
    return TurnRow(
        seq=turn.seq, speaker=turn.speaker, who=SPEAKERS.get(turn.speaker, turn.speaker), text=turn.text,
        at=offset_text(turn.offset_ms),
        spoke_for=f"{turn.duration_ms / 1000:.1f} s" if turn.duration_ms and turn.speaker == "caller" else "",
        interrupted=turn.interrupted, heard=turn.heard or "", unspoken=turn.unspoken, has_waterfall=w is not None,
        voice_to_voice=ms_text(w.voice_to_voice_ms) if w else "",
        breakdown=" · ".join(f"{s.label} {ms_text(s.ms)}" for s in w.stages) if w else "",
        segments=segments(w, scale_ms) if w else [])


def usage_amount(quantity: float, unit: str) -> str:
    return f"{quantity:,.1f} {unit}" if quantity != int(quantity) else f"{int(quantity):,} {unit}"


class CallDetailState(SessionState):
    loaded: bool = False
    missing: str = ""  # why the call cannot be shown (another organisation's, no such call)
    call_id: int = 0
    started: str = ""
    call_length: str = ""
    status: str = ""
    channel: str = ""
    is_test: bool = False
    end_reason: str = ""
    campaign: str = ""
    campaign_href: str = ""
    lead_href: str = ""
    interruptions: int = 0
    measured: int = 0  # agent turns with timings
    slowest: str = ""  # the slowest turn's voice to voice
    turns: list[TurnRow] = []
    usage: list[UsageRow] = []
    legend: list[Legend] = LEGEND

    @rx.var
    def back_href(self) -> str:
        return self.lead_href or self.campaign_href or "/dashboard"

    @rx.event
    def load(self):
        if redirect := self._guard():
            return redirect
        self.loaded, self.missing = False, ""
        self.call_id = self._id_from_url()
        try:
            with self._signed_in_repo() as repo:
                self._show(call_view.call_detail(repo, self.call_id))
        except DomainError as exc:
            self.missing = exc.message
            return None
        self.loaded = True
        return None

    def _show(self, call: CallDetail) -> None:
        measured = [t.waterfall for t in call.measured_turns if t.waterfall is not None]
        scale = max((w.total_ms for w in measured), default=0.0) or 1.0
        self.started, self.call_length = moment(call.started_at), length_text(call.duration_seconds)
        self.status, self.channel, self.is_test = call.status, call.channel, call.is_test
        self.end_reason = END_REASONS.get(call.end_reason or "", (call.end_reason or "").replace("_", " "))
        self.campaign = call.campaign_name or ""
        self.campaign_href = f"/campaigns/{call.campaign_id}" if call.campaign_name else ""
        self.lead_href = f"/leads/{call.lead_id}" if call.lead_id else ""
        self.interruptions, self.measured = call.interruptions, len(measured)
        self.slowest = ms_text(max((w.voice_to_voice_ms for w in measured if w.voice_to_voice_ms is not None),
                                   default=None))
        self.turns = [turn_row(t, scale) for t in call.turns]
        self.usage = [UsageRow(u.service.upper() if len(u.service) <= 3 else u.service.capitalize(),
                               u.provider + (f" ({u.model})" if u.model else ""), usage_amount(u.quantity, u.unit))
                      for u in call.usage]


# ---------------------------------------------------------------- the latest calls (dashboard, campaign page)

@dataclass
class RecentCallRow:
    href: str = ""
    started: str = ""
    campaign: str = ""
    call_length: str = ""
    status: str = ""
    is_test: bool = False
    latency: str = ""  # "slowest 1,020 ms · average 840 ms over 6 turns", "" when no turn was timed


def recent_row(call: call_view.CallSummary) -> RecentCallRow:
    latency = ""
    if call.timed_turns:
        latency = (f"slowest {ms_text(call.slowest_ms)} · average {ms_text(call.average_ms)} over "
                   f"{call.timed_turns} turn{'s' if call.timed_turns != 1 else ''}")
    return RecentCallRow(f"/calls/{call.id}", moment(call.started_at), call.campaign_name or "",
                         length_text(call.duration_seconds), call.status, call.is_test, latency)


class RecentCallsState(SessionState):
    """The latest calls, each opening its call page: the organisation's on the dashboard, one campaign's on its
    page (the campaign id from the address)."""

    recent: list[RecentCallRow] = []
    recent_loaded: bool = False

    @rx.event
    def load_recent(self):
        path = self.router.url.path.rstrip("/")
        campaign_id = self._id_from_url() if path.startswith("/campaigns/") else None
        try:
            with self._signed_in_repo() as repo:
                self.recent = [recent_row(c) for c in call_view.recent_calls(repo, campaign_id)]
        except DomainError as exc:
            self.recent = []
            return rx.toast.error(exc.message)
        finally:
            self.recent_loaded = True
        return None
