"""Knowledge-base benchmark: ``python -m bench.knowledge``.

Builds a knowledge base from the fixture documents (rendered as PDF, DOCX, TXT and Markdown, so every parser
runs), asks the labelled questions and prints retrieval quality, how many unanswerable questions stay below the
answer threshold, search latency with the knowledge base grown to 10,000 chunks, and ingest speed.

Runs on a throw-away SQLite database unless ``--database-url`` names another (e.g. a scratch PostgreSQL db).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from quantum_voice.services.seed import DEMO_BROCHURE  # the demo brochure `make run` seeds

FIXTURES = Path(__file__).parent / "fixtures"
TARGETS = {"recall@3": 0.95, "unanswerable rejected": 0.90, "search p95 ms": 150.0}


@dataclass
class QualityReport:
    recall_at_1: float
    recall_at_3: float
    mrr: float
    answerable_answered: float
    answerable_offered: float  # answered, or offered as the closest passage (a RAG node's tentative_threshold)
    unanswerable_rejected: float
    misses: list[str]
    false_answers: list[str]


def fixture_files() -> list[tuple[str, bytes]]:
    """The four fixture documents, each in a different format."""
    from bench.render import markdown_to_docx, markdown_to_pdf

    return [
        ("harbor_view_brochure.pdf", markdown_to_pdf(DEMO_BROCHURE.read_text())),
        ("buying_faq.txt", (FIXTURES / "buying_faq.txt").read_bytes()),
        ("building_specifications.docx", markdown_to_docx((FIXTURES / "building_specifications.md").read_text())),
        ("neighbourhood_guide.md", (FIXTURES / "neighbourhood_guide.md").read_bytes()),
    ]


def labelled_questions() -> dict:
    return json.loads((FIXTURES / "questions.json").read_text())


def system_repo(session, organization_name: str = "Benchmark Homes"):
    """An owner-level repository for a new organisation (no user account needed)."""
    from quantum_voice.models.accounts import Organization
    from quantum_voice.services.tenancy import OrgRepository, Scope

    org = Organization(name=organization_name, slug=f"bench-{random.randrange(10**9)}")
    session.add(org)
    session.flush()
    return OrgRepository(session, Scope(user_id=None, organization_id=org.id, role="owner", via="system"))


def build_knowledge_base(files: list[tuple[str, bytes]]) -> tuple[int, int, float, int]:
    """Upload ``files`` into a new knowledge base and process them; (org id, kb id, seconds, pages)."""
    from quantum_voice.core.db import session_scope
    from quantum_voice.services.knowledge import documents
    from quantum_voice.worker import build_worker

    with session_scope() as session:
        repo = system_repo(session)
        kb = documents.create_knowledge_base(repo, "Harbor View")
        for name, data in files:
            documents.upload_document(repo, kb.id, name, data)
        org_id, kb_id = repo.scope.organization_id, kb.id
    started = time.perf_counter()
    build_worker().run_pending()
    seconds = time.perf_counter() - started
    with session_scope() as session:
        from quantum_voice.models.knowledge import Document
        from sqlmodel import select

        docs = session.exec(select(Document).where(Document.knowledge_base_id == kb_id)).all()
        failed = [(d.name, d.error) for d in docs if d.status != "ready"]
        if failed:
            raise SystemExit(f"documents failed to process: {failed}")
        pages = sum(d.page_count or max(1, round(d.size_bytes / 3000)) for d in docs)
    return org_id, kb_id, seconds, pages


def _hit_rank(results, document: str, evidence: str) -> int | None:
    for rank, passage in enumerate(results, start=1):
        if Path(passage.document_name).stem == document and evidence.lower() in passage.text.lower():
            return rank
    return None


def evaluate(org_id: int, kb_id: int, questions: dict, threshold: float | None = None) -> QualityReport:
    from quantum_voice.core.db import session_scope
    from quantum_voice.services.knowledge.questions import ask

    from quantum_voice.services.flows.schema import RagAnswerConfig

    tentative = RagAnswerConfig().tentative_threshold
    ranks, answered, offered, misses, false_answers = [], 0, 0, [], []
    with session_scope() as session:
        for item in questions["answerable"]:
            result = ask(session, organization_id=org_id, knowledge_base_id=kb_id, question=item["question"],
                         top_k=10, threshold=threshold, record=False)
            rank = _hit_rank(result.results, item["document"], item["evidence"])
            ranks.append(rank)
            answered += result.answered
            offered += result.answered or ask(session, organization_id=org_id, knowledge_base_id=kb_id,
                                              question=item["question"], top_k=10, threshold=tentative,
                                              record=False).answered
            if rank is None or rank > 3:
                misses.append(f"{item['question']} (rank {rank})")
        rejected = 0
        for item in questions["unanswerable"]:
            result = ask(session, organization_id=org_id, knowledge_base_id=kb_id, question=item["question"],
                         top_k=5, threshold=threshold, record=False)
            rejected += not result.answered
            if result.answered:
                false_answers.append(f"{item['question']} → {result.answer.text[:60]!r} ({result.answer.confidence})")
    n = len(ranks)
    return QualityReport(
        recall_at_1=sum(r == 1 for r in ranks) / n,
        recall_at_3=sum(r is not None and r <= 3 for r in ranks) / n,
        mrr=sum(1 / r for r in ranks if r) / n,
        answerable_answered=answered / n,
        answerable_offered=offered / n,
        unanswerable_rejected=rejected / len(questions["unanswerable"]),
        misses=misses, false_answers=false_answers)


_FILLER_WORDS = {
    "place": ["north tower", "east wing", "annex", "loading dock", "mechanical room", "plaza level", "atrium",
              "service corridor", "west stair", "podium roof", "retail arcade", "boiler room", "chiller yard"],
    "thing": ["sprinkler riser", "fire pump", "roof membrane", "expansion joint", "transfer slab", "curtain wall",
              "drainage sump", "generator", "switchgear", "cooling tower", "handrail", "sealant bead", "damper"],
    "action": ["inspected", "replaced", "recalibrated", "pressure-tested", "repainted", "resealed", "certified",
               "logged", "reported", "cleaned", "upgraded", "tightened"],
    "vendor": ["Acme Mechanical", "Brightline Electric", "Coastal Roofing", "Delta Fire Safety", "Evergreen Controls",
               "Fulton Glazing", "Granite Structural", "Halcyon Elevators"],
}


def filler_texts(count: int, seed: int = 7) -> list[str]:
    """Maintenance-log style passages: plausible building text that answers none of the labelled questions."""
    rng = random.Random(seed)
    texts = []
    for n in range(count):
        sentences = []
        for _ in range(rng.randint(3, 5)):
            w = {k: rng.choice(v) for k, v in _FILLER_WORDS.items()}
            check = rng.choice(["routine", "quarterly", "annual", "urgent"])
            sentences.append(f"Work order {rng.randint(1000, 99999)}: the {w['thing']} in the {w['place']} was "
                             f"{w['action']} by {w['vendor']} after a {check} check, reading {rng.randint(10, 990)} "
                             f"units on gauge {rng.randint(1, 60)}.")
        texts.append(f"Maintenance log {n}. " + " ".join(sentences))
    return texts


def grow_to(org_id: int, kb_id: int, total_chunks: int) -> int:
    """Add filler chunks (embedded for real) until the knowledge base holds ``total_chunks``."""
    from sqlalchemy import func
    from sqlmodel import select

    from quantum_voice.core.db import session_scope
    from quantum_voice.models.knowledge import Chunk, Document
    from quantum_voice.services.knowledge.embeddings import get_embedder, to_bytes, unit_vectors_to_bytes
    from quantum_voice.services.knowledge.spoken import embedding_texts

    with session_scope() as session:
        have = session.exec(select(func.count(Chunk.id)).where(Chunk.knowledge_base_id == kb_id)).one()
        missing = max(total_chunks - have, 0)
        document = Document(organization_id=org_id, knowledge_base_id=kb_id, name="maintenance_logs.txt",
                            sha256="filler" + str(time.time()), status="ready", chunk_count=missing)
        session.add(document)
        session.flush()
        texts = filler_texts(missing)
        vectors = get_embedder().embed(texts)
        # as processing stores them: each chunk's spoken units' vectors, for the extractive answerer
        unit_texts = [embedding_texts(t, None) for t in texts]
        flat = get_embedder().embed([u for units in unit_texts for u in units])
        bounds = np.cumsum([0] + [len(units) for units in unit_texts])
        session.add_all(Chunk(organization_id=org_id, knowledge_base_id=kb_id, document_id=document.id, ordinal=i,
                              text=t, token_count=len(t.split()), embedding=to_bytes(v),
                              unit_vectors=unit_vectors_to_bytes(flat[bounds[i]:bounds[i + 1]]))
                        for i, (t, v) in enumerate(zip(texts, vectors)))
    return missing


def latencies(org_id: int, kb_id: int, questions: list[str], *, answer: bool) -> list[float]:
    """Milliseconds per search (``answer=False``) or per full ask with the extractive answer."""
    from quantum_voice.core.db import session_scope
    from quantum_voice.services.knowledge import embeddings
    from quantum_voice.services.knowledge.answering import sentence_vectors
    from quantum_voice.services.knowledge.questions import ask
    from quantum_voice.services.knowledge.retrieval import retrieve

    timings = []
    with session_scope() as session:
        retrieve(session, organization_id=org_id, knowledge_base_id=kb_id, question="warm up", top_k=5)
        for question in questions:
            embeddings._query_cache = None  # every question pays for its own embedding
            sentence_vectors.clear()
            started = time.perf_counter()
            if answer:
                ask(session, organization_id=org_id, knowledge_base_id=kb_id, question=question, record=False)
            else:
                retrieve(session, organization_id=org_id, knowledge_base_id=kb_id, question=question, top_k=5)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def run(total_chunks: int, ingest_copies: int) -> dict:
    from quantum_voice.services.knowledge.embeddings import get_embedder
    from bench.render import markdown_to_pdf

    get_embedder()  # load the model outside every timing
    questions = labelled_questions()
    org_id, kb_id, _, _ = build_knowledge_base(fixture_files())
    quality = evaluate(org_id, kb_id, questions)

    long_pdf = markdown_to_pdf("\n\n".join(path.read_text() for path in (
        DEMO_BROCHURE, FIXTURES / "building_specifications.md", FIXTURES / "neighbourhood_guide.md")), repeat=ingest_copies)
    _, _, ingest_seconds, ingest_pages = build_knowledge_base([("long_brochure.pdf", long_pdf)])

    added = grow_to(org_id, kb_id, total_chunks)
    all_questions = [q["question"] for q in questions["answerable"] + questions["unanswerable"]]
    search_ms = latencies(org_id, kb_id, all_questions * 2, answer=False)
    ask_ms = latencies(org_id, kb_id, all_questions, answer=True)
    at_scale = evaluate(org_id, kb_id, questions)
    return {"quality": quality, "at_scale": at_scale, "chunks": total_chunks, "filler": added,
            "search_ms": search_ms, "ask_ms": ask_ms, "ingest_pages": ingest_pages, "ingest_seconds": ingest_seconds,
            "questions": questions}


def print_table(result: dict) -> None:
    quality, at_scale = result["quality"], result["at_scale"]
    search, asks = result["search_ms"], result["ask_ms"]
    n_answerable, n_unanswerable = len(result["questions"]["answerable"]), len(result["questions"]["unanswerable"])
    rows = [
        ("recall@1", f"{quality.recall_at_1:.3f}", ""),
        ("recall@3", f"{quality.recall_at_3:.3f}", f"≥ {TARGETS['recall@3']}"),
        ("MRR", f"{quality.mrr:.3f}", ""),
        ("answerable questions answered", f"{quality.answerable_answered:.3f}", ""),
        ("  or offered as the closest passage", f"{quality.answerable_offered:.3f}", ""),
        ("unanswerable rejected (below threshold)", f"{quality.unanswerable_rejected:.3f}",
         f"≥ {TARGETS['unanswerable rejected']}"),
        (f"recall@3 at {result['chunks']:,} chunks", f"{at_scale.recall_at_3:.3f}", ""),
        (f"unanswerable rejected at {result['chunks']:,} chunks", f"{at_scale.unanswerable_rejected:.3f}", ""),
        (f"search p50 at {result['chunks']:,} chunks", f"{percentile(search, 50):.1f} ms", ""),
        (f"search p95 at {result['chunks']:,} chunks", f"{percentile(search, 95):.1f} ms",
         f"< {TARGETS['search p95 ms']:.0f} ms"),
        ("search + extractive answer p50 / p95", f"{percentile(asks, 50):.1f} / {percentile(asks, 95):.1f} ms", ""),
        ("ingest speed (PDF, parse→ready)",
         f"{result['ingest_pages'] / result['ingest_seconds']:.1f} pages/s", f"{result['ingest_pages']} pages"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"\nKnowledge benchmark — {n_answerable} answerable + {n_unanswerable} unanswerable questions, "
          f"{os.cpu_count()} CPU cores")
    print(f"{'metric'.ljust(width)}  {'value':>18}  target")
    print("─" * (width + 32))
    for name, value, target in rows:
        print(f"{name.ljust(width)}  {value:>18}  {target}")
    for label, items in (("missed (not in top 3)", quality.misses), ("answered but should not be",
                                                                     quality.false_answers)):
        if items:
            print(f"\n{label}:")
            for item in items:
                print(f"  - {item}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.knowledge", description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10_000, help="knowledge-base size for the latency test")
    parser.add_argument("--ingest-copies", type=int, default=8, help="copies of the fixtures in the ingest PDF")
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qv-bench-") as data_dir:
        os.environ["DATA_DIR"] = data_dir
        os.environ["DATABASE_URL"] = args.database_url
        os.environ.pop("REDIS_URL", None)
        from quantum_voice.core.config import reset_settings
        from quantum_voice.core.migrate import upgrade_to_head

        reset_settings()
        upgrade_to_head()
        print_table(run(args.chunks, args.ingest_copies))


if __name__ == "__main__":
    main()
