"""Loading and checking the evaluation material (``material/<key>.md`` + ``<key>.json``, see material/SCHEMA.md).

The material is written by hand (by people and helpers), so it is validated up front: a persona that names a
question that does not exist, or an unknown email style, would otherwise show up as a confusing agent failure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

MATERIAL_DIR = Path(__file__).parent / "material"
EMAIL_STYLES = ("plain", "spelled", "dotted")
CONSENT_STYLES = ("yes", "no", "hedged_yes", "negated_yes")
BEHAVIOURS = ("greets", "off_topic", "what_do_you_mean", "silence", "small_talk")
REFUSABLE = ("name", "phone")
BANDS = ("cold", "warm", "hot")
SPLITS = ("dev", "holdout")


class MaterialError(ValueError):
    """The material does not follow SCHEMA.md."""


@dataclass(frozen=True)
class Question:
    id: str
    ask: str
    facts: tuple[tuple[str, ...], ...] = ()  # every group must appear in the reply, one alternative per group
    answerable: bool = True


@dataclass(frozen=True)
class Persona:
    id: str
    name: str | None
    email: str
    email_style: str = "plain"
    typed_email: bool = False
    phone: str | None = None
    consent: str = "yes"
    refuses: tuple[str, ...] = ()
    opening: str | None = None
    volunteers: dict = field(default_factory=dict)
    corrects: str | None = None
    behaviours: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    timeline: str | None = None
    budget: str | None = None
    wants_visit: bool = False
    wants_human: bool = False
    expect: dict = field(default_factory=dict)

    @property
    def consents(self) -> bool:
        return self.consent != "no"

    @property
    def gives_name(self) -> bool:
        """Will the persona's name end up with the agent (it has one and does not decline it)?"""
        return bool(self.name) and "name" not in self.refuses


@dataclass(frozen=True)
class Business:
    key: str
    name: str
    kind: str
    document: Path
    split: str
    questions: dict[str, Question]
    personas: tuple[Persona, ...]


def load_material(directory: Path | str = MATERIAL_DIR, *, split: str = "all",
                  business: str | None = None) -> list[Business]:
    """Every business in ``directory`` (sorted by key), limited to ``split`` (dev | holdout | all) and ``business``."""
    directory = Path(directory)
    found = []
    for path in sorted(directory.glob("*.json")):
        if business and path.stem != business:
            continue
        item = load_business(path)
        if split == "all" or item.split == split:
            found.append(item)
    if business and not found:
        raise MaterialError(f"no business '{business}' (split {split}) in {directory}")
    return found


def load_business(path: Path) -> Business:
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise MaterialError(f"{path.name}: not valid JSON ({exc})") from None
    where = path.name
    document = path.parent / _required(data, "document", where)
    if not document.exists():
        raise MaterialError(f"{where}: document {document.name} is missing")
    questions: dict[str, Question] = {}
    for raw in data.get("questions") or []:
        question = _question(raw, where)
        if question.id in questions:
            raise MaterialError(f"{where}: question id {question.id} appears twice")
        questions[question.id] = question
    personas = tuple(_persona(raw, questions, where) for raw in data.get("personas") or [])
    split = data.get("split", "dev")
    if split not in SPLITS:
        raise MaterialError(f"{where}: split must be one of {SPLITS}, not {split!r}")
    return Business(key=path.stem, name=_required(data, "business", where), kind=data.get("kind", ""),
                    document=document, split=split, questions=questions, personas=personas)


def _required(data: dict, key: str, where: str):
    if not data.get(key):
        raise MaterialError(f"{where}: '{key}' is required")
    return data[key]


def _question(raw: dict, where: str) -> Question:
    qid = _required(raw, "id", where)
    answerable = raw.get("answerable", True)
    facts = tuple(tuple(str(alt) for alt in group) for group in raw.get("facts") or [])
    if answerable and (not facts or any(not group for group in facts)):
        raise MaterialError(f"{where}: answerable question {qid} needs non-empty fact groups")
    return Question(id=qid, ask=_required(raw, "ask", f"{where} question {qid}"), facts=facts, answerable=answerable)


def _persona(raw: dict, questions: dict[str, Question], where: str) -> Persona:
    pid = _required(raw, "id", where)
    at = f"{where} persona {pid}"
    persona = Persona(
        id=pid, name=raw.get("name") or None, email=_required(raw, "email", at).strip().lower(),
        email_style=raw.get("email_style") or "plain", typed_email=bool(raw.get("typed_email")),
        phone=raw.get("phone") or None, consent=raw.get("consent") or "yes", refuses=tuple(raw.get("refuses") or ()),
        opening=raw.get("opening") or None, volunteers=dict(raw.get("volunteers") or {}),
        corrects=raw.get("corrects") or None, behaviours=tuple(raw.get("behaviours") or ()),
        questions=tuple(raw.get("questions") or ()), timeline=raw.get("timeline") or None,
        budget=raw.get("budget") or None, wants_visit=bool(raw.get("wants_visit")),
        wants_human=bool(raw.get("wants_human")), expect=dict(raw.get("expect") or {}))
    checks = [
        (persona.email_style in EMAIL_STYLES, f"email_style must be one of {EMAIL_STYLES}"),
        (persona.consent in CONSENT_STYLES, f"consent must be one of {CONSENT_STYLES}"),
        (all(b in BEHAVIOURS for b in persona.behaviours), f"behaviours must be among {BEHAVIOURS}"),
        (all(r in REFUSABLE for r in persona.refuses), f"refuses must be among {REFUSABLE}"),
        (persona.corrects in (None, "email", "name"), "corrects must be email or name"),
        (persona.corrects != "name" or bool(persona.name), "corrects name needs a name"),
        (persona.expect.get("band") in (None, *BANDS), f"expect.band must be one of {BANDS}"),
        ("@" in persona.email, "email must be an address"),
    ]
    for ok, message in checks:
        if not ok:
            raise MaterialError(f"{at}: {message}")
    unknown = [q for q in persona.questions if q not in questions]
    if unknown:
        raise MaterialError(f"{at}: unknown questions {unknown}")
    return persona
