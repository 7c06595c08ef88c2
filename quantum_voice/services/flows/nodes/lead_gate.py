"""Lead Gate: the caller's email (optionally name and phone) and their consent, the way people really answer.

Fields may come in any order and several at once ("I'm Ana, ana@example.com"); a spoken email is read back
and, when consent is all that is left, the consent wording goes with it, so "yes, that's right, and I agree"
settles both and "that's my email, but I don't agree" confirms one and refuses the other. A question in the
middle is answered and the gate asks again for what is still missing. Each field is re-asked at most
``max_attempts`` times. Refused consent forgets every personal detail and takes the ``declined`` edge.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from quantum_voice.services.flows.courtesy import EXPLANATIONS, REPHRASE
from quantum_voice.services.flows.answers import confident, look_up, say_answer, say_not_found
from quantum_voice.services.flows.privacy import forget_personal_data
from quantum_voice.services.flows.schema import LeadGateConfig, NodeType
from quantum_voice.services.flows.state import GateProgress
from quantum_voice.services.leads.emails import mentions_email, readback

if TYPE_CHECKING:
    from quantum_voice.services.flows.hearing import Heard
    from quantum_voice.services.flows.schema import LeadGateNode
    from quantum_voice.services.flows.turn import Turn

DEFAULT_CONSENT_WORDING = ("I agree that this business may record this call and store my contact details to "
                           "follow up on my enquiry.")
PRIVACY_QUESTION = re.compile(r"\b(?:why|what for|what do you need|what will you do|who (?:will|can) see|"
                              r"how will you use|what happens)\b.*\b(?:email|name|number|phone|details|data|"
                              r"information|info|record)", re.I)
CONSENT_QUESTION = re.compile(r"\bwhat (?:does|do) (?:that|this|it|you) mean\b|\bwhat am i agreeing\b", re.I)
PRIVACY_ANSWER = ("We only use your details to follow up on your enquiry, and you can ask us to delete them at "
                  "any time.")
CONSENT_LEAD_IN = "Before I keep your details, please confirm:"
NOT_HEARD = "Sorry, I didn't catch that."
BAD_EMAIL = "That doesn't sound like a complete email address. You can spell it, like j o h n at example dot com."
WRONG_EMAIL = "Sorry about that, let's try again."
SKIPPED = "No problem."
REFUSED_EMAIL = "No problem, we can carry on without it."
EMAIL_GIVEN_UP = "Sorry, I'm having trouble getting your email address right, so let's carry on without it."
TYPED_EMAIL_KEPT = "Thanks, I already have the email address you typed on the call page."
MAX_READBACKS = 2  # an address is read back at most twice; one still wrong then is not kept


def enter(turn: "Turn", node: "LeadGateNode") -> None:
    # an email typed on the call page needs no read-back; one heard earlier in the call still does
    turn.state.gate = GateProgress(email_confirmed="email" in turn.state.given)
    _ask_next(turn, node)


def respond(turn: "Turn", node: "LeadGateNode", heard: "Heard") -> None:
    said, asked = heard.understanding, turn.state.gate.asking
    _check_new_email(turn, node.config, heard)
    if _consent_decision(turn, heard) == "no":
        _decline(turn, node)
        return
    if _refused(turn, heard, asked):
        if asked == "email":
            _incomplete(turn, REFUSED_EMAIL)
            return
        turn.state.gate.skipped.append(asked)
        _ask_next(turn, node, prefix=SKIPPED)
        return
    if said.clarify and not said.question:  # "yes, but what do you mean by that?"
        _explain(turn, node, heard)
        return
    read_back = _read_back_answer(turn, heard)
    if read_back == "rejected":
        turn.state.variables.pop("email", None)
        turn.state.sources.pop("email", None)
        if turn.state.gate.readbacks >= MAX_READBACKS:
            _incomplete(turn, EMAIL_GIVEN_UP)
        elif not _count_attempt(turn, node, "email"):
            _ask_next(turn, node, prefix=WRONG_EMAIL)
        return
    progress = bool(turn.captured) or read_back == "confirmed"
    if not progress and _typed_email_repeated(turn, heard):
        turn.say(TYPED_EMAIL_KEPT)  # the one typed on the call page stays; no re-ask is counted
        progress = True
    if _consent_decision(turn, heard) == "yes":
        _grant(turn, node)
        progress = True
    if said.question:
        _answer_question(turn, node, heard)
    elif not progress and asked and _count_attempt(turn, node, asked):
        return  # gave up on the field and left the node
    _ask_next(turn, node, prefix="" if progress or said.question else _not_understood(asked, heard))


def _explain(turn: "Turn", node: "LeadGateNode", heard: "Heard") -> None:
    """The caller asked what the agent means. A read-back they confirmed in the same breath counts; consent never
    does: it is explained, then asked for on its own."""
    gate = turn.state.gate
    if gate.asking == "confirm_email" and heard.understanding.answer == "yes" and "email" not in turn.captured:
        gate.email_confirmed = True
        turn.state.sources["email"] = "confirmed"
    consent_pending = turn.state.consent is None and gate.consent_wording is not None
    about = "consent" if consent_pending and gate.asking in ("confirm_email", "consent") else gate.asking
    turn.say(EXPLANATIONS.get(about or "", REPHRASE))
    _ask_next(turn, node)


def _typed_email_repeated(turn: "Turn", heard: "Heard") -> bool:
    """The caller said an email although the one typed on the call page is kept (typed beats heard)."""
    return "email" in heard.fields and "email" not in turn.captured and turn.state.sources.get("email") == "typed"


def _refused(turn: "Turn", heard: "Heard", asked: str | None) -> bool:
    """"I'd rather not say" to the name, phone or email question (one polite refusal is enough)."""
    said = heard.understanding
    if asked not in ("name", "phone", "email") or turn.captured or said.question:
        return False
    return said.refusal or (said.answer == "no" and said.intent == "no")


def _read_back_answer(turn: "Turn", heard: "Heard") -> str | None:
    """``confirmed`` / ``rejected`` when the caller answered the read-back of their email (and gave no new one)."""
    said = heard.understanding
    if turn.state.gate.asking != "confirm_email" or "email" in turn.captured:
        return None
    if said.answer == "no":
        return "rejected"
    if "yes" in (said.answer, said.consent):
        turn.state.gate.email_confirmed = True
        turn.state.sources["email"] = "confirmed"
        return "confirmed"
    return None


def _not_understood(asked: str | None, heard: "Heard") -> str:
    return BAD_EMAIL if asked == "email" and mentions_email(heard.text) else NOT_HEARD


# ---------------------------------------------------------------- the fields still missing

def _pending(turn: "Turn", cfg: LeadGateConfig) -> str | None:
    variables, gate = turn.state.variables, turn.state.gate
    if "email" in turn.captured and variables.get("email") and not gate.email_confirmed:
        return "confirm_email"  # the caller just gave it (perhaps unasked): settle it now, following their lead
    if cfg.ask_name and not variables.get("name") and "name" not in gate.skipped:
        return "name"
    if not variables.get("email"):
        return "email"
    if not gate.email_confirmed:
        return "confirm_email"
    if cfg.ask_phone and not variables.get("phone") and "phone" not in gate.skipped:
        return "phone"
    return "consent" if turn.state.consent is None else None


def _ask_next(turn: "Turn", node: "LeadGateNode", prefix: str = "") -> None:
    cfg, gate = node.config, turn.state.gate
    slot = _pending(turn, cfg)
    gate.asking = slot
    if slot is None:
        _complete(turn, node)
        return
    if slot == "confirm_email":
        gate.readbacks += 1
        if gate.readbacks > MAX_READBACKS:
            turn.state.variables.pop("email", None)
            _incomplete(turn, EMAIL_GIVEN_UP)
            return
        text = f"I have {readback(turn.state.variables['email'])}. Is that right?"
        name_missing = cfg.ask_name and not turn.state.variables.get("name") and "name" not in gate.skipped
        phone_missing = cfg.ask_phone and not turn.state.variables.get("phone") and "phone" not in gate.skipped
        if turn.state.consent is None and not name_missing and not phone_missing:
            text += " " + _present_consent(turn, cfg)  # consent is all that is left: confirm both in one answer
    elif slot == "consent":
        text = _present_consent(turn, cfg)
    else:
        text = {"name": cfg.name_prompt, "email": cfg.email_prompt, "phone": cfg.phone_prompt}[slot]
    turn.ask(f"{prefix} {text}".strip(), personal=slot == "confirm_email")


def _present_consent(turn: "Turn", cfg: LeadGateConfig) -> str:
    wording = cfg.consent_wording.strip() or turn.ctx.consent_wording.strip() or DEFAULT_CONSENT_WORDING
    turn.state.gate.consent_wording = wording
    turn.state.gate.policy_version = cfg.policy_version.strip() or turn.ctx.policy_version
    return f"{CONSENT_LEAD_IN} {wording} {cfg.consent_question}".strip()


def _check_new_email(turn: "Turn", cfg: LeadGateConfig, heard: "Heard") -> None:
    if "email" not in turn.captured:
        return
    if "email" in turn.state.given:  # the caller said another email than the one typed: that one is heard now
        turn.state.given.remove("email")
    spoken = heard.email.spoken if heard.email else True
    turn.state.gate.email_confirmed = cfg.confirm_email == "never" or (cfg.confirm_email == "when_spoken"
                                                                      and not spoken)


def _count_attempt(turn: "Turn", node: "LeadGateNode", slot: str) -> bool:
    """One more failed try at ``slot``; past the maximum, give up on it. Returns whether the node was left."""
    gate = turn.state.gate
    field = "email" if slot == "confirm_email" else slot
    gate.attempts[field] = gate.attempts.get(field, 0) + 1
    if gate.attempts[field] < node.config.max_attempts:
        return False
    if field in ("name", "phone"):
        gate.skipped.append(field)
        return False
    if field == "consent":
        _decline(turn, node)
    else:
        _incomplete(turn)
    return True


# ---------------------------------------------------------------- consent

def _consent_decision(turn: "Turn", heard: "Heard") -> str | None:
    """``yes`` / ``no`` once the caller has heard the wording; an earlier "I agree" does not count."""
    gate, said = turn.state.gate, heard.understanding
    if gate.consent_wording is None or turn.state.consent is not None:
        return None
    if said.consent:
        return said.consent
    if gate.asking == "consent":
        return said.answer
    if gate.asking == "confirm_email" and said.answer == "yes" and "email" not in turn.captured:
        return "yes"
    return None


def _grant(turn: "Turn", node: "LeadGateNode") -> None:
    gate = turn.state.gate
    turn.state.consent = True
    turn.act("consent", granted=True, wording=gate.consent_wording, policy_version=gate.policy_version,
             email=turn.state.variables.get("email"), node_id=node.id)


def _decline(turn: "Turn", node: "LeadGateNode") -> None:
    gate = turn.state.gate
    turn.state.consent = False
    turn.act("consent", granted=False, wording=gate.consent_wording or "",
             policy_version=gate.policy_version, email=None, node_id=node.id)
    forget_personal_data(turn.state, turn.flow)
    gate.asking = None
    turn.say(node.config.declined_text)
    turn.leave("declined")


def _incomplete(turn: "Turn", text: str = "No worries, let's carry on without it.") -> None:
    forget_personal_data(turn.state, turn.flow)
    turn.state.gate.asking = None
    turn.say(text)
    turn.leave("incomplete")


def _complete(turn: "Turn", node: "LeadGateNode") -> None:
    name = (turn.state.variables.get("name") or "").split(" ")[0]
    text = node.config.completed_text
    text = text.replace("{name}", name) if name else re.sub(r",?\s*\{name\}", "", text)
    turn.say(text)
    turn.leave("consented")


# ---------------------------------------------------------------- a question in the middle

def _answer_question(turn: "Turn", node: "LeadGateNode", heard: "Heard") -> None:
    asked_about_consent = turn.state.gate.asking == "consent" and CONSENT_QUESTION.search(heard.text)
    if PRIVACY_QUESTION.search(heard.text) or asked_about_consent:
        turn.say(PRIVACY_ANSWER)
        return
    question = heard.understanding.question_text
    rag_nodes = turn.flow.nodes_of(NodeType.RAG_ANSWER)
    threshold = rag_nodes[0].config.confidence_threshold if rag_nodes else 0.5
    max_words = rag_nodes[0].config.max_answer_words if rag_nodes else 45
    knowledge_base_id = turn.flow.default_knowledge_base_id()
    result = look_up(turn, knowledge_base_id, question, threshold)
    if confident(result, threshold):
        say_answer(turn, result, question, knowledge_base_id, max_words)
    elif not _answered_itself(turn):
        # honest at once: the same knowledge base would not know any better later in the call
        say_not_found(turn, rag_nodes[0].config if rag_nodes else None, question)


def _answered_itself(turn: "Turn") -> bool:
    """"Could we do tomorrow morning?" carries its own answer (a day and time): nothing is left to look up."""
    return any(not turn.flow.variable(key).is_personal for key in turn.captured if turn.flow.variable(key))
