"""Bridging how callers ask and how documents say it: word stems, everyday synonyms and answer types.

A caller asks "do you fit heat pumps?" of a text that says "we install heat pumps"; "are you insured?" of "we
carry $2 million liability insurance"; "where are you?" of "52 Willow Bend Road". Three general tools close that
gap, none tuned to one business:

- ``stem``: the Snowball (Porter 2) English stemmer, so "insured"/"insurance" and "licensed"/"licensing" meet.
- ``SYNONYMS``: how people talk about a small business (fitting, fixing, costs, hours, areas, warranties...),
  mapped to the words such documents use. A question's terms are expanded with them before being matched.
- ``in_plain_words``: idioms callers use ("set me back", "wiggle room", "how long have you been around")
  replaced by the plain words documents use, before the question is searched.
- ``answer_types`` / ``types_in``: what kind of answer a question wants (a price, a duration, a time of day, a
  year, a phone number, an address, a distance, a percentage, a count) and which kinds a sentence holds, so
  "how much ..." prefers the sentence with the dollar amount.
"""

from __future__ import annotations

import re
from functools import lru_cache

from quantum_voice.services.knowledge.text import content_terms

# caller's word (or phrase) → words a document uses for it. Keys and values are plain words; both get stemmed.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "fit": ("install", "installation"), "put": ("install",), "set": ("install",), "hook": ("install", "connect"),
    "fix": ("repair", "service"), "mend": ("repair",), "sort": ("repair", "fix"), "broken": ("repair",),
    "cost": ("price", "fee", "charge", "rate"), "price": ("cost", "fee", "charge", "rate"),
    "charge": ("fee", "price", "cost"), "fee": ("charge", "price", "cost"), "damage": ("price", "cost"),
    "expensive": ("price", "cost", "surcharge"), "pricier": ("surcharge", "price"), "cheap": ("price", "discount"),
    "cheaper": ("discount", "save", "off-peak", "concession", "price"), "bulk": ("block", "pack", "package", "bundle"),
    "pay": ("payment", "accept", "price"), "payment": ("pay", "accept"),
    "free": ("charge", "complimentary", "included", "cost"), "extra": ("charge", "surcharge", "additional"),
    "insured": ("insurance", "liability"), "insurance": ("insured", "liability"),
    "licensed": ("license", "licence", "registered", "certified"), "license": ("licence", "registered"),
    "certified": ("registered", "accredited", "licensed", "qualified"), "qualified": ("registered", "certified"),
    "town": ("serve", "area", "cover"), "towns": ("serve", "area", "cover"), "area": ("serve", "cover", "within"),
    "neighbourhood": ("serve", "area", "cover"), "neighborhood": ("serve", "area", "cover"),
    "far": ("miles", "within", "distance"), "travel": ("miles", "within", "serve"),
    "open": ("hours", "open"), "close": ("hours", "closed"), "hours": ("open",), "weekend": ("saturday", "sunday"),
    "located": ("address", "road", "street"), "where": ("address", "find", "located"), "address": ("located",),
    "directions": ("address",), "number": ("phone", "call"), "phone": ("call", "number"), "ring": ("call", "phone"),
    "call": ("phone",), "email": ("mail",), "website": ("online", "site"),
    "guarantee": ("warranty", "guaranteed"), "warranty": ("guarantee", "covered"), "covered": ("warranty", "cover"),
    "cancel": ("cancellation", "refund", "notice"), "refund": ("cancel", "return", "money"), "return": ("refund",),
    "deal": ("discount", "pack", "package", "pass", "save"), "discount": ("save", "offer", "pack", "pass"),
    "bundle": ("pack", "package", "pass"), "package": ("pack", "pass"),
    "book": ("appointment", "booking", "schedule", "reserve"), "appointment": ("book", "visit", "session"),
    "schedule": ("book", "appointment"), "visit": ("appointment", "session"),
    "loan": ("financing", "finance", "credit"), "finance": ("financing", "loan", "credit"),
    "monthly": ("financing", "loan", "instalment", "installment"),
    "staff": ("team", "employee"), "team": ("staff",), "owner": ("owned", "founded", "run"),
    "kid": ("child", "children"), "kids": ("child", "children"), "children": ("child", "kid"),
    "pup": ("puppy", "dog"), "puppy": ("dog",), "pet": ("dog", "cat", "animal"), "pets": ("dog", "cat", "animal"),
    "apartment": ("home", "residence", "unit", "condo", "flat"),
    "car": ("vehicle",), "vehicle": ("car",), "truck": ("vehicle",),
    "check": ("inspection", "inspect"), "inspect": ("inspection", "check"), "wash": ("bath", "clean", "shower", "changing"),
    "quote": ("estimate", "quotation"), "estimate": ("quote",), "wait": ("within", "usually"),
    "parking": ("park",), "disabled": ("accessible", "wheelchair"), "wheelchair": ("accessible",),
    "started": ("since", "founded", "began"),
    "founded": ("opened", "established", "started", "since"), "own": ("owner", "run", "partner"), "around": ("since", "founded"),
    # water and weather ("dropped it in the bath" / "liquid damage"; "pouring with rain" / "wet weather")
    "bath": ("water", "liquid", "wet"), "water": ("liquid", "wet"), "wet": ("water", "liquid"),
    "spill": ("liquid", "water"), "spilled": ("liquid", "water"), "spilt": ("liquid", "water"),
    "rain": ("weather", "wet", "indoors"), "raining": ("weather", "wet", "indoors"), "pouring": ("rain", "weather"),
    "weather": ("rain", "indoors", "wet"), "storm": ("weather", "emergency"),
    # paying later, hurrying, collecting
    "bill": ("invoice", "invoicing", "account"), "invoice": ("bill", "account"), "afterwards": ("invoice", "later"),
    "speed": ("express", "faster", "priority", "rush"), "faster": ("express", "priority", "rush"),
    "quicker": ("express", "faster", "priority"), "rush": ("express", "priority", "urgent"),
    "urgent": ("express", "priority", "emergency"), "hurry": ("express", "rush", "urgent"),
    "grab": ("collect", "collection", "pickup"), "collect": ("collection", "pickup", "courier"),
    "pickup": ("collect", "collection", "courier"),
    # staying over, trying things out, getting in, online
    "stay": ("accommodation", "hotel", "inn", "rooms", "lodging"), "hotel": ("accommodation", "inn", "rooms"),
    "accommodation": ("hotel", "inn", "rooms", "lodging"), "sleep": ("accommodation", "overnight"),
    "sample": ("tasting", "taste", "trial"), "try": ("trial", "tasting"), "taste": ("tasting", "sample"),
    "locked": ("lock", "passcode", "password"), "code": ("passcode", "password", "pin"),
    "password": ("passcode", "pin"), "online": ("virtual", "video", "remote"), "video": ("virtual", "online"),
    "dent": ("bodywork", "body", "collision"),
    # everyday words for what documents name formally (pets and patients, procedures, eyes, speed, notice)
    "chip": ("microchip", "microchipping"), "operation": ("surgery", "procedure"), "op": ("surgery", "procedure"),
    "surgery": ("operation", "procedure"), "jab": ("vaccine", "vaccination"), "jabs": ("vaccine", "vaccination"),
