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
    from quantum_voice.services.flows.step import Step

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
TOLD_US = "Got it, thanks."
STATEMENT_WORDS = 6  # fewer is more likely a name or a fragment the recogniser misheard
BAD_EMAIL = "That doesn't sound like a complete email address. You can spell it, like j o h n at example dot com."
WRONG_EMAIL = "Sorry about that, let's try again."
SKIPPED = "No problem."
REFUSED_EMAIL = "No problem, we can carry on without it."
EMAIL_GIVEN_UP = "Sorry, I'm having trouble getting your email address right, so let's carry on without it."
TYPED_EMAIL_KEPT = "Thanks, I already have the email address you typed on the call page."
MAX_READBACKS = 2  # an address is read back at most twice; one still wrong then is not kept


def enter(step: "Step", node: "LeadGateNode") -> None:
    # an email typed on the call page needs no read-back; one heard earlier in the call still does
    step.state.gate = GateProgress(email_confirmed="email" in step.state.given)
    _ask_next(step, node)


def carry_on(step: "Step", node: "LeadGateNode") -> None:
    """Ask for what the gate still needs, its progress kept (after a hand-off no one could take broke in)."""
    _ask_next(step, node)


def respond(step: "Step", node: "LeadGateNode", heard: "Heard") -> None:
    said, asked = heard.understanding, step.state.gate.asking
    _check_new_email(step, node.config, heard)
    if _consent_decision(step, heard) == "no":
        _decline(step, node)
        return
    if _refused(step, heard, asked):
        if asked == "email":
            _incomplete(step, REFUSED_EMAIL)
            return
        step.state.gate.skipped.append(asked)
        _ask_next(step, node, prefix=SKIPPED)
        return
    if said.clarify and not said.question:  # "yes, but what do you mean by that?"
        _explain(step, node, heard)
        return
    read_back = _read_back_answer(step, heard)
    if read_back == "rejected":
        step.state.variables.pop("email", None)
        step.state.sources.pop("email", None)
        if step.state.gate.readbacks >= MAX_READBACKS:
            _incomplete(step, EMAIL_GIVEN_UP)
        elif not _count_attempt(step, node, "email"):
            _ask_next(step, node, prefix=WRONG_EMAIL)
        return
    progress = bool(step.captured) or read_back == "confirmed"
    if not progress and _typed_email_repeated(step, heard):
        step.say(TYPED_EMAIL_KEPT)  # the one typed on the call page stays; no re-ask is counted
        progress = True
    if _consent_decision(step, heard) == "yes":
        _grant(step, node)
        progress = True
    told = _told_us(step, heard)
    if said.question:
        _answer_question(step, node, heard)
    elif not progress and not told and asked and _count_attempt(step, node, asked):
        return  # gave up on the field and left the node
    if progress:
        _ask_next(step, node, acknowledge=_acknowledged(step) or (TOLD_US if told else ""))
    elif told:  # "I dropped my phone and the screen's shattered": heard, not an answer to the question
        _ask_next(step, node, prefix=TOLD_US)
    else:
        _ask_next(step, node, prefix="" if said.question else _not_understood(asked, heard))


def _acknowledged(step: "Step") -> str:
    """A name heard this turn is acknowledged with it, so the caller hears what was understood and can correct it
    ("Thanks, Priya."); a corrected one with an apology ("Sorry about that, Sam.")."""
    capture = next((a for a in step.actions if a.kind == "capture" and a.data.get("field") == "name"), None)
    first = (step.state.variables.get("name") or "").split(" ")[0]
    if capture is None or not first:
        return ""
    return f"Sorry about that, {first}." if capture.data.get("correction") else f"Thanks, {first}."


def _explain(step: "Step", node: "LeadGateNode", heard: "Heard") -> None:
    """The caller asked what the agent means. A read-back they confirmed in the same breath counts; consent never
    does: it is explained, then asked for on its own."""
    gate = step.state.gate
    if gate.asking == "confirm_email" and heard.understanding.answer == "yes" and "email" not in step.captured:
        gate.email_confirmed = True
        step.state.sources["email"] = "confirmed"
    consent_pending = step.state.consent is None and gate.consent_wording is not None
    about = "consent" if consent_pending and gate.asking in ("confirm_email", "consent") else gate.asking
    step.say(EXPLANATIONS.get(about or "", REPHRASE))
    _ask_next(step, node)


