"""feedback.services.submit_word_feedback on real rows: a word's answer, its trail, the review
rules, and the answers its characters get when the text has as many characters as were read."""
import pytest
from django.core.exceptions import ValidationError

from feedback import services
from feedback.models import (Feedback, FeedbackSubmission, WordFeedback, WordFeedbackSubmission,
                             validate_word_text)
from recognition.models import Sample, Word

pytestmark = pytest.mark.django_db


@pytest.fixture
def anonymous():
    """Who answers: nobody signed in, from `address`."""
    def make(address="192.0.2.1"):
        return {"user": None, "client_hash": services.hash_client(address, "test")}

    return make


def answer(word, text, submitter, channel="page"):
    return services.submit_word_feedback(word_id=word.pk, text=text, channel=channel, **submitter)


def character_answers(word):
    return {sample.position: (sample.feedback.is_correct, sample.feedback.correct_label)
            for sample in word.characters.select_related("feedback").filter(feedback__isnull=False)}


def test_the_reading_itself_confirms_the_word_and_each_character(make_word, anonymous):
    word = make_word("42")
    feedback, created, characters = answer(word, "42", anonymous())
    assert created and (feedback.is_correct, feedback.correct_text, feedback.text) == (True, "", "42")
    assert (feedback.status, feedback.origin) == ("new", "answer")
    assert character_answers(word) == {0: (True, ""), 1: (True, "")}
    assert {c.pk for c in characters} == set(word.characters.values_list("pk", flat=True))
    submission = feedback.submissions.get()
    assert (submission.is_correct, submission.correct_text, submission.channel) == (True, "", "page")
    assert len(submission.client_hash) == 64 and "192.0.2.1" not in submission.client_hash
    assert FeedbackSubmission.objects.filter(channel="page").count() == 2


def test_a_correction_of_the_same_length_corrects_the_characters_that_differ(make_word, anonymous):
    word = make_word("42")
    feedback, _, characters = answer(word, "47", anonymous(), channel="api")
    assert (feedback.is_correct, feedback.correct_text, feedback.text) == (False, "47", "47")
    assert character_answers(word) == {0: (True, ""), 1: (False, "7")}
    assert len(characters) == 2
    assert set(FeedbackSubmission.objects.values_list("channel", flat=True)) == {"api"}


def test_a_correction_of_another_length_is_stored_on_the_word_only(make_word, anonymous):
    word = make_word("42")
    feedback, _, characters = answer(word, "142", anonymous())
    assert (feedback.correct_text, characters) == ("142", [])
    assert not Feedback.objects.exists()


def test_a_character_its_model_cannot_know_is_left_without_an_answer(make_word, anonymous):
    word = make_word("ab", kind="any")
    feedback, _, _ = answer(word, "a!", anonymous())
    assert feedback.correct_text == "a!"
    assert character_answers(word) == {0: (True, "")}


def test_characters_are_answered_only_when_all_of_them_are_there(make_word, anonymous):
    """A purged character would shift the positions: nothing is guessed then."""
    word = make_word("421")
    word.characters.get(position=1).delete()
    feedback, _, characters = answer(word, "47", anonymous())
    assert (feedback.correct_text, characters) == ("47", [])


def test_a_later_answer_replaces_the_first_and_the_trail_keeps_both(make_word, anonymous):
    word = make_word("Hi", kind="letter")
    answer(word, "Hi", anonymous())
    feedback, created, _ = answer(word, "Ho", anonymous())
    assert not created and (feedback.is_correct, feedback.correct_text) == (False, "Ho")
    trail = list(feedback.submissions.order_by("submitted", "pk").values_list("is_correct", "correct_text"))
    assert trail == [(True, ""), (False, "Ho")]
    assert WordFeedback.objects.count() == 1
    assert character_answers(word) == {0: (True, ""), 1: (False, "o")}


