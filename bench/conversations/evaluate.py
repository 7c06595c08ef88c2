"""The evaluation as a Python API: ``evaluate(...)`` on the installed database, ``run(...)`` on a throw-away one.

The test (tests/integration/test_conversation_quality.py) calls ``evaluate`` on its own migrated SQLite database;
the command line (``python -m bench.conversations``) calls ``run``, which makes a temporary one first.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.conversations.calls import play
from bench.conversations.checks import PersonaResult, judge
from bench.conversations.material import MATERIAL_DIR, Business, load_material
from bench.conversations.questions import QuestionResult, SearchTimeouts, ask_questions
from bench.conversations.setup import build_business, temporary_database

# what "good" means; the report and the test hold the agent to these
TARGETS = {"answered": 0.95, "invented": 0, "personas": 0.95, "turns_over_minimum": 1.0}
# What CI holds the agent to today: the levels measured when they were last set, less a small margin. 2026-12-05
# (session 8), ten businesses: answered 90 %, 1 invented of 80, personas 71 %, 0.01 turns over the minimum. They
# are lower than session 7's (91 %, 76 % on seven businesses) only because three new businesses written blind
# joined the material at their first-contact levels (66 % answered, 8 of 35 personas); on the seven, nothing fell
# (answered 203 -> 208 of 224, personas 53 -> 59 of 70).
# The TARGETS above are not met yet; raise these floors whenever the agent gets better, never lower them
# to let a change land.
CI_FLOORS = {"answered": 0.87, "invented": 1, "personas": 0.67, "turns_over_minimum": 1.0}


@dataclass(repr=False)
class Results:
    businesses: list[Business]
    questions: list[QuestionResult] = field(default_factory=list)
    personas: list[PersonaResult] = field(default_factory=list)
    search_timeouts: int = 0
    seconds: float = 0.0
    _fragments: tuple[int, list] | None = field(default=None, init=False)  # (questions judged, what was found)

    def __repr__(self) -> str:  # short: pytest prints it in tracebacks
        return (f"Results({len(self.businesses)} businesses, {len(self.questions)} questions, "
                f"{len(self.personas)} personas)")

    # ---------------------------------------------------------------- the headline numbers

    @property
    def answerable(self) -> list[QuestionResult]:
        return [q for q in self.questions if q.answerable]

    @property
    def answered(self) -> int:
        return sum(q.passed for q in self.answerable)

    @property
    def answered_rate(self) -> float:
        return self.answered / len(self.answerable) if self.answerable else 1.0

    @property
    def invented(self) -> list[QuestionResult]:
        return [q for q in self.questions if not q.answerable and not q.passed]

    @property
    def fragments(self) -> list[tuple[QuestionResult, str]]:
        """Replies to questions holding a sentence with no main verb ("Water-damaged laptops."), as the English
        parser judges them: what a caller would hear as a fragment."""
        if self._fragments is None or self._fragments[0] != len(self.questions):  # parse once, not per report line
            from quantum_voice.services.knowledge.grammar import shape_of
            from quantum_voice.services.knowledge.text import split_sentences

            found = []
            for q in self.questions:
                sentence = next((s for s in split_sentences(q.reply.replace(":", ".")) if shape_of(s).fragment), None)
                if sentence:
                    found.append((q, sentence))
            self._fragments = (len(self.questions), found)
        return self._fragments[1]

    @property
    def personas_passed(self) -> int:
        return sum(p.passed for p in self.personas)

    @property
    def personas_rate(self) -> float:
        return self.personas_passed / len(self.personas) if self.personas else 1.0

    @property
    def turns_over_minimum(self) -> float | None:
        over = [p.turns_over_minimum for p in self.personas if p.turns_over_minimum is not None]
        return sum(over) / len(over) if over else None

    @property
    def not_captured(self) -> list[PersonaResult]:
        """Consenting personas whose lead never became complete (left out of the turns mean)."""
        return [p for p in self.personas if p.capture_turns is None and self._consents(p)]

    def _consents(self, result: PersonaResult) -> bool:
        return next(persona.consents for b in self.businesses for persona in b.personas
                    if persona.id == result.persona)

    def missed_targets(self, targets: dict | None = None) -> list[str]:
        missed = []
        goal = targets or TARGETS
        if self.answered_rate < goal["answered"]:
            missed.append(f"answered {self.answered_rate:.1%} < {goal['answered']:.0%}")
        if len(self.invented) > goal["invented"]:
            missed.append(f"invented answers {len(self.invented)} > {goal['invented']}")
        if self.personas_rate < goal["personas"]:
            missed.append(f"personas passed {self.personas_rate:.1%} < {goal['personas']:.0%}")
        over = self.turns_over_minimum
        if over is None or over > goal["turns_over_minimum"]:
            missed.append(f"turns over minimum {over if over is None else round(over, 2)} > "
                          f"{goal['turns_over_minimum']}")
        return missed


def evaluate(material: Path | str = MATERIAL_DIR, *, split: str = "all", business: str | None = None,
             progress=None) -> Results:
    """Build every business on the installed (migrated) database, ask its questions and play its personas."""
    say = progress or (lambda message: None)
    _fresh_knowledge_caches()
    businesses = load_material(material, split=split, business=business)
    results = Results(businesses)
    timeouts = SearchTimeouts()
    adapter_log = logging.getLogger("quantum_voice.flows")
    adapter_log.addHandler(timeouts)
    started = time.perf_counter()
    try:
        for item in businesses:
            say(f"{item.key}: building the knowledge base and campaign")
            setup = build_business(item)
            say(f"{item.key}: asking {len(item.questions)} questions")
            results.questions += ask_questions(setup)
            for persona in item.personas:
                say(f"{item.key}: calling as {persona.id}")
                results.personas.append(judge(item.key, play(setup, persona), item.questions))
    finally:
        adapter_log.removeHandler(timeouts)
    results.search_timeouts = timeouts.count
    results.seconds = time.perf_counter() - started
    return results


def _fresh_knowledge_caches() -> None:
    """Per-knowledge-base caches live in the process; on a reused database (the test suite wipes tables, ids can
    repeat) a previous run's vectors must not answer for this one."""
    import importlib

    for module, name in (("quantum_voice.services.knowledge.vectors", "matrix_cache"),
                         ("quantum_voice.services.knowledge.answering", "sentence_vectors")):
        cache = getattr(importlib.import_module(module), name, None)
        if hasattr(cache, "clear"):
            cache.clear()


def run(material: Path | str = MATERIAL_DIR, *, split: str = "all", business: str | None = None,
        progress=None) -> Results:
    """``evaluate`` on a temporary SQLite database (nothing of the developer's own data is touched)."""
    with temporary_database():
        return evaluate(material, split=split, business=business, progress=progress)
