"""``python -m bench.load``: voice calls spread across two voice sidecars and API clients at once, for a while, on
loopback (issue 19, "Load"), printed as tables.

It starts, as subprocesses on this machine: the app's REST API (``bench/load_app.py``: ``create_api()`` with the
app's lifespan, served by granian on a loopback port) and two voice sidecars (``python -m agent``, the embedded
transport, each with VOICE_MAX_CALLS = half of ``--calls``, rounded up), all on one throw-away database (SQLite, or
``--db postgres``), with Redis if ``--redis``. Then, for ``--minutes``:

* ``--calls`` simulated callers, each placing one call after another on the call page's WebSocket path
  (``bench/load_calls.py``): the campaign page, the email gate, ``/api/public/calls/socket``; the app picks a
  sidecar and relays the socket to it. Each call says three lead-capture lines and ``--questions`` questions,
  rendered with Piper and paced in real time, through the whole loop on the sidecar (VAD, Whisper, end of turn,
  the flow with knowledge answers, Piper) and the database writes it makes;
* ``--api-clients`` API clients, each with its own API key, each sending one request after another
  (``--think`` seconds apart, ±50 %): lists of leads and campaigns, a lead's page, a status change, a note.

Before the load, one short call more than a sidecar takes warms both sidecars up (not counted). Calls under way
when the time is up may finish (for up to 90 s). Prints voice to voice p50 / p95 per sidecar and overall (at the
caller, through the relay; and as each sidecar recorded it in the transcript), calls completed, failed and refused
(503: no sidecar with room), the API's p50 / p95 and errors by status, and the memory (RSS) of every process
sampled over the run, with its growth from the first quarter of the samples to the last (the soak target: under
10 % over 20 minutes, ``--soak``).

Not exercised: WebRTC media (aiortc; the socket fallback carries the same call), the Reflex UI and its state
socket, LiveKit mode, more than one app process. Loopback only; nothing is downloaded. Every process it starts is
stopped at the end, on an error, on Ctrl-C and on SIGTERM. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from bench.load_calls import CallResult, place_call, render_turns
from bench.load_processes import Child, MemorySampler, free_port, quarter_growth, stop_all

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_SECONDS = 300  # two sidecars loading their models at once on 2 cores
CALL_GRACE_SECONDS = 90  # calls under way at the end get this long to finish
REDIS_URL = "redis://127.0.0.1:6379/14"  # the tests use /15
HEARTBEAT_SECONDS = 10  # agent/__main__.py's
LEAD_LINES = ["My name is John Smith.", "My email is john dot smith at example dot com.", "Yes, I agree."]


@dataclass
class World:
    slug: str  # the voice campaign's
    campaign_id: int
    lead_ids: list[int]
    api_keys: list[str]


@dataclass
class ApiOutcome:
    kind: str
    status: int  # 0: no answer (an exception)
    ms: float


# ---------------------------------------------------------------- the database and what is in it

def public_call_limits() -> dict[str, str]:
    """Every caller comes from 127.0.0.1: the per-address limits would stop the run, not protect anything."""
    return {name: "1000000" for name in ("CALLS_PER_IP_PER_HOUR", "CALLS_PER_RANGE_PER_HOUR",
                                         "CALLS_PER_CAMPAIGN_PER_HOUR", "LOGIN_MAX_ATTEMPTS_PER_IP")}


def build_world(api_clients: int) -> World:
    """The organisation of ``bench.sqlite_concurrency`` (leads to work on), a live voice campaign on
    ``agent.bench``'s brochure (the lead-capture flow its questions are written for) and one API key per client."""
    from sqlmodel import select

    from agent.bench import BROCHURE
    from bench.sqlite_concurrency import build_world as organisation_with_leads
    from quantum_voice.core.db import session_scope
    from quantum_voice.models.accounts import Membership
    from quantum_voice.services import campaigns
    from quantum_voice.services.developer import api_keys
    from quantum_voice.services.knowledge import documents
    from quantum_voice.services.tenancy import OrgRepository, Scope
    from quantum_voice.worker import build_worker

    base = organisation_with_leads(leads=200, consents=0)
    with session_scope() as session:
        user_id = session.exec(select(Membership.user_id)
                               .where(Membership.organization_id == base.organization_id)).first()
        repo = OrgRepository(session, Scope(user_id=user_id, organization_id=base.organization_id, role="owner"))
        kb = documents.create_knowledge_base(repo, "Harbor View")
        documents.upload_document(repo, kb.id, "brochure.md", BROCHURE.encode())
        campaign = campaigns.create_campaign(repo, name="Harbor View", template="lead_capture_qa",
                                             knowledge_base_id=kb.id)
        campaign.status = "live"
        session.add(campaign)
        slug, campaign_id = campaign.slug, campaign.id
        keys = [api_keys.create_key(repo, name=f"load client {i}", scopes="leads:write campaigns:read").secret
                for i in range(api_clients)]
    build_worker().run_pending()  # parse, chunk and embed the brochure
    return World(slug, campaign_id, base.lead_ids, keys)