def _typed_email_repeated(step: "Step", heard: "Heard") -> bool:
    """The caller said an email although the one typed on the call page is kept (typed beats heard)."""
    return "email" in heard.fields and "email" not in step.captured and step.state.sources.get("email") == "typed"


def _refused(step: "Step", heard: "Heard", asked: str | None) -> bool:
    """"I'd rather not say" to the name, phone or email question (one polite refusal is enough)."""
    said = heard.understanding
    if asked not in ("name", "phone", "email") or step.captured or said.question:
        return False
    return said.refusal or (said.answer == "no" and said.intent == "no")


def _read_back_answer(step: "Step", heard: "Heard") -> str | None:
    """``confirmed`` / ``rejected`` when the caller answered the read-back of their email (and gave no new one)."""
    said = heard.understanding
    if step.state.gate.asking != "confirm_email" or "email" in step.captured:
        return None
    if said.answer == "no":
        return "rejected"
    if "yes" in (said.answer, said.consent):
        step.state.gate.email_confirmed = True
        step.state.sources["email"] = "confirmed"
        return "confirmed"
    return None


def _told_us(step: "Step", heard: "Heard") -> bool:
    """The caller said something of their own instead of answering (why they called, what happened; a timeline in
    it is kept): heard and acknowledged, not "Sorry, I didn't catch that", and not counted as a failed try."""
    said = heard.understanding
    personal = {"name", "email", "phone", step.state.gate.asking}
    return (said.intent in ("statement", "greeting") and not personal & set(step.captured) and not mentions_email(heard.text)
            and len(heard.text.split()) >= STATEMENT_WORDS)


def _not_understood(asked: str | None, heard: "Heard") -> str:
    return BAD_EMAIL if asked == "email" and mentions_email(heard.text) else NOT_HEARD


# ---------------------------------------------------------------- the fields still missing

def _pending(step: "Step", cfg: LeadGateConfig) -> str | None:
    variables, gate = step.state.variables, step.state.gate
    if "email" in step.captured and variables.get("email") and not gate.email_confirmed:
        return "confirm_email"  # the caller just gave it (perhaps unasked): settle it now, following their lead
    if cfg.ask_name and not variables.get("name") and "name" not in gate.skipped:
        return "name"
    if not variables.get("email"):
        return "email"
    if not gate.email_confirmed:
        return "confirm_email"
    if cfg.ask_phone and not variables.get("phone") and "phone" not in gate.skipped:
        return "phone"
    return "consent" if step.state.consent is None else None


def _ask_next(step: "Step", node: "LeadGateNode", prefix: str = "", acknowledge: str = "") -> None:
    """Ask for what is still missing (``prefix`` leads into the question); ``acknowledge`` is said before it when
    there is a question left (the completion thanks the caller by name itself). It may hold the caller's name, so
    it is personal: blanked if consent is refused."""
    cfg, gate = node.config, step.state.gate
    slot = _pending(step, cfg)
    gate.asking = slot
    if slot is None:
        _complete(step, node)
        return
    if acknowledge:
        step.say(acknowledge, personal=True)
    if slot == "confirm_email":
        gate.readbacks += 1
        if gate.readbacks > MAX_READBACKS:
            step.state.variables.pop("email", None)
            _incomplete(step, EMAIL_GIVEN_UP)
            return
        text = f"I have {readback(step.state.variables['email'])}. Is that right?"
        name_missing = cfg.ask_name and not step.state.variables.get("name") and "name" not in gate.skipped
        phone_missing = cfg.ask_phone and not step.state.variables.get("phone") and "phone" not in gate.skipped
        if step.state.consent is None and not name_missing and not phone_missing:
            text += " " + _present_consent(step, cfg)  # consent is all that is left: confirm both in one answer
    elif slot == "consent":
        text = _present_consent(step, cfg)
    else:
        text = {"name": cfg.name_prompt, "email": cfg.email_prompt, "phone": cfg.phone_prompt}[slot]
    step.ask(f"{prefix} {text}".strip(), personal=slot == "confirm_email")


def _present_consent(step: "Step", cfg: LeadGateConfig) -> str:
    wording = cfg.consent_wording.strip() or step.ctx.consent_wording.strip() or DEFAULT_CONSENT_WORDING
    step.state.gate.consent_wording = wording
    step.state.gate.policy_version = cfg.policy_version.strip() or step.ctx.policy_version
    return f"{CONSENT_LEAD_IN} {wording} {cfg.consent_question}".strip()