"eyesight": ("glasses", "vision", "read", "eyes"),
    "fast": ("intensive", "express", "quick"), "quickly": ("intensive", "express", "fast"),
    "notice": ("cancel", "hours"), "lizard": ("reptile", "exotic"), "snake": ("reptile", "exotic"),
    "tortoise": ("reptile", "exotic"), "turtle": ("reptile", "exotic"), "gecko": ("reptile", "exotic"),
    "hamster": ("small", "exotic", "rodent"), "rabbit": ("small", "exotic"), "parrot": ("bird", "exotic"),
    "budgie": ("bird", "exotic"), "based": ("address", "located", "find"),
    "holiday": ("closed", "bank"), "tap": ("faucet",), "taps": ("faucet", "faucets"), "faucet": ("tap",),
    "photos": ("data", "files", "pictures"), "pictures": ("data", "photos", "files"), "files": ("data",), "christmas": ("holiday", "closed"), "easter": ("holiday", "closed"), "scratch": ("bodywork", "paint", "body"),
}

# How callers say things that documents say plainly: idioms and set phrases, replaced by plain words before a
# question is searched and compared ("what would that set me back?" → "what would that cost?"). Each is a common
# English phrasing about a small business's services, prices, people and policies, not one document's wording.
_IDIOMS: list[tuple[re.Pattern[str], str]] = [(re.compile(pattern, re.I), plain) for pattern, plain in [
    (r"\bset (?:me|us|you|them) back\b", "cost"),
    (r"\bwhat(?:'s| is| would be) the damage\b", "what is the price"),
    (r"\bball ?park(?: figure)?\b", "roughly"),
    (r"\bhow much (?:are we|am i|would i be) looking at\b", "how much does it cost"),
    (r"\b(?:wiggle room|haggl(?:e|ing)|negotiable|negotiate|come down on (?:the )?price|best price|knock (?:some|anything)"
     r" off)\b", "negotiate the price no-haggle discount"),
    (r"\b(?:spread (?:out )?(?:the )?(?:cost|payments?)(?: out)?|pay (?:it|that|this)? ?(?:off )?over time|pay (?:it |that )?"
     r"(?:off )?(?:in|by) (?:monthly )?instal?ments|monthly payments|payment plan)\b", "financing loan monthly payments"),
    (r"\b(?:send|refer) (?:my |a |an |our )?(?:neighbou?rs?|friends?|family|mates?|colleagues?)(?: your way| to you| over)?\b",
     "referral"),
    (r"\bhow long (?:have|has) (?:you|you guys|you folks|y'all|they|it|the \w+) been (?:around|in business|doing this|going|open|operating|"
     r"at it|trading)\b", "when was the business founded since what year"),
    (r"\bhow (?:old|established) is (?:the|your) (?:business|company|firm|shop|clinic)\b",
     "when was the business founded since what year"),
    (r"\bwho(?:'s| is) (?:in charge|the boss|running (?:the place|things|it))\b|\bwho (?:runs|owns|heads) (?:the|your|it)\b",
     "who is the owner director or manager"),
    (r"\b(?:are|is) (?:you|your (?:business|company|team|staff)) (?:covered|insured)\b", "do you carry liability insurance"),
    (r"\b(?:squeeze|fit) (?:me|us|him|her|them) in\b", "available appointment"),
    (r"\b(?:in|at) the (?:middle of the night|small hours)\b", "after hours emergency at night"),
    (r"\bon the hook\b", "responsible guarantee"),
    (r"\b(?:back out|pull out|change my mind|cold feet)\b", "cancel"),
    (r"\bget (?:someone|somebody|a (?:tech|technician|plumber|electrician|mechanic|person)) (?:out|over|round|around)\b",
     "call-out visit fee"),
    (r"\b(?:heads[- ]up|keep (?:me|us) posted|keep (?:me|us) in the loop)\b", "updates"),
    (r"\bhow (?:far (?:out|ahead|in advance)|early|soon) (?:can|should|do) (?:i|we|you) book\b",
     "how far ahead in advance can we book"),
    (r"\b(?:over the (?:computer|internet)|by video|video call|on zoom|virtually)\b", "online virtual video"),
    (r"\b(?:swing|come|stop|pop) (?:by|round|over) (?:and|to) (?:grab|get|pick up|collect)\b", "collect pick up"),
    (r"\b(?:locked out|forgot(?:ten)? (?:the|my) (?:code|password|pin|passcode))\b", "locked out forgotten passcode"),
    # buying several at once: "a load of lessons", "a bunch of visits at once" → a block, pack or package
    (r"\b(?:a (?:load|bunch|stack|heap|batch|handful|few|lot) of|lots of|loads of|several|multiple)\s+(?=(?:lessons|sessions|"
     r"visits|classes|hours|passes|tickets|treatments|appointments|days|nights)\b)", "a pack block bundle of "),
    (r"\bin bulk\b", "as a block pack bundle"),
    (r"\b(?:pack (?:it|that|this) in|call it a day|give (?:it|that) up|stop (?:my|the|our) (?:membership|subscription|"
     r"plan|contract))\b", "cancel"),
    (r"\b(?:get|have) (?:my|our|the|your) money back\b|\bmoney back\b", "refund"),
    (r"\blast[- ]minute\b|\bat short notice\b", "short notice less than 24 hours"),
    (r"\b(?:boxing day|new year'?s(?: day| eve)?|christmas(?: day| eve)?|easter(?: monday| sunday)?|thanksgiving|"
     r"bank holidays?|public holidays?|july (?:4th|fourth)|(?:labor|labour|memorial|independence) day)\b",
     r"\g<0> (holiday)"),
    (r"\b(?:take|have) a (?:quick )?look at (?:him|her|it|them|my|our|the)\b|\b(?:check|look) (?:him|her|it|them) over\b",
     r"\g<0> (exam, check-up)"),
    (r"\bleave (?:the|my|our|him|her|them)(?: (?:dog|cat|pet|puppy|kitten|dogs|cats|pets))? (?:with you|there|at yours)\b",
     "boarding stay look after"),
    (r"\b(?:see|fit|squeeze|get) (?:him|her|them|me|us|it|my \w+) (?:in )?today\b", "same-day appointment today"),
    (r"\b(?:all night|through the night|overnight|stay the night|stays the night|at night)\b", "overnight"),
    (r"\b(?:get|see|have) (?:a|the|my|your) (?:price|figure|number|cost)\b", r"\g<0> (quote estimate)"),
    (r"\bget (?:them|it|my \w+|the \w+) (?:off|back)\b(?= (?:it|of it|the \w+)?)", r"\g<0> (data recovery)"),
    (r"\b(?:hate|don't like|do not like|not happy with|change my mind about|regret) (?:it|the \w+|my \w+)\b",
     r"\g<0> (return exchange guarantee)"),
    (r"\b(?:drop|bring|deliver) (?:it|the \w+|my \w+)(?: out| over| round)? (?:off )?(?:at|to) (?:my|our|me|us)\b"
     r"(?: (?:house|home|place))?", r"\g<0> (delivery)"),
    (r"\bhear how (?:he|she|they|it|my \w+)(?:'s| is| are) (?:doing|getting on)\b", "updates photo news"),
    (r"\b(?:a few|a couple of|two|three|four) hours\b", r"\g<0> (half day)"),
    (r"\b(?:lost (?:most of |some of )?the use of|can't (?:use|move|bend|walk)|in a wheelchair|(?:bad|injured|broken|"
     r"missing|weak) (?:leg|arm|hand|foot|back|knee|hip)s?)\b", r"\g<0> (disability accessibility additional needs)"),
    (r"\b(?:haven't|have not|not) (?:driven|done (?:it|this)|played|been|skied|ridden|swum) (?:in|for) (?:years|ages|a (?:long )?"
     r"while)\b|\b(?:over here|in this country)\b", r"\g<0> (refresher abroad)"),
    (r"\b(?:bearded dragon|iguana|chameleon|gecko|corn snake|python|tortoise|terrapin)s?\b", r"\g<0> (reptile exotic)"),
    (r"\b(?:ate|eaten|swallowed|chewed|got into)\b[^.?!]{0,40}\b(?:chocolate|grapes|raisins|poison|rat bait|"
     r"antifreeze|pills|tablets|medication|xylitol|onions?)\b", r"\g<0> (emergency)"),
    (r"\bget (?:him|her|them|it|my \w+|the \w+) (?:there|in|to you)\b", "drop off arrive"),
    (r"\bcome and (?:get|collect|fetch|pick up) (?:me|us|him|her|them)\b|\bpick (?:me|us|him|her|them) up\b",
     "pick-up pick up collect"),
    (r"\b(?:split (?:it|that|the (?:cost|payment|bill|price))(?: up)?|pay (?:for )?(?:it |everything |the lot )?(?:in|over) "
     r"(?:one go|instal?ments|parts)|in one go)\b", "financing instalments pay in 3 monthly payments"),
]]

