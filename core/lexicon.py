"""A word-frequency prior for the text model: of readings the model finds about as likely, the
one that is a word people write ranks first ("moon" before "mOOn" or "rnoon").

`HWR_LEXICON` says where the words come from: `wordfreq:<language>` (the wordfreq package's
frequencies, its small list: about 29,000 English words, 4 MB in a worker), a file of the
deployer's (one word per line, optionally a tab and a count), or nothing (no prior).
"""
import math
from functools import lru_cache
from pathlib import Path

# What a string no list knows counts as: rarer than any word listed.
UNKNOWN = 1e-8
# Characters that may surround a word without being part of it ("end." "(see").
PUNCTUATION = "\"'.,;:!?()[]{}"


class LexiconError(ValueError):
    """A lexicon setting that cannot be read; the message says which and why."""


@lru_cache(maxsize=4)
def frequencies(source):
    """word (lower case) -> frequency (a share of all words), from `source`, read once."""
    if source.startswith("wordfreq:"):
        from wordfreq import get_frequency_dict

        return get_frequency_dict(source.split(":", 1)[1], wordlist="small")
    path = Path(source)
    if not path.is_file():
        raise LexiconError(f"HWR_LEXICON: no word list at {path} (one word per line, or wordfreq:en)")
    counts = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, count = line.strip().partition("\t")
        if word:
            counts[word.lower()] = counts.get(word.lower(), 0) + (float(count) if count else 1.0)
    total = sum(counts.values()) or 1.0
    return {word: count / total for word, count in counts.items()}


def knows(text, source):
    """True when `text` (its case and surrounding punctuation ignored) is a word of the list."""
    return text.strip(PUNCTUATION).lower() in frequencies(source)


def log_prior(text, source):
    """log frequency of `text` as a word (its case and surrounding punctuation ignored)."""
    word = text.strip(PUNCTUATION).lower()
    return math.log(frequencies(source).get(word, 0.0) + UNKNOWN) if word else math.log(UNKNOWN)


def rescore(readings, source, weight):
    """Readings (core.words.Reading) ranked by their log probability plus `weight` times
    their log prior; each reading's `log_probability` becomes that combined score."""
    for reading in readings:
        reading.log_probability += weight * log_prior(reading.text, source)
    return sorted(readings, key=lambda reading: -reading.log_probability)
