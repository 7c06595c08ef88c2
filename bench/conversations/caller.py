"""A reactive simulated caller: plays one persona by answering what the agent actually said, turn by turn.

A scripted list of lines would measure the script, not the agent: if the agent asks for the email twice, or
reads back a wrong address, a real caller notices and answers that. So each turn the caller classifies the
agent's last utterance (speech.classify) and answers it as the persona would: its name (or a refusal), its email
in its own style (with a slip to correct when the persona does that), the read-back, consent in its own words,
and, once the agent asks what it would like to know, its questions one per turn, then goodbye.

What the caller notices on the way (asked again for something it refused) goes into ``notes``; every turn is
labelled with its ``purpose`` so the checks can count the turns spent on the lead and find each question's answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.conversations.facts import missing_facts
from bench.conversations.material import Persona, Question
from bench.conversations.speech import (CONFIRM_AND_CONSENT, CONSENT_ALONE, AgentAsk, classify, say_email,
                                        say_phone, variant, wrong_email, wrong_name)

GOODBYE = "No, that's all, thanks. Bye!"
GREETING = "Hello!"
SMALL_TALK = "How are you today?"
OFF_TOPIC = "By the way, who won the game last night?"
WHAT_DO_YOU_MEAN = "What do you mean?"
HUMAN = "Can I talk to a real person?"
VISIT = "Could someone come out and give me a quote?"
REFUSALS = ("I'd rather not say.", "I'd prefer not to give that.")
# turns a persona spends on its own detours: they are not the agent's doing, so they do not count as lead turns
DETOURS = {"greeting", "small_talk", "off_topic", "silence", "what_do_you_mean", "opening", "question", "visit",
           "human", "goodbye", "clarify", "bye", "check"}
NOT_ANSWERED = "No, not really."
ANSWERED = "Yes, thanks."


@dataclass
class Plan:
    """One thing the caller still wants to say after the Lead Gate."""

    purpose: str  # question | off_topic | visit | human | goodbye
    text: str
    question_id: str | None = None


@dataclass
class CallerTurn:
    text: str
    purpose: str
    heard: AgentAsk  # what the caller took the agent's previous utterance to ask
    question_id: str | None = None


@dataclass
class SimulatedCaller:
    persona: Persona
    questions: dict[str, Question]
    turns: list[CallerTurn] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # failures the caller noticed itself
    confirmed_emails: set[str] = field(default_factory=set)  # addresses it said "yes, that's right" to
    refused: set[str] = field(default_factory=set)
    plans: list[Plan] = field(default_factory=list)
    _pending: set[str] = field(default_factory=set)  # behaviours not done yet
    _slipped: set[str] = field(default_factory=set)  # fields given wrong on purpose, not corrected yet
    _corrected: set[str] = field(default_factory=set)
    _clarified: set[str] = field(default_factory=set)  # questions already restated once
    _said_goodbye: int = 0

    def __post_init__(self):
        self._pending = set(self.persona.behaviours)
        self.plans = self._plan()

    # ---------------------------------------------------------------- the persona's agenda

    def _plan(self) -> list[Plan]:
        p = self.persona
        plans = []
        timeline = f"We're hoping to do this {p.timeline}." if p.timeline else None
        budget = None
        if p.budget:  # "around $8,000" is said as is; a bare "$8,000" gets an "about"
            budget = f"Our budget is {'about ' if p.budget[:1].isdigit() or p.budget[:1] in '$£€' else ''}{p.budget}."
        for index, qid in enumerate(p.questions):
            said = [self.questions[qid].ask]
            if index == 0 and timeline:
                said.append(timeline)
            if budget and (index == 1 or len(p.questions) == 1):
                said.append(budget)
            plans.append(Plan("question", " ".join(_sentence(s) for s in said), qid))
        extras = [] if p.questions else [e for e in (timeline, budget) if e]
        if extras:  # fewer questions than things to mention
            plans.append(Plan("mention", " ".join(extras)))
        if "off_topic" in self._pending:
            plans.insert(min(1, len(plans)), Plan("off_topic", OFF_TOPIC))
        if p.wants_visit:
            plans.append(Plan("visit", VISIT))
        if p.wants_human:
            plans.append(Plan("human", HUMAN))
        plans.append(Plan("goodbye", GOODBYE))
        return plans

    @property
    def done(self) -> bool:
        return self._said_goodbye > 0

    # ---------------------------------------------------------------- one turn

    def opening(self) -> str | None:
        """What the persona says first, unasked (its opening, with any fields it volunteers), or ``None``."""
        p = self.persona
        parts = [p.opening] if p.opening else []
        spoken = " ".join(parts).lower()
        if p.volunteers.get("name") and p.name and p.name.split()[0].lower() not in spoken:
            parts.append(f"I'm {p.name}.")
        if p.volunteers.get("email") and not p.typed_email and "@" not in spoken and " at " not in spoken:
            parts.append(f"My email is {self._email_to_say()}.")
        if not parts:
            return None
        volunteered = any(p.volunteers.get(k) for k in ("name", "email"))
        text = " ".join(parts)
        self._record(text, "lead" if volunteered else "opening", AgentAsk("statement"),
                     question_id=self._question_in(text))
        return text

    def reply(self, agent_text: str) -> str | None:
        """The persona's answer to what the agent just said; ``None``: the caller has hung up."""
        heard = classify(agent_text)
        if self._said_goodbye:
            if self._said_goodbye >= 2:
                return None
            self._said_goodbye += 1
            return self._record("Bye.", "bye", heard)
        early = self._behaviour_first(heard)
        if early:
            return early
        if "name" in self._slipped:
            self._slipped.discard("name")
            self._corrected.add("name")
            return self._record(f"Sorry, no, my name is {self.persona.name}.", "correction", heard)
        if "email" in self._slipped and heard.kind != "confirm_email":
            self._slipped.discard("email")
            self._corrected.add("email")
            return self._record(f"Sorry, I gave you the wrong email. It's {self._email_to_say()}.", "correction",
                                heard)
        handler = {"name": self._give_name, "email": self._give_email, "confirm_email": self._confirm,
                   "phone": self._give_phone, "consent": self._consent}.get(heard.kind)
        if handler:
            return handler(heard)
        if heard.kind == "other" and self._last_question_unclear():
            return self._clarify(heard)
        if heard.kind == "check":
            return self._check(agent_text, heard)
        return self._next_plan(heard)

    def _behaviour_first(self, heard: AgentAsk) -> str | None:
        if "greets" in self._pending and heard.kind != "statement":
            self._pending.discard("greets")
            return self._record(GREETING, "greeting", heard)
        if "small_talk" in self._pending and self.turns:
            self._pending.discard("small_talk")
            return self._record(SMALL_TALK, "small_talk", heard)
        if "silence" in self._pending and len(self.turns) >= 1 and heard.kind in ("name", "email", "more"):
            self._pending.discard("silence")
            return self._record("", "silence", heard)
        if "what_do_you_mean" in self._pending and (heard.kind == "consent" or (
                heard.consent and heard.read_back == self.persona.email)):
            self._pending.discard("what_do_you_mean")
            text = WHAT_DO_YOU_MEAN
            if heard.kind == "confirm_email":
                text = "Yes, that's right, but what do you mean by that?"
                self.confirmed_emails.add(self.persona.email)
            return self._record(text, "what_do_you_mean", heard)
        return None

    # ---------------------------------------------------------------- the Lead Gate's fields

    def _refuse(self, field_name: str, heard: AgentAsk) -> str:
        if field_name in self.refused:
            self.notes.append(f"asked again after refusal ({field_name})")
        self.refused.add(field_name)
        return self._record(variant(self.persona.id, REFUSALS, field_name), "refusal", heard)

    def _give_name(self, heard: AgentAsk) -> str:
        p = self.persona
        if not p.name or "name" in p.refuses or "name" in self.refused:
            return self._refuse("name", heard)
        name = p.name
        if p.corrects == "name" and "name" not in self._corrected and "name" not in self._slipped:
            name = wrong_name(p.name)
            self._slipped.add("name")
        text = variant(p.id, (f"It's {name}.", f"{name}.", f"My name is {name}.", f"I'm {name}."), "name")
        return self._record(text, "lead", heard)

    def _email_to_say(self, *, slip: bool = False) -> str:
        p = self.persona
        address = wrong_email(p.email) if slip else p.email
        return say_email(address, "plain" if p.typed_email else p.email_style)

    def _give_email(self, heard: AgentAsk) -> str:
        p = self.persona
        slip = p.corrects == "email" and "email" not in self._corrected and "email" not in self._slipped
        if slip:
            self._slipped.add("email")
        address = self._email_to_say(slip=slip)
        text = variant(p.id, (f"It's {address}.", f"Sure, it's {address}.", f"My email is {address}.",
                              f"{address}."), "email")
        return self._record(text, "lead", heard)

    def _confirm(self, heard: AgentAsk) -> str:
        p = self.persona
        if heard.read_back == p.email:
            self.confirmed_emails.add(p.email)
            self._slipped.discard("email")
            text = CONFIRM_AND_CONSENT[p.consent] if heard.consent else "Yes, that's right."
            return self._record(text, "lead", heard)
        self._slipped.discard("email")
        self._corrected.add("email")
        return self._record(f"No, it's {self._email_to_say()}.", "lead", heard)

    def _give_phone(self, heard: AgentAsk) -> str:
        p = self.persona
        if not p.phone or "phone" in p.refuses or "phone" in self.refused:
            return self._refuse("phone", heard)
        return self._record(f"It's {say_phone(p.phone)}.", "lead", heard)

    def _consent(self, heard: AgentAsk) -> str:
        return self._record(CONSENT_ALONE[self.persona.consent], "lead", heard)

    # ---------------------------------------------------------------- questions and the rest

    def _last_question_unclear(self) -> bool:
        last = self.turns[-1] if self.turns else None
        return bool(last and last.question_id and last.question_id not in self._clarified)

    def _clarify(self, heard: AgentAsk) -> str:
        """The agent asked what the caller meant: restate the question once (out of scope: let it go)."""
        qid = self.turns[-1].question_id
        self._clarified.add(qid)
        question = self.questions[qid]
        text = f"I was asking: {question.ask}" if question.answerable else "Never mind, it's not important."
        return self._record(_sentence(text), "clarify", heard, question_id=qid)

    def _check(self, agent_text: str, heard: AgentAsk) -> str | None:
        """"Does that answer your question?": yes when the agent's words hold what the persona wanted to know (and
        then straight on with the next thing, as people do), no otherwise."""
        qid = self.turns[-1].question_id if self.turns else None
        question = self.questions.get(qid) if qid else None
        if question is None or not question.answerable or missing_facts(agent_text, question.facts):
            return self._record(NOT_ANSWERED, "check", heard, question_id=qid)
        following = self._next_plan(heard)
        if following is None:
            return self._record(ANSWERED, "check", heard)
        self.turns[-1].text = f"{ANSWERED} {following}"
        return self.turns[-1].text

    def _next_plan(self, heard: AgentAsk) -> str | None:
        if not self.plans:
            return None
        plan = self.plans.pop(0)
        if plan.purpose == "goodbye":
            self._said_goodbye = 1
        return self._record(plan.text, plan.purpose, heard, question_id=plan.question_id)

    def _question_in(self, text: str) -> str | None:
        """A planned question said in the opening is asked there (and not again later)."""
        lowered = _bare(text)
        for plan in self.plans:
            if plan.question_id and _bare(self.questions[plan.question_id].ask) in lowered:
                self.plans.remove(plan)
                return plan.question_id
        return None

    def _record(self, text: str, purpose: str, heard: AgentAsk, *, question_id: str | None = None) -> str:
        self.turns.append(CallerTurn(text, purpose, heard, question_id))
        return text


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[0].upper() + text[1:] if text else text
    return text if text[-1:] in ".?!" else f"{text}?"


def _bare(text: str) -> str:
    return " ".join("".join(ch for ch in text.lower() if ch.isalnum() or ch.isspace()).split())
