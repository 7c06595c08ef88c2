"""Chunks follow the document's structure, stay within size and keep page and section."""

from quantum_voice.services.knowledge.chunking import MAX_TOKENS, Chunker, chunk_blocks
from quantum_voice.services.knowledge.parsing import HEADING, TEXT, Block
from quantum_voice.services.knowledge.text import count_tokens


def long_section(topic: str, sentences: int, page: int | None = None, section: str | None = None) -> list[Block]:
    text = " ".join(f"Sentence {i} explains one more detail about the {topic} of the building."
                    for i in range(sentences))
    return [Block(TEXT, text, page, section)]


def test_long_sections_are_cut_within_bounds_with_overlap():
    chunks = chunk_blocks([Block(HEADING, "Amenities", 1, "Amenities", 1)] + long_section("pool", 120, 1, "Amenities"))
    assert len(chunks) > 3
    assert all(c.token_count <= MAX_TOKENS + 20 for c in chunks)
    assert all(c.token_count >= 100 for c in chunks[:-1])
    for before, after in zip(chunks, chunks[1:]):
        last_sentence, first_sentence = before.text.split(". ")[-1].rstrip("."), after.text.split(". ")[0]
        assert last_sentence in after.text and first_sentence in before.text  # a little overlap, not more
        assert count_tokens(after.text.split(last_sentence)[0]) <= 40


def test_a_chunk_never_spans_two_real_sections_and_keeps_page_and_section():
    blocks = ([Block(HEADING, "Pricing", 1, "Pricing", 1)] + long_section("price", 8, 1, "Pricing")
              + [Block(HEADING, "Parking", 2, "Parking", 1)] + long_section("garage", 8, 2, "Parking"))
    chunks = chunk_blocks(blocks)
    assert [(c.section, c.page) for c in chunks] == [("Pricing", 1), ("Parking", 2)]
    assert "garage" not in chunks[0].text and "price" not in chunks[1].text


def test_tiny_sections_share_a_chunk_and_show_the_next_heading():
    blocks = [Block(HEADING, "Pets", None, "Pets", 1), Block(TEXT, "Two pets allowed.", None, "Pets"),
              Block(HEADING, "Storage", None, "Storage", 1), Block(TEXT, "Each home has a locker.", None, "Storage")]
    chunks = chunk_blocks(blocks)
    assert len(chunks) == 1
    assert chunks[0].section == "Pets" and chunks[0].text.splitlines() == [
        "Two pets allowed.", "## Storage", "Each home has a locker."]


def test_a_giant_sentence_is_split_by_words():
    chunks = Chunker(max_tokens=50).chunk([Block(TEXT, " ".join(["word"] * 400))])
    assert all(count_tokens(c.text) <= 50 for c in chunks) and sum(c.text.count("word") for c in chunks) >= 400


def test_embedding_text_carries_the_section():
    chunk = chunk_blocks([Block(TEXT, "One covered space per home.", 3, "Parking")])[0]
    assert chunk.embedding_text == "Parking\nOne covered space per home."
