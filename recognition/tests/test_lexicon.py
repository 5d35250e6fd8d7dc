"""The lexicon prior: readings that are words people write rank first, from a word list of the
deployer's or from wordfreq's frequencies."""
import pytest

from core import lexicon
from core.words import Reading


def readings():
    return [Reading("rnoon", -1.0, []), Reading("moon", -1.5, []), Reading("mOOn", -2.0, [])]


def test_a_word_of_the_list_overtakes_a_slightly_likelier_non_word(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("moon\t50\nsun\t30\nstar\n")
    ranked = lexicon.rescore(readings(), str(words), 0.3)
    assert [r.text for r in ranked] == ["moon", "mOOn", "rnoon"]  # case ignored when looked up


def test_without_weight_the_model_decides(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("moon\n")
    assert lexicon.rescore(readings(), str(words), 0.0)[0].text == "rnoon"


def test_wordfreq_knows_english_words():
    assert lexicon.log_prior("the", "wordfreq:en") > lexicon.log_prior("moon", "wordfreq:en") \
        > lexicon.log_prior("xqzvv", "wordfreq:en")
    assert lexicon.log_prior("Moon.", "wordfreq:en") == lexicon.log_prior("moon", "wordfreq:en")


def test_a_missing_word_list_says_where_it_looked(tmp_path):
    with pytest.raises(lexicon.LexiconError, match="no word list at"):
        lexicon.frequencies(str(tmp_path / "missing.txt"))


def test_an_unreadable_lexicon_setting_is_a_start_up_error(settings, tmp_path):
    from recognition.checks import lexicon_readable

    settings.HWR_LEXICON = str(tmp_path / "missing.txt")
    (error,) = lexicon_readable(None)
    assert error.id == "recognition.E001" and "missing.txt" in error.msg
    settings.HWR_LEXICON = "wordfreq:en"
    assert lexicon_readable(None) == []


def test_knows_words_of_the_list_whatever_their_case_and_punctuation(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("moon\nHello\n")
    assert lexicon.knows("Moon.", str(words)) and lexicon.knows("(hello", str(words))
    assert not lexicon.knows("rnoon", str(words)) and not lexicon.knows("", str(words))
