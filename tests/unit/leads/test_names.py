"""Is a bare word a person's name? A known first name or a word that is no ordinary English word is; "Cost",
"Correct" and "Hello" are not."""

import pytest

from quantum_voice.services.leads.extraction import extract_name
from quantum_voice.services.leads.names import could_be_a_name


@pytest.mark.parametrize("word", ["Maya", "Priya", "Oluwaseun"])
def test_names_could_be_names(word):
    assert could_be_a_name(word) is True


@pytest.mark.parametrize("word", ["cost", "correct", "hello"])
def test_ordinary_words_are_not_names(word):
    assert could_be_a_name(word) is False


def test_an_ordinary_word_given_as_the_name_is_not_taken():
    assert extract_name("Cost.", expecting=True) is None


def test_im_fine_is_not_an_introduction():
    assert extract_name("I'm Fine", expecting=False) is None


def test_a_bare_name_given_as_the_name_is_taken():
    assert extract_name("Priya", expecting=True) == "Priya"


@pytest.mark.parametrize("said, name", [
    ("Good morning, Rosalind Okafor here.", "Rosalind Okafor"),
    ("Morning! Raj Patel speaking.", "Raj Patel"),
    ("Hello, Ines here, calling about a leak", "Ines"),
])
def test_a_name_before_here_or_speaking_is_an_introduction(said, name):
    assert extract_name(said) == name


@pytest.mark.parametrize("said", ["Is anyone here?", "Nobody here knows.", "Hi, my wife here wants a quote.",
                                  "Yes, I am here.", "Good morning!"])
def test_here_after_ordinary_words_is_no_name(said):
    assert extract_name(said) is None and extract_name(said, expecting=True) is None