_TYPE_PATTERNS: dict[str, re.Pattern[str]] = {
    "money": re.compile(r"[$£€]\s?\d|\b\d[\d,.]*\s?(?:dollars|cents|pounds|pence|euros?|quid)\b|\bfree\b|\bno (?:charge|cost|fee)\b|"
                        r"\bat no (?:charge|cost)\b|\bcomplimentary\b|\bincluded\b", re.I),
    "duration": re.compile(r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|a few|several)"
                           r"(?:[\s-]+(?:to|or)[\s-]+\d+)?[\s-]+(?:minutes?|hours?|days?|weeks?|months?|years?)\b"
                           r"|\bsame[- ]day\b|\bovernight\b", re.I),
    "time": re.compile(r"\b\d{1,2}(?::\d{2})?\s?(?:a\.?m\.?|p\.?m\.?)|\bnoon\b|\bmidnight\b|\b(?:monday|tuesday|"
                       r"wednesday|thursday|friday|saturday|sunday|weekdays?|weekends?)\b", re.I),
    "year": re.compile(r"\b(?:19|20)\d\d(?:'?s)?\b|\b1[5-8]\d0'?s\b|\b(?:in|since|from|built|founded|established|"
                       r"circa|dates? (?:back )?(?:to|from))\s+1[5-8]\d\d\b"
                       r"|\b(?:\w+(?:teenth|tieth)|first|second|third)[- ]century\b", re.I),
    "phone": re.compile(r"\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b|\b\d{3}[\s.-]\d{4}\b|\b0\d{3,4}[\s-]?\d{3}[\s-]?\d{3,4}\b|"
                       r"\+\d{1,3}(?:[\s-]?\d){7,12}\b"),
    "email": re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+"),
    "address": re.compile(r"\b\d+\s+[A-Z][\w]+(?:\s+[A-Z][\w]+)*\s+(?:road|rd|street|st|avenue|ave|lane|ln|drive|dr|"
                          r"boulevard|blvd|way|court|ct|place|pl|parkway|highway|hwy|row|close|crescent|terrace|square|yard|mews|hill|"
                          r"gardens|park|walk|green|grove|parade|quay|wharf|pike|trail|plaza|broadway|route)\b"
                          r"|\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b", re.I),
    "distance": re.compile(r"\b\d[\d,.]*\s?(?:miles?|km|kilomet(?:er|re)s?|met(?:er|re)s?|m|yards?|feet|ft|blocks?|"
                           r"minutes?(?:'|’)? (?:drive|walk|away|on foot|by car))\b|\bnext door\b|\bacross the "
                           r"(?:road|street)\b|\bround the corner\b|\bwithin walking distance\b", re.I),
    "percent": re.compile(r"\d\s?%|\bpercent\b", re.I),
}
_QUESTION_TYPES: list[tuple[str, re.Pattern[str]]] = [
    ("year", re.compile(r"\bhow long (?:have|has) (?:you|they|it|the \w+)|\bbeen (?:around|in business|going|doing "
                        r"this)\b|\bwhen did (?:you|it|they) (?:start|open|begin)\b|\bhow old is\b|\bwhat year\b")),
    ("money", re.compile(r"\bhow much\b|\bcosts?\b|\bprices?\b|\bpricing\b|\bfees?\b|\bcharges?\b|\bdamage\b|"
                         r"\bexpensive\b|\bpricier\b|\bcheap(?:er|est)?\b|\bafford\b|\bdollars?\b|\bpounds?\b|\beuros?\b|"
                         r"\bquid\b|\bfree\b|\bextra\b|"
                         r"\bpay (?:for|more)\b|\brates?\b(?! of interest)")),
    ("percent", re.compile(r"\binterest\b|\bapr\b|\bpercent(?:age)?\b|\bdiscount\b|\bdeposit\b")),
    ("duration", re.compile(r"\bhow long\b|\bhow many (?:days|weeks|months|years|hours|minutes)\b|\bhow soon\b|"
                            r"\bhow quickly\b|\bturnaround\b|\bhow fast\b|\bhow long (?:until|till)\b")),
    ("time", re.compile(r"\bwhat time\b|\bopening hours\b|\bhours\b|\b(?:are|is) (?:you|it|the \w+) open\b|"
                        r"\bopen (?:on|at|late|early|till|until)\b|\bwhen (?:do|are|can) (?:you|i)\b|"
                       r"\bclose\b(?! (?:by|to|in|enough))|"
                        r"\bweekends?\b|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b|"
                        r"\bin the (?:evenings?|mornings?|afternoons?)\b|\b(?:evenings|mornings|afternoons)\b|"
                        r"\b(?:after|before) work\b|\blunch ?time\b|\bopen late\b|\blate (?:opening|night)s?\b")),
    ("phone", re.compile(r"\b(?:phone|telephone) number\b|\bwhat(?:'s| is) (?:the|your) number\b|\bnumber (?:for|to "
                         r"call)\b|\bcall you\b|\bring you\b|\bphone\b")),
    ("email", re.compile(r"\bemail\b|\be-mail\b")),
    ("address", re.compile(r"\bwhere(?:'s| is| are)? (?:you|it|the|your)\b|\blocated\b|\baddress\b|\bfind you\b|"
                           r"\bdirections\b|\bwhere (?:are )?you guys\b|\bwhereabouts\b")),
    ("distance", re.compile(r"\bhow far\b|\bdistance\b|\bmiles\b|\bclose (?:by|to)\b|\bnearby\b|\bnear (?:here|you|"
                            r"the)\b|\bwalking distance\b|\bround the corner\b")),
]


