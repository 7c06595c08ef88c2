"""``python -m bench.dashboard``: the dashboard's analytics queries at size — server time of each on SQLite and
PostgreSQL, printed as a table.

Seeds one organisation (and a second one, whose rows must never slow or change the first's answers) with ``--calls``
real calls spread over the last year across five campaigns, a lead for 60 % of them, ``--turns`` transcript turns per
call (every agent turn with its voice-to-voice time, as the sidecar records it), two knowledge questions per call
(a third unanswered), a QR scan and a consent ticket per call and a hand-off for 3 % — with bulk inserts. Then times
each analytics query as the dashboard calls it (no rendering): p50 and p95 over ``--runs`` runs after a warm-up.
The latency rows run warm (settled days cached, as on every refresh after the first) and, marked "first look", cold.

Default 20,000 calls (a quick run, ~1 min); ``--full`` is the issue's target: 100,000 calls and 1,000,000 turns.
Target (issue 18): p95 < 300 ms per query.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from datetime import timedelta

from bench.databases import analyze, migrated_database

CAMPAIGNS = ["Open House", "Spring Sale", "Harbour Flats", "Riverside Lofts", "Garden Homes"]
QUESTIONS = ["Is there parking?", "How much is the deposit?", "Are pets allowed?", "When can I move in?",
             "Is there a gym?", "What floor is it on?", "Do you have a garden?", "How far is the station?"]
BATCH = 2_000


def seed(calls: int, turns: int) -> tuple[int, int, int]:
    """The benchmark organisation and a second one; returns (owner user id, one campaign id, calls seeded)."""
    from quantum_voice.core.db import get_engine, session_scope
    from quantum_voice.services import accounts, campaigns
    from quantum_voice.services.tenancy import OrgRepository, Scope

    orgs = []
    with session_scope() as session:
        for n, share in enumerate((1.0, 0.1)):
            result = accounts.signup(session, email=f"bench{n}@example.com", password="a long bench passphrase 42",
                                     organization_name=f"Bench Homes {n}")
            repo = OrgRepository(session, Scope(user_id=result.user.id, organization_id=result.organization.id,
                                                role="owner"))
            made = [campaigns.create_campaign(repo, name=name) for name in CAMPAIGNS[: 5 if n == 0 else 1]]
            orgs.append((result.user.id, result.organization.id, made, int(calls * share)))
    engine = get_engine()
    for _, org, made, count in orgs:
        _seed_org(engine, org, made, count, turns, random.Random(org))
    analyze(engine)
    owner, _, made, count = orgs[0]
    return owner, made[0].id, count


def _seed_org(engine, org: int, made, calls: int, turns: int, rng: random.Random) -> None:
    from sqlalchemy import insert

    from quantum_voice.core.clock import utcnow
    from quantum_voice.models.calls import ConsentRecord, Conversation, TranscriptTurn
    from quantum_voice.models.campaigns import QRCode, QRScanEvent
    from quantum_voice.models.handoff import Handoff
    from quantum_voice.models.knowledge import KnowledgeQuery
    from quantum_voice.models.leads import Lead

    now = utcnow()
    step = timedelta(days=365) / max(calls, 1)  # calls spread evenly over the last year
    with engine.begin() as conn:
        qr_ids = {c.id: conn.execute(insert(QRCode).returning(QRCode.id), [
            {"organization_id": org, "campaign_id": c.id, "label": "flyer", "code": uuid.uuid4().hex[:16],
             "scan_count": 0}]).scalar_one() for c in made}
    for start in range(0, calls, BATCH):
        n = min(BATCH, calls - start)
        picks = [made[min(int(rng.expovariate(0.9)), len(made) - 1)] for _ in range(n)]  # a busiest campaign
        started = [now - step * (start + i) - timedelta(minutes=5) for i in range(n)]
        with engine.begin() as conn:
            ids = conn.execute(insert(Conversation).returning(Conversation.id), [
                {"organization_id": org, "campaign_id": c.id, "channel": "qr", "status": "ended", "is_test": False,
                 "flow_state": {}, "started_at": t, "answered_at": t, "ended_at": t + timedelta(seconds=90),
                 "duration_seconds": rng.uniform(30, 300)} for c, t in zip(picks, started)]).scalars().all()
            turn_rows, lead_rows, question_rows, scan_rows, consent_rows, handoff_rows = [], [], [], [], [], []
            for conv, campaign, t in zip(ids, picks, started):
                for seq in range(turns):
                    agent = seq % 2 == 0
                    turn_rows.append({"organization_id": org, "conversation_id": conv, "seq": seq,
                                      "speaker": "agent" if agent else "caller", "text": "Hello there.",
                                      "interrupted": False, "offset_ms": seq * 4000, "created_at": t,
                                      "meta": {"metrics": {"voice_to_voice_ms": round(rng.lognormvariate(6.2, 0.3), 1)}}
                                      if agent and seq else {}})
                if rng.random() < 0.6:
                    score = rng.randint(0, 100)
                    lead_rows.append({"organization_id": org, "campaign_id": campaign.id, "conversation_id": conv,
                                      "custom_fields": {}, "score": score, "score_breakdown": [], "status": "new",
                                      "band": "hot" if score >= 70 else "warm" if score >= 40 else "cold",
                                      "is_test": False, "created_at": t, "updated_at": t})
                for _ in range(2):
                    question_rows.append({"organization_id": org, "knowledge_base_id": campaign.knowledge_base_id,
                                          "conversation_id": conv, "query": rng.choice(QUESTIONS),
                                          "answered": rng.random() > 0.33, "confidence": 0.5, "created_at": t})
                scan_rows.append({"organization_id": org, "qr_code_id": qr_ids[campaign.id],
                                  "campaign_id": campaign.id, "scanned_at": t - timedelta(minutes=2)})
                consent_rows.append({"public_id": str(uuid.uuid4()), "organization_id": org,
                                     "campaign_id": campaign.id, "conversation_id": conv, "email": "c@example.com",
                                     "granted": True, "wording": "I agree.", "policy_version": "1",
                                     "created_at": t - timedelta(minutes=1)})
                if rng.random() < 0.03:
                    handoff_rows.append({"organization_id": org, "conversation_id": conv, "reason": "request",
                                         "priority": 0, "status": "ended", "requested_at": t,
                                         "accepted_at": t + timedelta(seconds=rng.randint(5, 120)),
                                         "ended_at": t + timedelta(seconds=200)})
            for model, rows in ((TranscriptTurn, turn_rows), (Lead, lead_rows), (KnowledgeQuery, question_rows),
                                (QRScanEvent, scan_rows), (ConsentRecord, consent_rows), (Handoff, handoff_rows)):
                if rows:
                    conn.execute(insert(model), rows)


def timed(runs: int, work) -> tuple[float, float]:
    """p50 and p95 in ms over ``runs`` (after one warm-up)."""
    work()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(round(0.95 * len(times))) - 1)]


def measure(user_id: int, campaign_id: int, runs: int) -> list[tuple[str, float, float]]:
    from sqlmodel import select

    from quantum_voice.core.cache import set_cache
    from quantum_voice.core.db import session_scope
    from quantum_voice.models.accounts import Membership
    from quantum_voice.services import analytics
    from quantum_voice.services.analytics import AnalyticsFilter
    from quantum_voice.services.tenancy import OrgRepository, Scope

    with session_scope() as session:
        org = session.exec(select(Membership.organization_id).where(Membership.user_id == user_id)).one()
    scope = Scope(user_id=user_id, organization_id=org, role="owner")

    def case(query, f, cold: bool = False):
        def work():
            if cold:  # what the first look at a range costs: settled latency days not yet cached
                set_cache(None)
            with session_scope() as session:
                return query(OrgRepository(session, scope), f)
        return work

    month, year = AnalyticsFilter.last_days(30), AnalyticsFilter.last_days(366)
    one = AnalyticsFilter.last_days(90, campaign_id=campaign_id)
    cases = [(f"{name}, {label}", case(query, f))
             for label, f in (("30 days", month), ("366 days", year))
             for name, query in (("cards", analytics.cards), ("calls per day", analytics.call_volume),
                                 ("funnel", analytics.funnel), ("lead bands", analytics.lead_bands),
                                 ("unanswered questions", analytics.unanswered_questions),
                                 ("latency p50/p95", analytics.voice_to_voice))]
    cases += [("latency p50/p95, 30 days, first look", case(analytics.voice_to_voice, month, cold=True)),
              ("latency p50/p95, 366 days, first look", case(analytics.voice_to_voice, year, cold=True)),
              ("whole dashboard, 30 days", case(analytics.dashboard_analytics, month)),
              ("whole dashboard, 90 days, 1 campaign", case(analytics.dashboard_analytics, one)),
              ("whole dashboard, 366 days", case(analytics.dashboard_analytics, year))]
    return [(name, *timed(runs, work)) for name, work in cases]


def run_backend(backend: str, calls: int, turns: int, runs: int) -> None:
    with migrated_database(backend == "postgres", "qv_bench_dashboard"):
        started = time.perf_counter()
        user_id, campaign_id, seeded = seed(calls, turns)
        print(f"\n{backend}: {seeded:,} calls, {seeded * turns:,} transcript turns over 365 days, and a second "
              f"organisation with a tenth of that (seeded in {time.perf_counter() - started:.0f} s); "
              f"{runs} runs each", flush=True)
        print(f"{'':40} {'p50 ms':>8} {'p95 ms':>8}")
        for name, p50, p95 in measure(user_id, campaign_id, runs):
            print(f"{name:40} {p50:8.1f} {p95:8.1f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--turns", type=int, default=10, help="transcript turns per call")
    parser.add_argument("--full", action="store_true", help="the issue's target: 100,000 calls, 1,000,000 turns")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args(argv)
    calls = 100_000 if args.full else args.calls
    for backend in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        run_backend(backend, calls, args.turns, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
