"""``python -m bench.leads``: the leads workspace at size — server time of the list, searches and a lead's page,
and the CSV export's memory — on SQLite and PostgreSQL, printed as a table.

Seeds one organisation with ``--leads`` leads (default 100,000), one call each with ``--turns`` transcript turns
(default 10: 1,000,000 turns), then times the service calls the API and the pages make (no HTTP, no rendering):

- the list page with a filter (band, newest first, 25 rows and the total);
- search by email (a whole address, and a part of one);
- full-text search in transcripts (a word said in a few hundred calls);
- a lead's page (the lead, its call with consent and transcript, its history);
- the CSV export of every lead, streamed, in a process of its own: its RSS before and its peak during the export.

Targets (issue 15): p95 < 300 ms for each timed row; the export in constant memory.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta

from bench.databases import analyze, migrated_database

FIRST = ["Ana", "Bo", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kai", "Lu", "Max", "Ned", "Oli"]
LAST = ["Lopez", "Chen", "Diaz", "Okafor", "Smith", "Nguyen", "Kowalski", "Rossi", "Haddad", "Berg"]
CALLER = ["Hi, I'm interested in the {thing}.", "How much does the {thing} cost?", "Do you have parking?",
          "We want to move next month.", "Is the {thing} available on weekends?", "Thanks, that's all."]
AGENT = ["Thanks for calling! What can I help you with?", "The {thing} starts at $400 a month.",
         "Every home has two parking spaces.", "Great, I've noted that.", "Have a lovely day."]
THINGS = ["studio", "garden flat", "penthouse", "townhouse", "loft", "duplex", "cottage", "bungalow"]
RARE = "conservatory"  # said in about 1 call in 300


def seed(leads: int, turns: int) -> tuple[int, int]:
    """One organisation and campaign with ``leads`` leads, a call each; returns (owner user id, a lead id)."""
    from sqlalchemy import insert

    from quantum_voice.core.clock import utcnow
    from quantum_voice.core.db import get_engine, session_scope
    from quantum_voice.models.calls import ConsentRecord, Conversation, TranscriptTurn
    from quantum_voice.models.leads import Lead
    from quantum_voice.services import accounts, campaigns
    from quantum_voice.services.tenancy import OrgRepository, Scope

    with session_scope() as session:
        result = accounts.signup(session, email="bench@example.com", password="a long bench passphrase 42",
                                 organization_name="Bench Homes")
        user_id, org = result.user.id, result.organization.id
        repo = OrgRepository(session, Scope(user_id=user_id, organization_id=org, role="owner"))
        campaign_id = campaigns.create_campaign(repo, name="Open House").id
    rng = random.Random(7)
    now = utcnow()
    engine = get_engine()
    batch = 2_000
    for start in range(0, leads, batch):
        n = min(batch, leads - start)
        with engine.begin() as conn:
            lead_rows, consent_rows, turn_rows = [], [], []
            first_conv = conn.execute(insert(Conversation).returning(Conversation.id), [
                {"organization_id": org, "campaign_id": campaign_id, "channel": "web", "status": "ended",
                 "is_test": False, "flow_state": {}, "started_at": now - timedelta(minutes=start + i),
                 "ended_at": now - timedelta(minutes=start + i - 2)} for i in range(n)]).scalars().all()
            conv_rows = list(first_conv)
            for i, conv_id in enumerate(conv_rows):
                k = start + i
                thing = RARE if rng.random() < 1 / 300 else rng.choice(THINGS)
                for t in range(turns):
                    text = (AGENT if t % 2 == 0 else CALLER)[(t // 2) % 5].format(thing=thing)
                    turn_rows.append({"organization_id": org, "conversation_id": conv_id, "seq": t,
                                      "speaker": "agent" if t % 2 == 0 else "caller", "text": text,
                                      "interrupted": False, "meta": {}, "offset_ms": t * 4000,
                                      "created_at": now - timedelta(minutes=k)})
                consent_rows.append({"public_id": str(uuid.uuid4()), "organization_id": org,
                                     "campaign_id": campaign_id, "conversation_id": conv_id,
                                     "email": f"caller{k}@example.com", "granted": True,
                                     "wording": "I agree to be contacted.", "policy_version": "1",
                                     "created_at": now - timedelta(minutes=k)})
            consent_ids = conn.execute(insert(ConsentRecord).returning(ConsentRecord.id),
                                       consent_rows).scalars().all()
            for i, (conv_id, consent_id) in enumerate(zip(conv_rows, consent_ids)):
                k = start + i
                score = rng.randint(0, 100)
                lead_rows.append({"organization_id": org, "campaign_id": campaign_id, "conversation_id": conv_id,
                                  "consent_record_id": consent_id,
                                  "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                                  "email": f"caller{k}@example.com", "phone": f"555{k:07d}",
                                  "custom_fields": {}, "score": score,
                                  "band": "hot" if score >= 70 else "warm" if score >= 40 else "cold",
                                  "score_breakdown": [], "status": rng.choice(["new", "new", "contacted", "won"]),
                                  "is_test": False, "created_at": now - timedelta(minutes=k),
                                  "updated_at": now - timedelta(minutes=k)})
            lead_ids = conn.execute(insert(Lead).returning(Lead.id), lead_rows).scalars().all()
            conn.execute(insert(TranscriptTurn), turn_rows)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE conversations SET lead_id = l.id FROM leads l "
                             "WHERE l.conversation_id = conversations.id")
    analyze(engine)
    return user_id, lead_ids[len(lead_ids) // 2]


def timed(runs: int, work) -> tuple[float, float, int]:
    """p50 and p95 in ms over ``runs`` (after one warm-up), and the size of the last result."""
    size = len(work() or [])
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        size = len(work() or [])
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(round(0.95 * len(times))) - 1)], size


def owner_scope(user_id: int):
    """The seeded owner acting for their organisation, as the API's requests would."""
    from sqlmodel import select

    from quantum_voice.core.db import session_scope
    from quantum_voice.models.accounts import Membership
    from quantum_voice.services.tenancy import Scope

    with session_scope() as session:
        org = session.exec(select(Membership.organization_id).where(Membership.user_id == user_id)).one()
    return Scope(user_id=user_id, organization_id=org, role="owner")


