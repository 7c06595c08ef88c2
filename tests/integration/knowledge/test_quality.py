"""The labelled question set of the benchmark, as an assertion with a floor (on SQLite and PostgreSQL)."""

from bench.knowledge import build_knowledge_base, evaluate, fixture_files, labelled_questions


def test_labelled_questions_meet_the_quality_floor(engine):
    questions = labelled_questions()
    assert len(questions["answerable"]) >= 40 and len(questions["unanswerable"]) >= 8
    org_id, kb_id, _, _ = build_knowledge_base(fixture_files())
    report = evaluate(org_id, kb_id, questions)
    assert report.recall_at_3 >= 0.92, report.misses
    assert report.recall_at_1 >= 0.75 and report.mrr >= 0.8
    assert report.unanswerable_rejected >= 0.95, report.false_answers
    # "answered" is said as the answer (confidence ≥ 0.5, the operating point where the conversation benchmark's
    # development set presents no out-of-scope passage as the answer); below it, down to a RAG node's
    # tentative_threshold, the closest passage is offered as such and the caller asked whether it answers.
    # (2026-12-04: 0.46 said as the answer, 1.0 answered or offered, 1.0 of the unanswerable rejected.)
    assert report.answerable_answered >= 0.44
    assert report.answerable_offered >= 0.95
