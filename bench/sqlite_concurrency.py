"""``python -m bench.sqlite_concurrency``: the real API on a SQLite file under a burst of concurrent requests
(issue 19: "under 50 concurrent flow tests, SQLite answered 10 of them with 503 'database locked'").

Serves the REST API (``create_api()``, as the app mounts it, with the app's worker threads) in this process through
httpx's ASGI transport, on a migrated SQLite file in a temporary data dir, with one organisation: a campaign whose
knowledge base holds a processed document, and leads to work on. Then it fires ``--concurrency`` requests at once
(``--rounds`` times) in a mix of what hits the database together in production:

- ``simulate``: the flow designer's test call, ``POST /api/flows/{id}/test`` with six caller messages (a lead
  captured, a question answered from the knowledge base);
- ``lead``: ``PATCH /api/leads/{id}`` (status) and ``POST /api/leads/{id}/notes``, alternately;
- ``gate``: the call page's email gate, ``POST /api/public/campaigns/{slug}/gate`` (a consent ticket);
- ``call``: a voice call's flow steps as the voice sidecar takes them (start, then three caller turns, each its own
  transaction), from a second process (``--sidecar-in-process`` runs them in this one);
- ``read``: ``GET /api/leads`` and ``GET /api/campaigns``.

Prints, per kind: requests, errors by status, p50 / p95 latency, and the rows written against those expected.
``--mix simulate=50`` repeats the issue's measurement. Loopback only; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import re
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

PASSWORD = "a long bench passphrase 42"
SIMULATED_CALLER = ["Hi, I'm John Smith", "How much is the HOA fee?", "j o h n dot smith at example dot com",
                    "yes, that's right, and I agree", "We'd like to book a tour, we want to move next month",
                    "no, that's all, thanks, bye"]
VOICE_CALLER = ["Hi, I'm Ana Lopez", "Is there parking for residents?", "We want to move next month"]
DOCUMENT = Path(__file__).parent / "fixtures" / "buying_faq.txt"
DEFAULT_MIX = "simulate=20,lead=10,gate=5,call=5,read=10"


@dataclass
class Outcome:
    kind: str
    status: int  # HTTP status; 0 for an exception (its text in ``error``)
    ms: float
    error: str = ""


@dataclass
class World:
    organization_id: int
    campaign_id: int
    slug: str
    lead_ids: list[int]
    consent_ids: list[int] = field(default_factory=list)


# ---------------------------------------------------------------- the database and what is in it

def prepare_environment(data_dir: str) -> str:
    """A data dir, a SQLite file, generous public-call limits (every request comes from 127.0.0.1)."""
    os.environ["DATA_DIR"] = data_dir
    url = f"sqlite:///{Path(data_dir) / 'quantum_voice.db'}"
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    for name in ("CALLS_PER_IP_PER_HOUR", "CALLS_PER_RANGE_PER_HOUR", "CALLS_PER_CAMPAIGN_PER_HOUR",
                 "LOGIN_MAX_ATTEMPTS_PER_IP"):
        os.environ[name] = "100000"
    from quantum_voice.core.config import reset_settings

    reset_settings()
    return url


def build_world(leads: int, consents: int) -> World:
    """One organisation: a knowledge base with a processed document, a live campaign on it, ``leads`` leads and
    ``consents`` consent tickets (as the email gate writes them) for the voice calls."""
    import uuid

    from sqlalchemy import insert
    from sqlmodel import select

    from quantum_voice.core.clock import utcnow
    from quantum_voice.core.db import session_scope
    from quantum_voice.models.accounts import Membership
    from quantum_voice.models.system import EmailMessage
    from quantum_voice.models.calls import ConsentRecord
    from quantum_voice.models.campaigns import Campaign
    from quantum_voice.models.leads import Lead
    from quantum_voice.services import accounts, campaigns
    from quantum_voice.services.knowledge import documents
    from quantum_voice.services.tenancy import OrgRepository, Scope
    from quantum_voice.worker import build_worker

    with session_scope() as session:
        result = accounts.signup(session, email="bench@example.com", password=PASSWORD,
                                 organization_name="Bench Homes")
        mail = session.exec(select(EmailMessage).where(EmailMessage.to_address == "bench@example.com")).first()
        accounts.verify_email(session, re.search(r"/verify\?token=([\w\-]+)", mail.body_text).group(1))
        org = session.exec(select(Membership.organization_id)
                           .where(Membership.user_id == result.user.id)).one()
        repo = OrgRepository(session, Scope(user_id=result.user.id, organization_id=org, role="owner"))
        kb = documents.create_knowledge_base(repo, "Buying FAQ")
        documents.upload_document(repo, kb.id, DOCUMENT.name, DOCUMENT.read_bytes())
        kb_id, user_id = kb.id, result.user.id
    build_worker().run_pending()  # parse, chunk, embed
    with session_scope() as session:
        repo = OrgRepository(session, Scope(user_id=user_id, organization_id=org, role="owner"))
        campaign = campaigns.create_campaign(repo, name="Open House", knowledge_base_id=kb_id)
        campaign.status = "live"
        session.add(campaign)
        campaign_id, slug = campaign.id, campaign.slug
    now = utcnow()
    with session_scope() as session:
        rows = [{"organization_id": org, "campaign_id": campaign_id, "name": f"Lead {i}",
                 "email": f"lead{i}@example.com", "custom_fields": {}, "score": 50, "band": "warm",
                 "score_breakdown": [], "status": "new", "is_test": False, "created_at": now, "updated_at": now}
                for i in range(leads)]
        lead_ids = list(session.execute(insert(Lead).returning(Lead.id), rows).scalars())
        wording = session.get(Campaign, campaign_id).privacy_wording
        consent_ids = [] if not consents else list(session.execute(insert(ConsentRecord).returning(ConsentRecord.id), [
            {"public_id": str(uuid.uuid4()), "organization_id": org, "campaign_id": campaign_id,
             "email": f"caller{i}@example.com", "granted": True, "wording": wording, "policy_version": "1",
             "ip": "127.0.0.1", "user_agent": "bench", "created_at": now} for i in range(consents)]).scalars())
    return World(org, campaign_id, slug, lead_ids, consent_ids)


def count_rows() -> dict[str, int]:
    from sqlalchemy import func
    from sqlmodel import select

    from quantum_voice.core.db import session_scope
    from quantum_voice.models.calls import ConsentRecord, Conversation, TranscriptTurn
    from quantum_voice.models.leads import LeadActivity

    with session_scope() as session:
        return {name: session.exec(select(func.count()).select_from(model)).one()
                for name, model in (("conversations", Conversation), ("transcript turns", TranscriptTurn),
                                    ("consent tickets", ConsentRecord), ("lead activities", LeadActivity))}


# ---------------------------------------------------------------- the API, in process

def api_client():
    """An HTTP client of the REST API (``create_api()``, as the app mounts it) served in this process through
    httpx's ASGI transport: each request goes through the middleware and error handlers, and the sync routes run
    in anyio's worker threads (40), as under the app's server."""
    import httpx

    from quantum_voice.api import create_api

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_api(), client=("127.0.0.1", 50000)),
                             base_url="http://127.0.0.1", timeout=300)


# ---------------------------------------------------------------- the voice sidecar's steps

def voice_call_steps(campaign_id: int, consent_id: int) -> None:
    """One call as the sidecar (agent/brain.py) takes it: each step its own transaction."""
    from quantum_voice.core.db import session_scope
    from quantum_voice.services import conversations, voice_calls
    from quantum_voice.services.conversations import CallSetup

    with session_scope() as session:
        org = voice_calls.organization_of_campaign(session, campaign_id)
        repo = voice_calls.system_repo(session, org)
        setup = CallSetup(channel="web", consent_record_id=consent_id, caller_email=f"caller{consent_id}@example.com")
        conversation_id = conversations.start_conversation(repo, campaign_id, setup).conversation.id
    for utterance in VOICE_CALLER:
        with session_scope() as session:
            conversations.take_turn(voice_calls.system_repo(session, org), conversation_id, utterance)


def timed_call(campaign_id: int, consent_id: int) -> Outcome:
    started = time.perf_counter()
    try:
        voice_call_steps(campaign_id, consent_id)
        return Outcome("call", 200, (time.perf_counter() - started) * 1000)
    except Exception as exc:  # what the sidecar would log: the caller hears an apology
        return Outcome("call", 0, (time.perf_counter() - started) * 1000, f"{type(exc).__name__}: {exc}"[:200])


def sidecar_process(campaign_id: int, consent_ids: list[int], go, results) -> None:
    """A second process, as the voice sidecar is: waits for ``go``, then runs its calls concurrently."""
    from concurrent.futures import ThreadPoolExecutor

    logging.getLogger("quantum_voice").setLevel(logging.CRITICAL)
    from quantum_voice.core.db import get_engine
    from quantum_voice.services.flows import semantic
    from quantum_voice.services.knowledge import grammar

    get_engine()
    semantic.warm_up()  # as the sidecar does at start: not during the first caller's turn
    grammar.warm_up()
    warm_up, consent_ids = consent_ids[0], consent_ids[1:]
    voice_call_steps(campaign_id, warm_up)  # and a first call loads the knowledge search's model
    results.put("ready")
    go.wait()
    with ThreadPoolExecutor(max(1, len(consent_ids))) as pool:
        outcomes = list(pool.map(lambda cid: timed_call(campaign_id, cid), consent_ids))
    results.put([(o.kind, o.status, o.ms, o.error) for o in outcomes])


# ---------------------------------------------------------------- the burst

async def timed_request(client, kind: str, method: str, path: str, **kwargs) -> Outcome:
    started = time.perf_counter()
    try:
        response = await client.request(method, path, **kwargs)
        error = "" if response.status_code < 400 else response.text[:200]
        return Outcome(kind, response.status_code, (time.perf_counter() - started) * 1000, error)
    except Exception as exc:
        return Outcome(kind, 0, (time.perf_counter() - started) * 1000, f"{type(exc).__name__}: {exc}"[:200])


def planned_requests(mix: dict[str, int], world: World, auth: dict, gate_tokens: list[str], round_no: int) -> list:
    """(kind, method, path, kwargs) for every HTTP request of one round."""
    plan = []
    for i in range(mix.get("simulate", 0)):
        plan.append(("simulate", "POST", f"/api/flows/{world.campaign_id}/test",
                     {"json": {"messages": SIMULATED_CALLER}, "headers": auth}))
    for i in range(mix.get("lead", 0)):
        lead_id = world.lead_ids[i % len(world.lead_ids)]
        if i % 2:
            plan.append(("lead", "POST", f"/api/leads/{lead_id}/notes",
                         {"json": {"text": f"Called back, round {round_no}"}, "headers": auth}))
        else:
            plan.append(("lead", "PATCH", f"/api/leads/{lead_id}",
                         {"json": {"status": "contacted" if round_no % 2 == 0 else "qualified"}, "headers": auth}))
    for i in range(mix.get("gate", 0)):
        plan.append(("gate", "POST", f"/api/public/campaigns/{world.slug}/gate",
                     {"json": {"email": f"gate{round_no}-{i}@example.com", "consent": True,
                               "gate_token": gate_tokens[i]}}))
    for i in range(mix.get("read", 0)):
        path = "/api/leads?limit=25" if i % 2 == 0 else "/api/campaigns"
        plan.append(("read", "GET", path, {"headers": auth}))
    return plan


async def one_round(world: World, mix: dict[str, int], round_no: int,
                    sidecar: tuple | None, threads: int | None) -> tuple[list[Outcome], float]:
    import anyio.to_thread

    from quantum_voice.core.db import make_room_for_waiting_requests

    if threads is None:
        make_room_for_waiting_requests()  # as the app's lifespan task does
    else:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
    async with api_client() as client:
        login = await client.post("/api/auth/login", json={"email": "bench@example.com", "password": PASSWORD})
        login.raise_for_status()
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
        gate_tokens = []
        for _ in range(mix.get("gate", 0)):
            page = await client.get(f"/api/public/campaigns/{world.slug}")
            gate_tokens.append(page.json()["gate_token"])
        if gate_tokens:
            await asyncio.sleep(2.1)  # the gate wants the page open a moment (email_gate.GATE_MIN_SECONDS)
        plan = planned_requests(mix, world, auth, gate_tokens, round_no)
        per_round = mix.get("call", 0) + 1
        calls = world.consent_ids[round_no * per_round + 1:(round_no + 1) * per_round]
        started = time.perf_counter()
        if sidecar is not None:
            go, _results = sidecar
            go.set()
            local_calls = []
        else:
            local_calls = [asyncio.to_thread(timed_call, world.campaign_id, cid) for cid in calls]
        outcomes = await asyncio.gather(*(timed_request(client, kind, method, path, **kw)
                                          for kind, method, path, kw in plan), *local_calls)
    if sidecar is not None:
        outcomes = list(outcomes) + [Outcome(*row) for row in sidecar[1].get(timeout=600)]
    return list(outcomes), time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(q * len(ordered))) - 1)] if ordered else 0.0


def report(outcomes: list[Outcome], wall: float, rows_before: dict, rows_after: dict, expected: dict) -> int:
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_kind[outcome.kind].append(outcome)
    print(f"\n{'kind':<10}{'requests':>9}{'errors':>8}  {'by status':<22}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}")
    total_errors = 0
    for kind in ("simulate", "lead", "gate", "call", "read"):
        rows = by_kind.get(kind)
        if not rows:
            continue
        failed = [o for o in rows if not 200 <= o.status < 300]
        total_errors += len(failed)
        statuses = ", ".join(f"{s or 'exc'}: {n}" for s, n in sorted(Counter(o.status for o in failed).items()))
        times = [o.ms for o in rows]
        print(f"{kind:<10}{len(rows):>9}{len(failed):>8}  {statuses or '-':<22}{statistics.median(times):>8.0f}"
              f"{percentile(times, 0.95):>8.0f}{max(times):>8.0f}")
    times = [o.ms for o in outcomes]
    print(f"{'all':<10}{len(outcomes):>9}{total_errors:>8}  {'':<22}{statistics.median(times):>8.0f}"
          f"{percentile(times, 0.95):>8.0f}{max(times):>8.0f}")
    print(f"\nwall time of the bursts: {wall:.1f} s")
    for name, before in rows_before.items():
        added = rows_after[name] - before
        want = expected.get(name)
        print(f"{name}: {added} written" + (f" (expected {want})" if want is not None else ""))
    first_errors = Counter(o.error.splitlines()[0][:160] for o in outcomes if o.error)
    for text, n in first_errors.most_common(5):
        print(f"  {n} x {text}")
    return total_errors


def parse_mix(text: str, concurrency: int | None) -> dict[str, int]:
    mix = {}
    for part in text.split(","):
        kind, _, count = part.partition("=")
        if kind.strip() not in ("simulate", "lead", "gate", "call", "read"):
            raise SystemExit(f"unknown kind {kind!r} in --mix: simulate, lead, gate, call or read")
        mix[kind.strip()] = int(count or 1)
    if concurrency:  # scale the weights to this many requests at once
        total = sum(mix.values())
        scaled = {k: v * concurrency // total for k, v in mix.items()}
        first = next(iter(scaled))
        scaled[first] += concurrency - sum(scaled.values())
        mix = scaled
    return mix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mix", default=DEFAULT_MIX, help=f"kind=count,… (default {DEFAULT_MIX})")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="requests at once, the mix scaled to it (default: the mix's own total, 50)")
    parser.add_argument("--rounds", type=int, default=1, help="bursts, one after the other (default 1)")
    parser.add_argument("--sidecar-in-process", action="store_true",
                        help="run the voice calls' steps in the API's process instead of a second one")
    parser.add_argument("--threads", type=int, default=None,
                        help="anyio worker threads for the sync routes (default: as the app sets them; 40 is "
                             "anyio's own default)")
    parser.add_argument("--verbose", action="store_true", help="show the app's warnings and errors")
    args = parser.parse_args()
    mix = parse_mix(args.mix, args.concurrency)
    if not args.verbose:
        logging.getLogger("quantum_voice").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="qv-sqlite-bench-") as data_dir:
        url = prepare_environment(data_dir)
        from quantum_voice.core.migrate import upgrade_to_head

        upgrade_to_head(url)
        print(f"SQLite file in {data_dir}; mix {mix} x {args.rounds} round(s); preparing ...", flush=True)
        world = build_world(leads=max(10, mix.get("lead", 0)), consents=(mix.get("call", 0) + 1) * args.rounds)
        rows_before = count_rows()
        outcomes, wall = [], 0.0
        for round_no in range(args.rounds):
            sidecar = None
            per_round = mix.get("call", 0) + 1  # one more: the sidecar process's warm-up call
            calls = world.consent_ids[round_no * per_round:(round_no + 1) * per_round]
            if mix.get("call") and not args.sidecar_in_process:
                context = multiprocessing.get_context("spawn")
                go, results = context.Event(), context.Queue()
                process = context.Process(target=sidecar_process,
                                          args=(world.campaign_id, calls, go, results), daemon=True)
                process.start()
                if results.get(timeout=120) != "ready":
                    raise RuntimeError("the sidecar process did not start")
                sidecar = (go, results)
            got, seconds = asyncio.run(one_round(world, mix, round_no, sidecar, args.threads))
            if sidecar is not None:
                process.join(30)
            outcomes += got
            wall += seconds
        rows_after = count_rows()
        rounds = args.rounds
        warm_ups = 0 if args.sidecar_in_process or not mix.get("call") else rounds
        expected = {"conversations": (mix.get("simulate", 0) + mix.get("call", 0)) * rounds + warm_ups,
                    "lead activities": None}
        errors = report(outcomes, wall, rows_before, rows_after, expected)
        from quantum_voice.core.db import set_engine

        set_engine(None)
    raise SystemExit(1 if errors else 0)


if __name__ == "__main__":
    main()
