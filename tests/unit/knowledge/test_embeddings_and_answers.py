"""The real MiniLM model, loaded offline from its wheel, and the extractive answerer on top of it."""

import os

import numpy as np

from quantum_voice.services.knowledge.answering import ExtractiveAnswerer
from quantum_voice.services.knowledge.embeddings import DIMENSION, from_bytes, get_embedder, to_bytes
from quantum_voice.services.knowledge.retrieval import Passage, reciprocal_rank_fusion


def test_model_loads_offline_and_gives_unit_vectors_that_capture_meaning():
    vectors = get_embedder().embed(["How much is the HOA fee?", "The monthly association fee is $450.",
                                    "Dogs and cats are welcome."])
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert vectors.shape == (3, DIMENSION) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_vectors_round_trip_through_bytes():
    vector = get_embedder().embed(["parking"])[0]
    blob = to_bytes(vector)
    assert len(blob) == DIMENSION * 4 and np.array_equal(from_bytes(blob), vector)


def test_reciprocal_rank_fusion_rewards_agreement():
    fused = [item for item, _ in reciprocal_rank_fusion([[1, 2, 3], [3, 1, 4]])]
    assert fused[:2] == [1, 3] and set(fused) == {1, 2, 3, 4}


def passage(text: str, chunk_id: int = 1, confidence: float = 0.8, similarity: float = 0.6) -> Passage:
    return Passage(chunk_id, 10, "faq.txt", text, 2, "FAQ", similarity, 0.5, confidence, 0.03)


def test_the_answer_is_the_sentence_that_answers_with_a_citation():
    answer = ExtractiveAnswerer().answer("How much is the HOA fee?", [passage(
        "Harbor View has 142 homes on the waterfront. The HOA fee is $450 per month and covers water and trash. "
        "Construction started in March 2025. Residents share a rooftop pool.")])
    assert answer.text.startswith("The HOA fee is $450 per month")
    assert "rooftop" not in answer.text and len(answer.text.split()) <= 45
    assert answer.citations[0].document_name == "faq.txt" and answer.citations[0].page == 2
    assert 0 <= answer.confidence <= 1


def test_in_faq_text_the_sentence_after_the_matching_question_is_the_answer():
    answer = ExtractiveAnswerer().answer("Which banks do you work with for mortgages?", [passage(
        "Do you work with mortgage lenders?\nYes. Our preferred lenders are Harbour Savings Bank and Northstar "
        "Credit Union.\nWhat deposit is required?\nTen percent when the contract is signed.")])
    assert answer.text == "Yes. Our preferred lenders are Harbour Savings Bank and Northstar Credit Union."


def test_a_section_heading_above_the_answer_is_not_read_out():
    answer = ExtractiveAnswerer().answer("How much is the monthly HOA fee?", [passage(
        "Fees\nThe monthly HOA fee is $450. It covers water, trash collection and the fitness centre.")])
    assert answer.text.startswith("The monthly HOA fee is $450."), answer.text


def test_nothing_to_say_without_passages():
    assert ExtractiveAnswerer().answer("Anything?", []) is None