@lru_cache(maxsize=4096)
def in_plain_words(question: str) -> str:
    """``question`` with callers' idioms replaced by the plain words a document would use (``_IDIOMS``)."""
    for pattern, plain in _IDIOMS:
        question = pattern.sub(plain, question)
    return question


@lru_cache(maxsize=1)
def _stemmer():
    try:
        import snowballstemmer

        return snowballstemmer.stemmer("english")
    except ImportError:  # pragma: no cover - the requirement is pinned; a light stemmer keeps things working
        return None


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    word = word.lower()
    stemmer = _stemmer()
    if stemmer is not None:
        return stemmer.stemWord(word)
    from quantum_voice.services.knowledge.text import stem as light_stem

    return light_stem(word)


def question_terms(question: str) -> list[set[str]]:
    """The question's meaningful words, each as the set of stems that would match it (itself and its synonyms)."""
    return [{stem(term), *(stem(s) for s in SYNONYMS.get(term, ()))} for term in content_terms(question)]


def stems_of(text: str) -> set[str]:
    from quantum_voice.services.knowledge.text import words

    return {stem(w) for w in words(with_ranges_spelled_out(text))}


_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_NAME_RE = "|".join(f"{name[:3]}(?:{name[3:]})?\\.?" for name in _DAYS + _MONTHS).replace("sep(?:tember)", "sept?(?:ember)")
_RANGE = re.compile(rf"\b(?P<first>{_NAME_RE})\s*(?:to|through|thru|till|until|-|–|—)\s*(?P<last>{_NAME_RE})(?!\w)", re.I)