def sidecar_of_conversations(ids: list[int]) -> dict[int, str]:
    from sqlmodel import select

    from quantum_voice.core.db import session_scope
    from quantum_voice.models.calls import Conversation

    if not ids:
        return {}
    with session_scope() as session:
        rows = session.exec(select(Conversation.id, Conversation.worker_id).where(Conversation.id.in_(ids))).all()
    return {cid: worker or "?" for cid, worker in rows}


def recorded_latencies(ids: list[int]) -> dict[int, list[float]]:
    """Voice to voice as the sidecar measured and stored it with each agent turn (``meta["metrics"]``)."""
    from sqlmodel import select

    from quantum_voice.core.db import session_scope
    from quantum_voice.models.calls import TranscriptTurn

    found: dict[int, list[float]] = defaultdict(list)
    if not ids:
        return found
    with session_scope() as session:
        rows = session.exec(select(TranscriptTurn.conversation_id, TranscriptTurn.meta)
                            .where(TranscriptTurn.conversation_id.in_(ids))).all()
    for cid, meta in rows:
        value = ((meta or {}).get("metrics") or {}).get("voice_to_voice_ms")
        if value is not None:
            found[cid].append(float(value))
    return found


def live_sidecars(pids: set[int]) -> int:
    from sqlmodel import select

    from quantum_voice.core.db import session_scope
    from quantum_voice.models.system import VoiceWorker

    with session_scope() as session:
        workers = session.exec(select(VoiceWorker).where(VoiceWorker.media_url.is_not(None))).all()
    return sum(1 for w in workers if w.pid in pids)


# ---------------------------------------------------------------- the processes