def measure(user_id: int, lead_id: int, runs: int, leads: int) -> list[tuple[str, float, float, int]]:
    from quantum_voice.core.db import session_scope
    from quantum_voice.services.leads import records
    from quantum_voice.services.leads.records import LeadFilter
    from quantum_voice.services.tenancy import OrgRepository

    scope = owner_scope(user_id)

    def listing(leads: LeadFilter, sort: str = "newest"):
        def work():
            with session_scope() as session:
                rows, page = records.list_page(OrgRepository(session, scope), leads, sort=sort, per_page=25)
                return rows
        return work

    def detail():
        with session_scope() as session:
            return records.lead_detail(OrgRepository(session, scope), lead_id).calls[0].transcript

    cases = [("list, band filter, newest", listing(LeadFilter(band="hot"))),
             ("list, status + band, by score", listing(LeadFilter(band="warm", status="contacted"), "score")),
             ("search: whole email", listing(LeadFilter(query=f"caller{leads // 3}@example.com"))),
             ("search: part of an email", listing(LeadFilter(query=f"caller{leads // 30}"))),
             ("search: words said in calls", listing(LeadFilter(query=RARE))),
             ("lead page (detail)", detail)]
    return [(name, *timed(runs, work)) for name, work in cases]


def export_memory(user_id: int) -> tuple[int, float, float, float]:
    """Stream the CSV of every lead in a fresh process (so nothing else raised its peak first): rows, seconds, the
    process's RSS before the export and its peak during it (MB)."""
    done = subprocess.run([sys.executable, "-m", "bench.leads", "--export-for", str(user_id)], env=os.environ.copy(),
                          capture_output=True, text=True, check=True)
    rows, seconds, before, peak = done.stdout.split()
    return int(rows), float(seconds), float(before), float(peak)


def _export_here(user_id: int) -> None:
    from quantum_voice.core.db import session_scope
    from quantum_voice.services.leads.export import lead_csv
    from quantum_voice.services.leads.records import LeadFilter

    scope = owner_scope(user_id)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started, lines = time.perf_counter(), 0
    for chunk in lead_csv(session_scope, scope, LeadFilter()):
        lines += chunk.count("\n")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(lines - 1, f"{time.perf_counter() - started:.2f}", f"{before:.0f}", f"{peak:.0f}")


def run_backend(backend: str, leads: int, turns: int, runs: int) -> None:
    with migrated_database(backend == "postgresql", "qv_bench"):
        started = time.perf_counter()
        user_id, lead_id = seed(leads, turns)
        print(f"\n{backend}: {leads:,} leads, {leads * turns:,} transcript turns "
              f"(seeded in {time.perf_counter() - started:.0f} s), {runs} runs each", flush=True)
        print(f"{'':34} {'p50 ms':>8} {'p95 ms':>8} {'rows':>6}")
        rows, seconds, before, peak = export_memory(user_id)
        for name, p50, p95, size in measure(user_id, lead_id, runs, leads):
            print(f"{name:34} {p50:8.1f} {p95:8.1f} {size:6}")
        print(f"{'CSV export, all leads':34} {rows:,} rows in {seconds:.1f} s; process RSS {before:.0f} MB "
              f"before, peak {peak:.0f} MB during")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.leads", description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--turns", type=int, default=10, help="transcript turns per lead's call")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--export-for", type=int, help=argparse.SUPPRESS)  # the export's own process
    args = parser.parse_args(argv)
    if args.export_for:
        _export_here(args.export_for)
        return 0
    for backend in args.backends.split(","):
        run_backend(backend.strip(), args.leads, args.turns, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