@pytest.mark.parametrize("status", ["verified", "rejected"])
def test_a_reviewed_word_is_changed_only_by_a_reviewer(make_word, anonymous, status):
    word = make_word("42")
    answer(word, "47", anonymous())
    WordFeedback.objects.filter(pk=word.pk).update(status=status)
    before = (FeedbackSubmission.objects.count(), list(Feedback.objects.values_list("correct_label", flat=True)))
    with pytest.raises(services.FeedbackError) as refused:
        answer(word, "42", anonymous())
    assert refused.value.status == 409 and "already reviewed" in refused.value.message
    feedback = WordFeedback.objects.get(pk=word.pk)
    assert (feedback.correct_text, feedback.status, feedback.submissions.count()) == ("47", status, 1)
    assert (FeedbackSubmission.objects.count(),
            list(Feedback.objects.values_list("correct_label", flat=True))) == before
    # The same answer again changes nothing and is recorded in the trail.
    feedback, created, _ = answer(word, "47", anonymous())
    assert (created, feedback.status, feedback.submissions.count()) == (False, status, 2)


def test_a_changed_answer_is_new_again_and_the_persons_own(make_word, anonymous):
    word = make_word("42")
    WordFeedback.objects.create(word=word, is_correct=False, correct_text="47",
                                origin=WordFeedback.Origin.REVIEWER)
    feedback, _, _ = answer(word, "41", anonymous())
    assert (feedback.origin, feedback.status, feedback.text) == ("answer", "new", "41")


def test_a_character_a_reviewer_settled_keeps_its_label(make_word, anonymous):
    word = make_word("42")
    second = word.characters.get(position=1)
    Feedback.objects.create(sample=second, is_correct=True, status=Feedback.Status.VERIFIED)
    feedback, _, characters = answer(word, "17", anonymous())
    assert feedback.correct_text == "17"
    assert character_answers(word) == {0: (False, "1"), 1: (True, "")}
    assert [c.sample_id for c in characters] == [word.characters.get(position=0).pk]


@pytest.mark.parametrize("kind, text, message", [
    ("digit", "4a", "'a' cannot be in a digit word: write it with the digits 0 to 9 only"),
    ("digit", "4 2", "' ' cannot be in a digit word"),
    ("letter", "Hi!", "'!' cannot be in a letter word: write it with the letters A to Z and a to z only"),
    ("letter", "Café", "'é' cannot be in a letter word"),
    ("any", "two\nlines", "a line break or another character that is not printed"),
    ("any", "tab\there", "a line break"),
    ("any", "", "the text is empty"),
    ("any", "   ", "the text is empty"),
    ("any", "x" * 65, "the text is 65 characters long: at most 64 fit"),
])
def test_the_text_must_suit_the_words_kind(kind, text, message):
    with pytest.raises(ValidationError) as refused:
        validate_word_text(kind, text)
    assert message in refused.value.messages[0]


@pytest.mark.parametrize("kind, text", [
    ("digit", "0123456789"), ("letter", "HelloWorld"), ("any", "x" * 64), ("any", "Hello, world! 42 €"),
])
def test_texts_that_suit_the_kind_pass(kind, text):
    validate_word_text(kind, text)


def test_a_refused_text_stores_nothing(make_word, anonymous):
    word = make_word("42")
    with pytest.raises(services.FeedbackError) as refused:
        answer(word, "4a", anonymous())
    assert refused.value.status == 400
    assert not (WordFeedback.objects.exists() or WordFeedbackSubmission.objects.exists()
                or Feedback.objects.exists())


def test_an_unknown_word_is_404(db, anonymous):
    import uuid

    with pytest.raises(services.FeedbackError) as refused:
        services.submit_word_feedback(word_id=uuid.uuid4(), text="42", channel="api",
                                      **anonymous())
    assert refused.value.status == 404


def test_a_word_with_feedback_outlives_the_retention(make_word, anonymous, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.HWR_SAMPLE_RETENTION_DAYS = 30
    kept, expired = make_word("42"), make_word("17")
    Word.objects.update(created=timezone.now() - timedelta(days=90))
    answer(kept, "421", anonymous())  # another length: no character has feedback
    assert list(services.expired_words()) == [Word.objects.get(pk=expired.pk)]
    services.purge_words(services.expired_words())
    assert list(Word.objects.all()) == [kept]
    assert Sample.objects.filter(word=kept).count() == 2
