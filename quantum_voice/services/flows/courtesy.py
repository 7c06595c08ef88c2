"""The small things a caller says that are not answers: "Hello.", "How are you?", "Are you a robot?", "Thanks.",
"What do you mean?". Each gets a few honest words; the engine then asks its pending question again."""

from __future__ import annotations

import re

from quantum_voice.services.flows.intents import Understanding, normalise

GREETING_REPLY = "Hi there!"
HOW_ARE_YOU_REPLY = "I'm doing well, thanks for asking."
WHO_REPLY = "I'm a virtual assistant, an AI, here to help with your questions."
THANKS_REPLY = "You're welcome!"
REPHRASE = "Sorry, let me put that another way."

# What each Lead Gate question is for, when the caller asks what the agent means.
EXPLANATIONS = {
    "name": "I'm just asking what to call you.",
    "email": "I'm asking for an email address, so the team can follow up with you.",
    "confirm_email": "I want to make sure I have your email address right.",
    "phone": "A phone number lets the team call you back, but you don't have to give one.",
    "consent": "We only use your details to follow up on your enquiry, and you can ask us to delete them at any "
               "time. I need your permission to keep them, and a record of this call.",
}

_ABOUT_THE_AGENT = re.compile(r"\b(?:robot|bot|ai|machine|computer|real person|human|real|who (?:am i|is this|are you)|"
                              r"your name)\b")
_HOW_ARE_YOU = re.compile(r"\bhow (?:are|r) (?:you|ya)\b|\bhow(?:'s| is) (?:it going|your day)\b|\bhow have you been\b"
                          r"|\bwhat's up\b")
_NICE_TO_MEET = re.compile(r"\bnice to (?:meet|talk to) you\b")


def small_talk_reply(said: Understanding) -> str | None:
    """A short reply to small talk or a bare greeting, or ``None`` when the turn is neither."""
    text = normalise(said.text)
    if said.small_talk:
        if _HOW_ARE_YOU.search(text):
            return HOW_ARE_YOU_REPLY
        if _ABOUT_THE_AGENT.search(text):
            return WHO_REPLY
        if _NICE_TO_MEET.search(text):
            return "Nice to talk to you too."
        return THANKS_REPLY
    if said.greeting and said.intent == "greeting":
        return GREETING_REPLY
    return None