def _check_new_email(step: "Step", cfg: LeadGateConfig, heard: "Heard") -> None:
    if "email" not in step.captured:
        return
    if "email" in step.state.given:  # the caller said another email than the one typed: that one is heard now
        step.state.given.remove("email")
    spoken = heard.email.spoken if heard.email else True
    step.state.gate.email_confirmed = cfg.confirm_email == "never" or (cfg.confirm_email == "when_spoken"
                                                                      and not spoken)


def _count_attempt(step: "Step", node: "LeadGateNode", slot: str) -> bool:
    """One more failed try at ``slot``; past the maximum, give up on it. Returns whether the node was left."""
    gate = step.state.gate
    field = "email" if slot == "confirm_email" else slot
    gate.attempts[field] = gate.attempts.get(field, 0) + 1
    if gate.attempts[field] < node.config.max_attempts:
        return False
    if field in ("name", "phone"):
        gate.skipped.append(field)
        return False
    if field == "consent":
        _decline(step, node)
    else:
        _incomplete(step)
    return True


# ---------------------------------------------------------------- consent

def _consent_decision(step: "Step", heard: "Heard") -> str | None:
    """``yes`` / ``no`` once the caller has heard the wording; an earlier "I agree" does not count."""
    gate, said = step.state.gate, heard.understanding
    if gate.consent_wording is None or step.state.consent is not None:
        return None
    if said.consent:
        return said.consent
    if gate.asking == "consent":
        return said.answer
    if gate.asking == "confirm_email" and said.answer == "yes" and "email" not in step.captured:
        return "yes"
    return None


def _grant(step: "Step", node: "LeadGateNode") -> None:
    gate = step.state.gate
    step.state.consent = True
    step.act("consent", granted=True, wording=gate.consent_wording, policy_version=gate.policy_version,
             email=step.state.variables.get("email"), node_id=node.id)


def _decline(step: "Step", node: "LeadGateNode") -> None:
    gate = step.state.gate
    step.state.consent = False
    step.act("consent", granted=False, wording=gate.consent_wording or "",
             policy_version=gate.policy_version, email=None, node_id=node.id)
    forget_personal_data(step.state, step.flow)
    gate.asking = None
    step.say(node.config.declined_text)
    step.leave("declined")


def _incomplete(step: "Step", text: str = "No worries, let's carry on without it.") -> None:
    forget_personal_data(step.state, step.flow)
    step.state.gate.asking = None
    step.say(text)
    step.leave("incomplete")


def _complete(step: "Step", node: "LeadGateNode") -> None:
    name = (step.state.variables.get("name") or "").split(" ")[0]
    text = node.config.completed_text
    text = text.replace("{name}", name) if name else re.sub(r",?\s*\{name\}", "", text)
    step.say(text)
    step.leave("consented")


# ---------------------------------------------------------------- a question in the middle

def _answer_question(step: "Step", node: "LeadGateNode", heard: "Heard") -> None:
    asked_about_consent = step.state.gate.asking == "consent" and CONSENT_QUESTION.search(heard.text)
    if PRIVACY_QUESTION.search(heard.text) or asked_about_consent:
        step.say(PRIVACY_ANSWER)
        return
    question = heard.understanding.question_text
    rag_nodes = step.flow.nodes_of(NodeType.RAG_ANSWER)
    threshold = rag_nodes[0].config.confidence_threshold if rag_nodes else 0.5
    max_words = rag_nodes[0].config.max_answer_words if rag_nodes else 45
    knowledge_base_id = step.flow.default_knowledge_base_id()
    result = look_up(step, knowledge_base_id, question, threshold)
    if confident(result, threshold):
        say_answer(step, result, question, knowledge_base_id, max_words)
    elif not _answered_itself(step):
        # honest at once: the same knowledge base would not know any better later in the call
        say_not_found(step, rag_nodes[0].config if rag_nodes else None, question)


def _answered_itself(step: "Step") -> bool:
    """"Could we do tomorrow morning?" carries its own answer (a day and time): nothing is left to look up."""
    return any(not step.flow.variable(key).is_personal for key in step.captured if step.flow.variable(key))