def child_environment(max_calls: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(public_call_limits())
    env["VOICE_MAX_CALLS"] = str(max_calls)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_processes(max_calls: int, port: int, log_dir: Path) -> tuple[Child, list[Child]]:
    env = child_environment(max_calls)
    python = sys.executable
    app = Child.start("app", [python, "-m", "granian", "--interface", "asgi", "--factory", "--host", "127.0.0.1",
                              "--port", str(port), "--workers", "1", "--log-level", "warning",
                              "bench.load_app:create_app"], env, log_dir, ROOT)
    sidecars = [Child.start(f"sidecar-{n}", [python, "-m", "agent"], env, log_dir, ROOT) for n in (1, 2)]
    return app, sidecars


async def wait_ready(http, app: Child, sidecars: list[Child]) -> float:
    """Until the API answers /api/health and both sidecars have a heartbeat with a media URL; seconds taken."""
    started = time.monotonic()
    api_up = False
    while time.monotonic() - started < READY_TIMEOUT_SECONDS:
        for child in (app, *sidecars):
            if not child.alive():
                raise RuntimeError(f"{child.name} exited ({child.process.returncode}) while starting:\n"
                                   f"{child.log_tail()}")
        if not api_up:
            try:
                api_up = (await http.get("/api/health")).status_code in (200, 503)
            except Exception:
                pass
        if api_up and await asyncio.to_thread(live_sidecars, {c.pid for c in sidecars}) == len(sidecars):
            return time.monotonic() - started
        await asyncio.sleep(1)
    raise RuntimeError(f"not ready after {READY_TIMEOUT_SECONDS} s:\n" +
                       "\n".join(f"--- {c.name}\n{c.log_tail()}" for c in (app, *sidecars)))


# ---------------------------------------------------------------- the load

async def caller(n: int, http, ws_base: str, world: World, turns, deadline: float, stagger: float,
                 results: list[CallResult]) -> None:
    await asyncio.sleep(stagger)
    call_no = 0
    while time.monotonic() < deadline:
        call_no += 1
        try:
            result = await place_call(http, ws_base, world.slug, f"caller{n}-{call_no}@example.com", turns)
        except asyncio.CancelledError:  # still under way when the grace period ran out
            results.append(CallResult(error="cut off at the end of the run"))
            raise
        results.append(result)
        if not result.completed:
            await asyncio.sleep(2)  # a refused call: the page would show an error, the caller press Call again


def api_plan(world: World, client: int):
    """The requests of one API client, round and round: what an integration reads and writes."""
    rng = random.Random(client)

    def lead() -> int:
        return world.lead_ids[rng.randrange(len(world.lead_ids))]

    while True:
        yield "list leads", "GET", "/api/leads?limit=25", None
        yield "lead", "GET", f"/api/leads/{lead()}", None
        yield "list campaigns", "GET", "/api/campaigns", None
        yield "update lead", "PATCH", f"/api/leads/{lead()}", {"status": rng.choice(["contacted", "qualified"])}
        yield "list leads", "GET", "/api/leads?limit=25&band=warm", None
        yield "add note", "POST", f"/api/leads/{lead()}/notes", {"text": f"Called back ({client})"}
        yield "campaign", "GET", f"/api/campaigns/{world.campaign_id}", None


async def api_client(n: int, http, world: World, deadline: float, think: float, outcomes: list[ApiOutcome]) -> None:
    headers = {"Authorization": f"Bearer {world.api_keys[n]}"}
    rng = random.Random(1000 + n)
    await asyncio.sleep(rng.uniform(0, max(think, 0.1)))
    for kind, method, path, body in api_plan(world, n):
        if time.monotonic() >= deadline:
            return
        started = time.perf_counter()
        try:
            status = (await http.request(method, path, json=body, headers=headers)).status_code
        except Exception:
            status = 0
        outcomes.append(ApiOutcome(kind, status, (time.perf_counter() - started) * 1000))
        await asyncio.sleep(think * rng.uniform(0.5, 1.5))


async def run_load(args, world: World, base_url: str, turns, sampler: MemorySampler):
    import httpx

    ws_base = base_url.replace("http://", "ws://", 1)
    limits = httpx.Limits(max_connections=args.api_clients + args.calls + 10)
    calls: list[CallResult] = []
    outcomes: list[ApiOutcome] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as http:
        warm_up = await _warm_up(http, ws_base, world, turns, args.capacity)
        await asyncio.sleep(HEARTBEAT_SECONDS + 1)  # until the heartbeats no longer count the warm-up calls
        print(f"warm-up: {sum(c.completed for c in warm_up)} of {len(warm_up)} short calls ok (not counted); "
              f"load for {args.minutes:g} min ...", flush=True)
        started = time.monotonic()
        deadline = started + args.minutes * 60
        sampler.start()
        tasks = [asyncio.create_task(caller(n, http, ws_base, world, turns, deadline, n * args.stagger / args.calls,
                                            calls)) for n in range(args.calls)]
        tasks += [asyncio.create_task(api_client(n, http, world, deadline, args.think, outcomes))
                  for n in range(args.api_clients)]
        _, pending = await asyncio.wait(tasks, timeout=args.minutes * 60 + CALL_GRACE_SECONDS)
        for task in pending:  # a call still going past the grace period: counted as not completed
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        sampler.stop()
        return calls, outcomes, time.monotonic() - started


async def _warm_up(http, ws_base: str, world: World, turns, per_sidecar: int) -> list[CallResult]:
    """One more short call at once than a sidecar takes, so each sidecar answers at least one (a question
    included) and has loaded what it loads on its first call before the load and the memory samples start."""
    return await asyncio.gather(*(place_call(http, ws_base, world.slug, f"warm-up{n}@example.com", turns[:4])
                                  for n in range(per_sidecar + 1)))


def default_capacity(calls: int) -> int:
    """VOICE_MAX_CALLS of each sidecar: the app reads how busy a sidecar is from its heartbeat (every 10 s), so
    calls placed at once all go to the same one until it refuses one at its capacity."""
    return max(1, math.ceil(calls / 2))


# ---------------------------------------------------------------- the tables

def pct(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least ``q`` of them at or below it (a few turns' p95 is their
    maximum)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def print_voice(calls: list[CallResult], sidecars: list[Child]) -> None:
    ids = [c.conversation_id for c in calls if c.conversation_id]
    worker_of = sidecar_of_conversations(ids)
    recorded = recorded_latencies(ids)
    name_of = {c.pid: c.name for c in sidecars}
    rows: dict[str, list[CallResult]] = defaultdict(list)
    for call in calls:
        worker = worker_of.get(call.conversation_id or -1, "")
        pid = worker.rpartition(":")[2]
        rows[name_of.get(int(pid), worker) if pid.isdigit() else "not placed"].append(call)
    print(f"\n{'voice':<14}{'calls ok':>9}{'failed':>8}{'refused':>9}{'turns':>7}{'v2v p50 / p95 (caller)':>25}"
          f"{'v2v p50 / p95 (sidecar)':>26}")
    print("-" * 98)
    for name in sorted(rows) + ["all"]:
        group = calls if name == "all" else rows[name]
        caller_ms = [ms for c in group for ms in c.latencies_ms]
        sidecar_ms = [ms for c in group for ms in recorded.get(c.conversation_id or -1, [])]
        ok, refused = sum(1 for c in group if c.completed), sum(1 for c in group if c.refused)
        print(f"{name:<14}{ok:>9}{len(group) - ok - refused:>8}{refused:>9}{len(caller_ms):>7}"
              f"{_p50_p95(caller_ms):>25}{_p50_p95(sidecar_ms):>26}")
    if any(c.refused for c in calls):
        print("  refused: 503, no sidecar with room (the app reads each sidecar's calls from its heartbeat, every "
              f"{HEARTBEAT_SECONDS} s); the caller tries again 2 s later")
    for text, n in Counter(c.error for c in calls if c.error).most_common(5):
        print(f"  {n} x {text}")


def _p50_p95(values: list[float]) -> str:
    return f"{pct(values, .5):.0f} / {pct(values, .95):.0f} ms" if values else "-"


def print_api(outcomes: list[ApiOutcome], seconds: float) -> None:
    by_kind: dict[str, list[ApiOutcome]] = defaultdict(list)
    for outcome in outcomes:
        by_kind[outcome.kind].append(outcome)
    print(f"\n{'API request':<16}{'count':>8}{'errors':>8}  {'by status':<24}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}")
    print("-" * 80)
    for kind in [*sorted(by_kind), "all"]:
        rows = outcomes if kind == "all" else by_kind[kind]
        if not rows:
            continue
        failed = Counter(o.status for o in rows if not 200 <= o.status < 300)
        statuses = ", ".join(f"{s or 'no answer'}: {n}" for s, n in sorted(failed.items())) or "-"
        times = [o.ms for o in rows]
        print(f"{kind:<16}{len(rows):>8}{sum(failed.values()):>8}  {statuses:<24}{pct(times, .5):>8.0f}"
              f"{pct(times, .95):>8.0f}{max(times):>8.0f}")
    print(f"  {len(outcomes) / max(seconds, 1e-9):.1f} requests/s over {seconds:.0f} s")


def print_memory(sampler: MemorySampler) -> None:
    print(f"\n{'memory (RSS, MB)':<18}{'start':>8}{'1st quarter':>13}{'last quarter':>14}{'peak':>8}{'growth':>9}"
          f"{'samples':>9}")
    print("-" * 79)
    for name, samples in sampler.samples.items():
        if not samples:
            print(f"{name:<18}{'(no samples)':>13}")
            continue
        first, last, growth = quarter_growth(samples)
        mb = 1024 * 1024
        flag = "  > 10 %" if growth > 10 else ""
        print(f"{name:<18}{samples[0][1] / mb:>8.0f}{first / mb:>13.0f}{last / mb:>14.0f}"
              f"{max(r for _, r in samples) / mb:>8.0f}{growth:>8.1f}%{len(samples):>9}{flag}")


# ---------------------------------------------------------------- the run

def parse_args(argv: list[str] | None):
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=4, help="simultaneous simulated callers (default 4)")
    parser.add_argument("--api-clients", type=int, default=50, help="simultaneous API clients (default 50; "
                        "issue 19 asks for 200)")
    parser.add_argument("--minutes", type=float, default=2.0, help="how long the load runs (default 2)")
    parser.add_argument("--soak", action="store_true", help="a 20-minute run (the issue's memory soak)")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite",
                        help="a throw-away SQLite file, or a throw-away database on PostgreSQL at 127.0.0.1:5432 "
                             "(BENCH_POSTGRES_URL to point elsewhere)")
    parser.add_argument("--redis", action="store_true", help=f"cache, limits and job queue on Redis ({REDIS_URL})")
    parser.add_argument("--questions", type=int, default=3, help="questions per call after the 3 lead lines")
    parser.add_argument("--think", type=float, default=1.0, help="seconds between an API client's requests "
                        "(±50 %%; default 1)")
    parser.add_argument("--stagger", type=float, default=10.0, help="spread the callers' first calls over this "
                        "many seconds (default 10)")
    parser.add_argument("--capacity", type=int, default=None, help="VOICE_MAX_CALLS of each sidecar (default: "
                        "half of --calls, rounded up, so the two share the calls)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs after a clean run "
                        "(they are kept anyway when something failed)")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between memory samples (default 5)")
    args = parser.parse_args(argv)
    if args.soak:
        args.minutes = 20.0
    args.capacity = args.capacity or default_capacity(args.calls)
    if args.calls < 1 or args.api_clients < 0 or args.minutes <= 0:
        parser.error("--calls must be at least 1, --api-clients at least 0, --minutes above 0")
    return args


