"""What a caller's turn means, by rules: yes/no (with negations), consent, hand-off, goodbye, question, noise,
"say that again", and attempts to change or reveal the agent's instructions. When the rules find nothing (or only
"unsure", or a question that may be a hand-off request), an optional second stage (``semantic``) compares the turn
with example phrases using the local embedding model; the rules' decisions are never overridden.

One turn can mean several things ("yes, that's right, and I agree"; "that's my email, but I don't agree"),
so the text is split into clauses and each clause is read on its own: a clause about agreeing sets ``consent``,
any other yes/no clause sets ``answer``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quantum_voice.services.flows.semantic import IntentMatcher

# sounds that carry no words (the recogniser drops a turn of nothing else, agent/providers/whisper_stt.py)
HESITATIONS = frozenset({"um", "umm", "uhm", "uh", "uhh", "er", "erm", "hmm", "hm", "mm", "mmm", "ah", "ahh", "eh",
                         "oh", "hmmm", "ehm", "ummm", "uhhh"})
# ...and the words that fill a pause too, but can mean something alone ("Huh?", "Well.")
FILLERS = HESITATIONS | {"huh", "like", "so", "well"}
_BRACKETED = re.compile(r"[\[(<][^\])>]*[\])>]")  # [noise], (inaudible), <unk>, [BLANK_AUDIO]
_NEGATION = re.compile(r"\b(?:not|no|never|don't|dont|do not|doesn't|does not|isn't|is not|wasn't|won't|"
                       r"wouldn't|can't|cannot|didn't|ain't|aren't|nor)\b")
_SENTENCES = re.compile(r"(?<=[.!?])\s+")
_CLAUSE_SPLIT = re.compile(r"[,;!?]+|[.](?=\s|$)|\s+-\s+|\s+\b(?:but|and|though|although|however|also)\b\s+")
_UNSURE = re.compile(r"\b(?:not sure|unsure|don't know|dont know|do not know|dunno|no idea|maybe|perhaps|"
                     r"not certain|can't remember|hard to say|depends)\b")
_AFFIRM_IDIOMS = re.compile(r"\b(?:no problem|no worries|not a problem|why not|of course|no doubt|(?:i )?(?:don't|do not) "
                            r"mind|no objections?|(?:i )?(?:suppose|guess) (?:so|that's (?:fine|ok|okay|alright))|"
                            r"fine by me|ok(?:ay)? (?:by|with) me|(?:i'm|i am) (?:ok|okay|fine|happy) with (?:that|it)|"
                            r"don't see why not|can't see why not|not a problem)\b")
_AFFIRM = re.compile(
    r"\b(?:yes|yeah|yea|yep|yup|ya|yah|sure|correct|right|exactly|absolutely|definitely|ok|okay|alright|"
    r"all right|fine|perfect|great|sounds good|go ahead|please do|uh-huh|uh huh|mm-hmm|mhm|affirmative|indeed|"
    r"certainly|you got it|you bet|that's it|that is it|that's me|that's my email|that is my email|"
    r"that's the one|spot on|will do|i do|that works|bingo|totally|good(?! (?:morning|afternoon|evening|day|night)))\b")
_NOT_NEXT = re.compile(r"\s+not\b")
# yes-words that also modify other words ("totally shattered", "right next door", "a great view")
_INTENSIFIERS = frozenset({"totally", "absolutely", "definitely", "certainly", "exactly", "indeed"})
_ALSO_ADJECTIVES = frozenset({"right", "fine", "perfect", "great", "good", "correct"})
_ANSWERING_BEFORE = frozenset({"that's", "thats", "that", "is", "it's", "its", "sounds", "looks", "seems", "all",
                               "very", "that'd", "be", "quite", "really", "totally", "absolutely", "perfectly"})
_ANSWERING_AFTER = frozenset({"with me", "by me", "thanks", "thank you", "then", "so", "yes", "yeah", "to me"})
_SPOKEN_YES = re.compile(r"\b(?:uh-?huh|mm-?hmm|mhm)\b")
_DENY = re.compile(r"\b(?:no|nope|nah|negative|wrong|incorrect|not really|not quite|nay|rather not|"
                   r"prefer not|no thanks|no thank you)\b")
_CONSENT_WORD = re.compile(r"\b(?:agree|agreed|agrees|consent|consents|accept|accepted|permission|allow|"
                           r"record|recording|store|storing|keep my (?:details|data|info))\b")
_CONSENT_REFUSAL = re.compile(r"\b(?:disagree|refuse|decline|opt out|rather not|prefer not|won't agree|"
                              r"(?:rather|prefer) (?:you|that you) (?:didn't|did not|don't|not))\b")
_QUESTION_START = re.compile(
    r"^(?:what|what's|whats|how|how's|hows|when|where|where's|which|who|who's|whose|why)\b"
    r"|^(?:is|are|was|were|do|does|did|can|could|would|will|should|may|might|has|have|had)\s+"
    r"(?:i|you|we|they|it|there|this|that|the|a|an|he|she|my|your|our|their|its|any|these|those|pets|dogs|anyone|"
    r"anybody|someone|somebody|everyone|everything|anything|something|his|her|me|us|them)\b")
_QUESTION_PHRASE = re.compile(r"\b(?:i'd like to know|i want to know|i was wondering|wondering (?:if|whether|about)|"
                              r"tell me (?:about|more)|any idea|curious (?:about|if|whether)|can you tell me)\b")
_FILLER_PREFIX = re.compile(r"^(?:(?:um+|uh+|so|and|ok|okay|oh|hi|hey|hello|also|yes|yeah|sure|well|great|"
                            r"thanks|thank you|right|alright|actually)\b[\s,]*)+")
_HANDOFF = re.compile(
    r"\b(?:speak|talk|chat)\s+(?:to|with)\s+(?:a |an |the |some |your |one of your |real |actual |live )*"
    r"(?:someone|somebody|person|human|agent|representative|rep|manager|supervisor|operator|sales\w*|staff|"
    r"member of (?:the |your )?(?:team|staff)|people|team)\b"
    r"|\b(?:transfer|connect|put)\s+me\b"
    r"|\bget me (?:a |an |the )?(?:human|person|someone|agent|manager|representative)\b"
    r"|\b(?:can|could) (?:someone|somebody|a person|an agent) (?:call me|help me|ring me)\b"
    r"|^(?:a\s+|an\s+)?(?:human|real person|person|live agent|agent|representative|operator|someone)"
    r"(?:\s+please)?[.!]?$"
    r"|\b(?:i want|i need|i'd like|let me talk to)\s+(?:a |an |to talk to a |to speak to a )?(?:real )?"
    r"(?:human|person|representative|operator|live agent)\b")
_GOODBYE = re.compile(
    r"\b(?:bye|goodbye|good bye|bye-bye|see you|see ya|talk (?:to you )?later|have a (?:good|nice|great) "
    r"(?:day|one|night|evening|weekend)|that's all|that is all|that's everything|that is everything|"
    r"that's it for now|nothing else|i'm done|i am done|i'm all set|all set|(?:gotta|got to|have to|need to) go(?! to\b| and\b| through\b| in\b| with\b| for\b)|"
    r"hang up|end (?:the|this) call|no more questions|that'll be all|that will be all|i'm good,? thanks)\b")
_REPEAT = re.compile(
    r"\b(?:repeat (?:that|it|yourself|the question|please)|say (?:that|it) again|come again|pardon|"
    r"what did you say|i didn't (?:catch|hear|get) (?:that|it|you)|one more time|didn't hear you)\b"
    r"|^(?:what|sorry|huh|pardon|excuse me)\??$")
_GREETING = re.compile(r"^(?:oh\s+)?(?:hi|hello|hey|hiya|howdy|hi there|hello there|good (?:morning|afternoon|evening)|"
                       r"greetings|yo)\b")
_SMALL_TALK = re.compile(
    r"\bhow (?:are|r) (?:you|ya)\b|\bhow(?:'s| is) it going\b|\bhow(?:'s| is) your day\b|\bhow have you been\b"
    r"|\bnice to (?:meet|talk to) you\b|\bwhat's up\b|\bare you (?:a |an )?(?:robot|bot|ai|machine|computer|real person|"
    r"human|real)\b|\bam i (?:talking|speaking) (?:to|with) (?:a |an )?(?:robot|bot|machine|computer|ai|real person)\b"
    r"|\bwho (?:am i|is this|are you)\b|\bwhat(?:'s| is) your name\b")
_THANKS_ONLY = re.compile(r"^(?:ok(?:ay)?\s+)?(?:thanks|thank you|cheers|great,? thanks|lovely|perfect|cool|nice|"
                          r"awesome|wonderful|brilliant)(?: (?:so much|very much|a lot))?[.!]*$")
_CLARIFY = re.compile(r"\bwhat (?:do|did) you mean\b|\bwhat does (?:that|this|it) mean\b|\bi don't (?:understand|get it)\b"
                      r"|\bi do not understand\b|\bwhat are you asking\b|\bmeaning what\b|\bwhat do i (?:need|have) to say\b"
                      r"|\bwhat (?:should|do) i say\b|^what(?:'s| is) that\??$")
_REFUSAL = re.compile(
    r"\b(?:i'd |i would |i )?(?:rather|prefer to|prefer) not(?: to)?(?: (?:say|give|share|tell|provide|answer))?\b"
    r"|\b(?:i )?(?:don't|do not|won't|will not) (?:want to |wanna )?(?:give|share|say|tell|provide)\b"
    r"|\bnot (?:comfortable|giving|sharing|telling)\b|\bskip (?:that|it|this)\b|\bnone of your business\b"
    r"|\bi(?:'d| would) (?:like to )?(?:stay|remain) anonymous\b|\bno (?:name|phone|number),? (?:please|thanks)\b"
    r"|\bi don't have (?:one|a (?:phone|number|cell|mobile)|an email)\b|\bpass on that\b|\blet's skip\b"
    r"|^(?:no,?\s*)?(?:thanks|thank you),? i(?:'d| would) rather not\b")
_CORRECTION = re.compile(r"^(?:no|nope|sorry|oops|wait)\b|\b(?:actually|i mean|i meant|sorry,? (?:it's|it is|my)|"
                         r"that's wrong|that is wrong|not \w+,? (?:it's|but))\b")
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b.{0,40}\b(?:instructions?|rules|prompts?|guidelines|"
    r"everything|previous|above|programming|system|restrictions|constraints)\b"
    r"|\bsystem\s+(?:prompt|message|instructions?)\b"
    r"|\b(?:reveal|show|tell|print|give|share|read|output|list|dump|display|repeat|recite|what(?:'s| is| are| were))"
    r"\b.{0,30}\b(?:your|the|its)\s+(?:system |hidden |secret |initial |original |internal )?(?:prompt|"
    r"instructions|configuration|config|settings|rules|guidelines|api keys?|secrets?|passwords?|tokens?|"
    r"credentials|system message|source code)\b"
    r"|\b(?:you are now|from now on,? you|act as|pretend (?:to be|you are|you're)|roleplay as|role-play as|"
    r"developer mode|jailbreak|dan mode|do anything now|sudo)\b"
    r"|\b(?:new|updated|different) instructions\b|\btext above\b|\bwhat (?:were|have) you been told\b"
    r"|\b(?:api[ _-]?key|secret key|access token|admin password|database password)\b"
    r"|\b(?:set|change|make|mark|give)\b.{0,20}\b(?:my |the )?(?:lead )?(?:score|band|status)\b"
    r"|\b(?:mark|flag|classify) (?:me|this lead) as\b")


@dataclass(frozen=True)
class Understanding:
    """The meaning of one caller turn. ``answer``/``consent`` are "yes", "no" or ``None``."""

    text: str
    noise: bool = False
    injection: bool = False
    handoff: bool = False
    goodbye: bool = False
    repeat: bool = False
    question: bool = False
    unsure: bool = False
    answer: str | None = None
    consent: str | None = None
    greeting: bool = False  # opens with "hi" / "good morning"
    small_talk: bool = False  # "how are you?", "are you a robot?", a bare "thanks"
    clarify: bool = False  # "what do you mean?": the caller did not understand the agent's question
    refusal: bool = False  # declines to give what was asked ("I'd rather not say")
    correction: bool = False  # "no, it's ...", "actually ...": a value given now replaces one given before
    questions: list[str] = field(default_factory=list)  # the question clauses, for the knowledge base
    matched: str | None = None  # the example phrase the embedding stage matched, when it decided the intent

    @property
    def intent(self) -> str:
        """The one label that matters most, for logs and tests."""
        for name in ("noise", "injection", "handoff", "goodbye", "repeat", "clarify"):
            if getattr(self, name):
                return name
        if self.consent:
            return f"consent_{self.consent}"
        if self.refusal:
            return "refusal"
        if self.answer and not self.question:
            return self.answer
        if self.question:
            return "question"
        for name in ("small_talk", "greeting"):
            if getattr(self, name):
                return name
        return "unsure" if self.unsure else "statement"

    @property
    def question_text(self) -> str:
        """What the knowledge search is asked: each sentence of the turn that holds a question, whole, with the
        context the caller gave in it ("our hot tub has a leak, can you take a look?"); else the question clauses
        themselves (a model's standalone rewording, say), each ending with its question mark."""
        sentences = [s.strip() for s in _SENTENCES.split(self.text.strip()) if s.strip()]
        asking = [i for i, s in enumerate(sentences) if any(q in normalise(s) for q in self.questions)]
        # "I dropped my phone in the bath last night... can you do anything with that?": what "that" is, comes first
        held = [sentences[i - 1] + (" " if sentences[i - 1][-1:] in ".!?…" else ". ") + sentences[i]
                if i > 0 and i - 1 not in asking and _POINTS_BACK.search(normalise(sentences[i])) else sentences[i]
                for i in asking]
        if held:
            return " ".join(s if s.endswith("?") else f"{s}?" for s in held)
        return " ".join(q if q.endswith("?") else f"{q}?" for q in self.questions) or self.text


_POINTS_BACK = re.compile(r"\b(?:it|that|this|those|these|them|one|ones|there)\b")


def normalise(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return " ".join(text.lower().split())


def is_noise(text: str) -> bool:
    if _SPOKEN_YES.search(normalise(text)):
        return False
    words = re.findall(r"[a-z0-9'@]+", _BRACKETED.sub(" ", normalise(text)))
    return all(word in FILLERS for word in words)


def split_clauses(text: str) -> list[str]:
    return [c.strip() for c in _CLAUSE_SPLIT.split(normalise(text)) if c and c.strip()]


# What the embedding stage may add, by what the rules made of the turn. A question may only turn out to be a
# hand-off request ("is there a real person I could chat with?"); "unsure" may be a hand-off or a goodbye.
SECOND_STAGE: dict[str, tuple[str, ...]] = {
    "statement": ("handoff", "goodbye", "yes", "no", "question"),
    "unsure": ("handoff", "goodbye"),
    "question": ("handoff",),
}


def understand(text: str, semantic: IntentMatcher | None = None) -> Understanding:
    """Read one caller turn: the rules, then (when they found nothing) ``semantic``, if given."""
    said = _understand_by_rules(text)
    allowed = SECOND_STAGE.get(said.intent)
    if semantic is None or not allowed:
        return said
    match = semantic.match(text, allowed)
    if match is None or match.intent not in allowed:
        return said
    if match.intent in ("yes", "no"):
        return replace(said, answer=match.intent, matched=match.example)
    if match.intent == "question":
        return replace(said, question=True, questions=[normalise(text)], matched=match.example)
    return replace(said, **{match.intent: True}, matched=match.example)


def _understand_by_rules(text: str) -> Understanding:
    lowered = normalise(text)
    if is_noise(text):
        return Understanding(text=text, noise=True)
    if _INJECTION.search(lowered):
        return Understanding(text=text, injection=True)
    clauses = split_clauses(text)
    questions = [c for c in clauses if _is_question(c)] or _asked_sentences(text)
    small_talk = bool(_SMALL_TALK.search(lowered) or _THANKS_ONLY.match(lowered))
    clarify = bool(_CLARIFY.search(lowered))
    content = [c for c in questions if not (_SMALL_TALK.search(c) or _CLARIFY.search(c))]
    return Understanding(
        text=text,
        greeting=bool(_GREETING.match(lowered)),
        small_talk=small_talk,
        clarify=clarify,
        refusal=bool(_REFUSAL.search(lowered)),
        correction=bool(_CORRECTION.search(lowered)),
        handoff=any(_HANDOFF.search(c) and not _negated_before(c, _HANDOFF) for c in clauses),
        goodbye=bool(_GOODBYE.search(lowered)),
        repeat=bool(_REPEAT.search(lowered)),
        question=bool(content or (_QUESTION_PHRASE.search(lowered) and not clarify)),
        unsure=bool(_UNSURE.search(lowered)),
        answer=_first_answer(clauses),
        consent=_consent(clauses),
        questions=content or ([lowered] if _QUESTION_PHRASE.search(lowered) and not clarify else []),
    )


def _asked_sentences(text: str) -> list[str]:
    """Sentences that end with a question mark, when no clause starts like a question ("Roughly what would a new
    boiler set me back?"): the recogniser and the keyboard both mark questions."""
    return [normalise(s) for s in re.findall(r"[^.?!]*\?", text) if s.strip(" ?")]


def _is_question(clause: str) -> bool:
    stripped = _FILLER_PREFIX.sub("", clause).strip()
    return bool(stripped and _QUESTION_START.search(stripped) and not _AFFIRM_IDIOMS.match(stripped))


def _negated_before(clause: str, pattern: re.Pattern[str]) -> bool:
    match = pattern.search(clause)
    return bool(match and _NEGATION.search(clause[: match.start()]))


def _consent(clauses: list[str]) -> str | None:
    for clause in clauses:
        if _is_question(clause) or "?" in clause:
            continue
        if _CONSENT_REFUSAL.search(clause):
            return "no"
        if _CONSENT_WORD.search(clause):
            return "no" if _negated_before(clause, _CONSENT_WORD) else "yes"
    return None


def _affirmation(clause: str) -> re.Match[str] | None:
    """The first word of the clause that says yes. Words that are also adverbs and adjectives count only where
    they answer: "totally" in "the screen's totally shattered" or "right" in "we're right next door" do not;
    "totally", "that's right", "right, thanks", "sounds great", "absolutely fine" do."""
    for match in _AFFIRM.finditer(clause):
        word = match.group(0)
        before, after = clause[: match.start()].split(), clause[match.end():].split()
        if word in _INTENSIFIERS:
            if (not after or after[0] == "not" or after == ["it"] or _AFFIRM.match(" ".join(after))
                    or _AFFIRM_IDIOMS.match(" ".join(after))):  # "absolutely not" is a no
                return match
        elif word in _ALSO_ADJECTIVES:
            if not before or not after or before[-1] in _ANSWERING_BEFORE or " ".join(after[:2]) in _ANSWERING_AFTER:
                return match
        else:
            return match
    return None


def _first_answer(clauses: list[str]) -> str | None:
    for clause in clauses:
        if _CONSENT_WORD.search(clause) or _is_question(clause) or _UNSURE.search(clause):
            continue
        answer = _clause_answer(clause)
        if answer:
            return answer
    return None


def _clause_answer(clause: str) -> str | None:
    if _AFFIRM_IDIOMS.search(clause):
        return "yes"
    affirm, deny = _affirmation(clause), _DENY.search(clause)
    if affirm and (not deny or affirm.start() < deny.start()):
        # "I don't agree ... right", and "absolutely not" / "definitely not": negated before or right after.
        negated = _NEGATION.search(clause[: affirm.start()]) or _NOT_NEXT.match(clause, affirm.end())
        return "no" if negated else "yes"
    if deny:
        return "no"
    return None