def _named(word: str) -> tuple[tuple[str, ...], int] | None:
    word = word.lower().rstrip(".")
    for names in (_DAYS, _MONTHS):
        for index, name in enumerate(names):
            if word[:3] == name[:3] and name.startswith(word[:len(name)]):
                return names, index
    return None


@lru_cache(maxsize=8192)
def with_ranges_spelled_out(text: str) -> str:
    """"Monday to Thursday: $4,500" also holds Tuesday, Wednesday and "weekday"; "off-season (October to April)"
    also holds November to March: a caller asks about the day or month, the document gives the range."""
    added: list[str] = []
    for match in _RANGE.finditer(text):
        first, last = _named(match.group("first")), _named(match.group("last"))
        if first is None or last is None or first[0] is not last[0]:
            continue
        names, start, end = first[0], first[1], last[1]
        inside = [names[(start + step) % len(names)] for step in range((end - start) % len(names) + 1)]
        added += inside
        if names is _DAYS:
            added += ["weekday"] * any(d in inside for d in _DAYS[:5]) + ["weekend"] * any(d in inside for d in _DAYS[5:])
    return f"{text} {' '.join(added)}" if added else text


def coverage(terms: list[set[str]], text_stems: set[str]) -> float:
    """Share of the question's terms found (as themselves or a synonym) among ``text_stems``."""
    if not terms:
        return 0.0
    return sum(1 for options in terms if options & text_stems) / len(terms)


def answer_types(question: str) -> set[str]:
    lowered = " ".join(question.lower().split())
    found = {name for name, pattern in _QUESTION_TYPES if pattern.search(lowered)}
    if "year" in found:
        found.discard("duration")
    return found


def types_in(text: str) -> set[str]:
    return {name for name, pattern in _TYPE_PATTERNS.items() if pattern.search(text)}