def print_header(args, port: int, ready_seconds: float) -> None:
    print(f"\nLoad on this machine ({os.cpu_count()} cores), {args.minutes:g} min: {args.calls} simulated callers "
          f"across 2 voice sidecars (VOICE_MAX_CALLS={args.capacity} each), "
          f"{args.api_clients} API clients ({args.think:g} s apart), {args.db}"
          f"{' + Redis' if args.redis else ''}; ready in {ready_seconds:.0f} s")
    print(f"  app: the REST API served by granian on 127.0.0.1:{port} (1 worker, the app's lifespan; no Reflex UI); "
          "sidecars: python -m agent, embedded transport")
    print("  calls: page → email gate → /api/public/calls/socket (the WebSocket fallback; no WebRTC), relayed by "
          "the app to the sidecar it picks; Piper-rendered speech paced in real time through VAD, Whisper, the "
          "flow and Piper")
    print("  voice to voice (caller): the last frame of speech sent → the first agent audio received; (sidecar): "
          "as stored with the turn, from the VAD's end of speech less its silence window")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.begun = time.monotonic()
    from quantum_voice.core.logging_setup import configure_logging

    configure_logging()
    import logging

    logging.getLogger("quantum_voice").setLevel(logging.WARNING)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored (a `&`)
    signal.signal(signal.SIGTERM, _interrupted)  # stopped by a supervisor: stop the children as on Ctrl-C
    os.environ.update(public_call_limits())
    from bench.databases import migrated_database

    with migrated_database(args.db == "postgres", "qv_load"):
        if args.redis:
            from quantum_voice.core.config import reset_settings

            os.environ["REDIS_URL"] = REDIS_URL
            os.environ["JOB_QUEUE_NAME"] = f"bench-load-{os.getpid()}"
            reset_settings()
        return run(args)


