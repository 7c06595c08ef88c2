"""Email addresses as callers say them, spell them, and as speech-to-text mangles them.

Three shapes are understood, in this order:
1. written: ``ana@example.com`` (typed, or transcribed cleanly);
2. spoken or spelled: ``j o h n dot doe at example dot com`` → ``john.doe@example.com``;
3. repaired: Whisper drops the spoken "at" (``john.smith.example.com``) or glues it to the words around it
   (``john.smithatexample.com``). Both become ``john.smith@example.com``.

Anything but the first shape is a guess, so ``EmailCandidate.spoken`` is set and the agent reads the address back
(``readback``) before trusting it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

# Domains callers use most: a suffix match wins over the generic "last two labels" guess.
KNOWN_DOMAINS = (
    "gmail.com", "googlemail.com", "yahoo.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "icloud.com",
    "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.com", "mail.com", "zoho.com", "yandex.com",
    "comcast.net", "verizon.net", "att.net", "example.com", "example.org", "example.net",
)
TOP_LEVEL_DOMAINS = {
    "com", "net", "org", "edu", "gov", "io", "co", "us", "uk", "ca", "au", "nz", "de", "fr", "es", "it", "nl", "be",
    "ch", "at", "se", "no", "dk", "fi", "ie", "pt", "pl", "br", "mx", "in", "jp", "me", "info", "biz", "app", "dev",
    "ai", "tech", "online", "store", "shop", "site", "xyz", "email", "agency", "realty", "homes", "solar",
}
SECOND_LEVEL = {"co", "com", "org", "ac", "gov", "net"}  # co.uk, com.au, ...
SPOKEN_SYMBOLS = {"at": "@", "dot": ".", "period": ".", "point": ".", "underscore": "_", "dash": "-",
                  "hyphen": "-", "plus": "+"}
# Words that end the part before "at" when reading backwards ("my email is | john at ...").
LOCAL_PART_STOPS = {
    "is", "it's", "its", "it", "email", "e-mail", "mail", "address", "my", "me", "that", "yes", "yeah", "so", "um",
    "uh", "sure", "okay", "ok", "and", "the", "use", "try", "reach", "i'm", "im", "hi", "hello", "actually",
    "sorry", "correction", "no", "send", "to", "be", "would", "should", "can", "you", "on", "or", "at", "oh", "well",
    "mean", "i", "was", "wait", "please", "of", "address's", "email's", "right", "fine", "alright", "thanks",
}
_WRITTEN = re.compile(r"[a-z0-9][a-z0-9._%+\-]*@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+", re.I)
_SYMBOL_CHARS = set("@._-+")


@dataclass(frozen=True)
class EmailCandidate:
    address: str
    spoken: bool  # said, spelled or repaired rather than written: read it back before trusting it


def valid_email(address: str) -> str | None:
    """The normalised address, or ``None`` when it is not a plausible email address."""
    try:
        normalised = validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None
    tld = normalised.rsplit(".", 1)[-1]
    return normalised if tld.isalpha() and len(tld) >= 2 else None


def extract_email(text: str) -> EmailCandidate | None:
    """The email address in ``text``, however it was said, or ``None``."""
    for match in _WRITTEN.finditer(text):
        address = valid_email(match.group(0).rstrip("."))
        if address and not _looks_spoken(text):
            return EmailCandidate(address, spoken=False)
    normalised = spoken_to_written(text)
    address = _find_written(normalised)
    if address:
        return EmailCandidate(address, spoken=True)
    for token in normalised.split():
        repaired = repair_missing_at(token)
        if repaired:
            return EmailCandidate(repaired, spoken=True)
    return None


def mentions_email(text: str) -> bool:
    """Did the caller try to say an address (so a failed parse deserves a specific re-ask)?"""
    lowered = text.lower()
    return "@" in lowered or bool(re.search(r"\b(?:dot|underscore)\b|\w\s+at\s+\w|\.(?:com|net|org)\b", lowered))


def _looks_spoken(text: str) -> bool:
    return bool(re.search(r"\b(?:dot|underscore|at)\b\s", text.lower()) and "@" not in text)


def spoken_to_written(text: str) -> str:
    """Spoken symbols become characters and spelled letters are glued: ``j o h n dot doe`` → ``john.doe``."""
    lowered = text.lower().replace("’", "'")
    # "email me at john dot doe at ..." / "reach us at ...": that first "at" is not the address's own
    lowered = re.sub(r"\b(e-?mail|mail|reach|contact|write to|message)\s+(me|us|him|her|them)\s+at\b", r"\1 \2 ,",
                     lowered)
    lowered = re.sub(r"(?<=\b\w),\s*(?=\w\b)", " ", lowered)  # "j, o, h, n": commas between spelled letters
    lowered = re.sub(r"[,;!?]", " , ", lowered)
    lowered = re.sub(r"\.(?=\s|$)", " ", lowered)  # a sentence's full stop, not a dot inside an address
    out: list[str] = []
    last_kind = ","  # what the previous output token ends with: "letter", "symbol", "word" or ","
    for token in (SPOKEN_SYMBOLS.get(token, token) for token in lowered.split()):
        kind = "," if token == "," else "symbol" if token in _SYMBOL_CHARS else (
            "letter" if len(token) == 1 and token.isalnum() else "word")
        if out and kind != "," and last_kind != "," and (
                "symbol" in (kind, last_kind) or kind == last_kind == "letter"):
            out[-1] += token
        else:
            out.append(token)
        last_kind = kind
    return " ".join(_glue_words_before_at(out))


def _glue_words_before_at(tokens: list[str]) -> list[str]:
    """``my email is john smith@gmail.com`` → ``johnsmith@gmail.com``: callers say names with a space."""
    for index, token in enumerate(tokens):
        if not token.startswith("@") and "@" not in token[1:]:
            continue
        start = index
        while start > 0 and index - start < 3 and _could_be_local_word(tokens[start - 1]):
            start -= 1
        if start < index:
            tokens = tokens[:start] + ["".join(tokens[start:index + 1])] + tokens[index + 1:]
        break
    return tokens


def _could_be_local_word(token: str) -> bool:
    return token not in LOCAL_PART_STOPS and bool(re.fullmatch(r"[a-z0-9._\-+]+", token))


def _find_written(text: str) -> str | None:
    for match in _WRITTEN.finditer(text):
        address = valid_email(match.group(0).rstrip("."))
        if address:
            return address
    return None


def repair_missing_at(token: str) -> str | None:
    """``john.smith.example.com`` or ``john.smithatexample.com`` → ``john.smith@example.com``; else ``None``."""
    token = token.strip(".,;:!?\"'()").lower()
    if "@" in token or not re.fullmatch(r"[a-z0-9][a-z0-9._\-+]*\.[a-z]{2,}", token):
        return None
    labels = token.split(".")
    tld_size = 2 if len(labels) >= 3 and labels[-2] in SECOND_LEVEL and len(labels[-1]) == 2 else 1
    if labels[-1] not in TOP_LEVEL_DOMAINS:
        return None
    return _split_known_domain(token) or _split_glued_at(labels, tld_size) or _split_last_labels(labels, tld_size)


def _split_known_domain(token: str) -> str | None:
    for domain in KNOWN_DOMAINS:
        for joiner in (".", "at"):
            if token.endswith(joiner + domain) and len(token) > len(joiner + domain):
                return valid_email(token[: -len(joiner + domain)] + "@" + domain)
    return None


def _split_glued_at(labels: list[str], tld_size: int) -> str | None:
    """The label before the top-level domain holds the swallowed "at": ``smithatexample`` → ``smith@example``."""
    domain_label = labels[-tld_size - 1]
    local_before = ".".join(labels[: -tld_size - 1])
    for position in reversed([m.start() for m in re.finditer("at", domain_label)]):
        local = (local_before + "." if local_before else "") + domain_label[:position]
        domain = ".".join([domain_label[position + 2:]] + labels[-tld_size:])
        if domain_label[:position] and domain_label[position + 2:]:
            address = valid_email(f"{local}@{domain}")
            if address:
                return address
    return None


def _split_last_labels(labels: list[str], tld_size: int) -> str | None:
    if len(labels) < tld_size + 2:  # "example.com" alone is a website, not an email address
        return None
    local, domain = labels[: -tld_size - 1], labels[-tld_size - 1:]
    return valid_email(".".join(local) + "@" + ".".join(domain))


_SEPARATOR_WORDS = {".": "dot", "_": "underscore", "-": "dash", "+": "plus"}


def readback(address: str) -> str:
    """How the agent says an address back: ``john.smith@example.com`` → ``j-o-h-n dot smith at example dot com``.

    The first part of the name is spelled (it is where mishearing hurts most); later parts are spelled when they
    hold digits or are short, otherwise said as words; the domain is said as words.
    """
    local, _, domain = address.partition("@")
    parts = re.split(r"([._\-+])", local)
    spoken: list[str] = []
    for index, part in enumerate(parts):
        if part in _SEPARATOR_WORDS:
            spoken.append(_SEPARATOR_WORDS[part])
        elif part:
            spell = index == 0 or len(part) <= 2 or any(ch.isdigit() for ch in part)
            spoken.append("-".join(part) if spell else part)
    domain_words = " dot ".join(domain.split("."))
    return f"{' '.join(spoken)} at {domain_words}"
