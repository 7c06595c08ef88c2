from quantum_voice.services.knowledge.text import content_terms, split_sentences


def test_sentences_split_at_ends_but_not_after_abbreviations_or_decimals():
    text = "Dr. Lee built it. The fee is $0.46 per sq. ft. monthly! Is it new? Yes.\nRow one\nRow two"
    assert split_sentences(text) == ["Dr. Lee built it.", "The fee is $0.46 per sq. ft. monthly!", "Is it new?",
                                     "Yes.", "Row one", "Row two"]


def test_content_terms_drop_stop_words_and_repeats():
    assert content_terms("How much is the HOA fee, the HOA fee?") == ["much", "hoa", "fee"]