def run(args) -> int:
    print(f"preparing the database ({args.db}) and the callers' speech ...", flush=True)
    world = build_world(args.api_clients)
    from quantum_voice.core.config import get_settings

    get_settings().effective_secret_key  # made now, so the processes started below share it (not race for it)
    turns = render_turns(LEAD_LINES + [_question(i) for i in range(args.questions)])
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_dir = Path(tempfile.mkdtemp(prefix="qv-load-logs-"))
    children: list[Child] = []
    clean = False
    try:
        app, sidecars = start_processes(args.capacity, port, log_dir)
        children = [app, *sidecars]
        print(f"started the API (pid {app.pid}) and sidecars (pids {sidecars[0].pid}, {sidecars[1].pid}); "
              f"logs in {log_dir}; waiting until ready ...", flush=True)
        ready = asyncio.run(_wait_ready(base_url, app, sidecars))
        sampler = MemorySampler({"app": app, "sidecar-1": sidecars[0], "sidecar-2": sidecars[1],
                                 "load generator": None}, every=args.sample)
        print(f"ready in {ready:.0f} s", flush=True)
        calls, outcomes, seconds = asyncio.run(run_load(args, world, base_url, turns, sampler))
        print_header(args, port, ready)
        print_voice(calls, sidecars)
        print_api(outcomes, min(seconds, args.minutes * 60))
        print_memory(sampler)
        print(f"\nthe whole run took {(time.monotonic() - args.begun) / 60:.1f} min")
        died = [c.name for c in children if not c.alive()]
        if died:
            print(f"\nexited during the run: {', '.join(died)} (logs in {log_dir})")
        clean = not died
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted: stopping the app and the sidecars ...", file=sys.stderr)
        return 130
    finally:
        stop_all(children)
        if clean and not args.keep_logs:
            shutil.rmtree(log_dir, ignore_errors=True)
        else:
            print(f"the processes' logs: {log_dir}", file=sys.stderr)


def _interrupted(*_) -> None:
    raise KeyboardInterrupt


async def _wait_ready(base_url: str, app: Child, sidecars: list[Child]) -> float:
    import httpx

    async with httpx.AsyncClient(base_url=base_url, timeout=5) as http:
        return await wait_ready(http, app, sidecars)


def _question(i: int) -> str:
    from agent.bench import QUESTIONS

    return QUESTIONS[i % len(QUESTIONS)]


if __name__ == "__main__":
    raise SystemExit(main())
