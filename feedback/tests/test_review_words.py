"""The review queue's words: the queue and its items, accept / reject / a reviewer's own text,
undo (words and characters in the order decided), permissions, CSRF, the rate limit and bad
input, through the routes with a staff client and through the services."""
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from feedback import services
from feedback.models import Feedback, ReviewDecision, WordFeedback, WordReviewDecision, WordThumbnail

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-pass-phrase"
WORD_REVIEWER = ["change_wordfeedback", "view_wordfeedback"]
CHARACTER_REVIEWER = ["change_feedback", "view_feedback", "view_sample"]


def staff_client(django_user_model, name, codenames):
    user = django_user_model.objects.create_user(name, password=PASSWORD, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def reviewer(django_user_model):
    """Staff who review both words and characters."""
    return staff_client(django_user_model, "reviewer", WORD_REVIEWER + CHARACTER_REVIEWER)


@pytest.fixture
def words(make_word):
    """Word feedback: two corrections and a confirmation waiting, one already verified."""
    hallo = make_word("Hallo", kind="letter")
    hallo.candidates = [{"text": "Hallo", "confidence": 0.6}, {"text": "Hello", "confidence": 0.3}]
    hallo.save()
    return {
        "hallo": WordFeedback.objects.create(word=hallo, is_correct=False, correct_text="Hello"),
        "seventeen": WordFeedback.objects.create(word=make_word("17"), is_correct=False,
                                                 correct_text="71"),
        "confirmed": WordFeedback.objects.create(word=make_word("42"), is_correct=True),
        "done": WordFeedback.objects.create(word=make_word("99"), is_correct=True,
                                            status=WordFeedback.Status.VERIFIED),
    }


def items(client, queue="words", exclude=(), count=5):
    response = client.get(reverse("feedback:review_items"),
                          {"queue": queue, "exclude": ",".join(map(str, exclude)), "count": count})
    assert response.status_code == 200, response.content
    return response.json()


def decide(client, word, action, text="", **extra):
    body = {"word_id": str(word.pk), "action": action, "text": text, "queue": "words", **extra}
    return client.post(reverse("feedback:review_decide"), json.dumps(body),
                       content_type="application/json")


def undo(client):
    return client.post(reverse("feedback:review_undo"))


def test_the_words_queue_holds_what_waits_first_come_first_served(reviewer, words):
    body = items(reviewer)
    assert [item["word_id"] for item in body["items"]] == [
        str(words[name].pk) for name in ("hallo", "seventeen", "confirmed")]
    assert body["counts"]["words"] == 3
    first = body["items"][0]
    assert (first["read"], first["kind"], first["feedback"]["text"], first["feedback"]["origin"],
            first["feedback"]["is_correct"]) == ("Hallo", "letter", "Hello", "answer", False)
    assert [reading["text"] for reading in first["candidates"]] == ["Hallo", "Hello"]
    assert first["image"] == f"/review/word-image/{first['word_id']}/640"
    held = [words["hallo"].pk]
    assert [item["word_id"] for item in items(reviewer, exclude=held)["items"]] == [
        str(words["seventeen"].pk), str(words["confirmed"].pk)]


def test_the_previews_are_made_when_the_items_are_fetched(reviewer, words):
    items(reviewer)
    word = words["hallo"].word
    assert WordThumbnail.objects.filter(word=word, size=640).count() == 1
    response = reviewer.get(reverse("feedback:word_image", args=[word.pk, 640]))
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"


def test_an_item_whose_image_is_gone_is_still_served(reviewer, words):
    words["hallo"].word.image.delete(save=False)
    body = items(reviewer)
    assert str(words["hallo"].pk) in {item["word_id"] for item in body["items"]}
    assert reviewer.get(body["items"][0]["image"]).status_code == 404


def test_the_page_counts_words_with_the_other_queues(reviewer, words):
    response = reviewer.get(reverse("feedback:review"), {"queue": "words"})
    assert response.status_code == 200
    assert response.context["counts"]["words"] == 3
    assert response.context["config"]["queue"] == "words"
    html = response.content.decode()
    assert "Words waiting" in html and 'id="count-words"' in html and 'id="text-input"' in html


def test_accept_reject_and_a_reviewers_text_are_stored_with_the_reviewer(reviewer, words):
    assert decide(reviewer, words["hallo"].word, "accept").status_code == 200
    assert decide(reviewer, words["confirmed"].word, "reject").status_code == 200
    response = decide(reviewer, words["seventeen"].word, "label", "77")
    assert response.status_code == 200
    assert response.json()["decision"] == {"word_id": str(words["seventeen"].pk), "action": "label",
                                           "text": "77"}
    assert response.json()["counts"]["words"] == 0
    stored = {f.pk: f for f in WordFeedback.objects.select_related("word")}
    hallo, seventeen, confirmed = (stored[words[name].pk]
                                   for name in ("hallo", "seventeen", "confirmed"))
    assert (hallo.status, hallo.text, hallo.origin) == ("verified", "Hello", "answer")
    assert (confirmed.status, confirmed.text, confirmed.origin) == ("rejected", "42", "answer")
    assert (seventeen.status, seventeen.text, seventeen.is_correct, seventeen.origin) == (
        "verified", "77", False, "reviewer")
    for feedback in (hallo, seventeen, confirmed):
        assert feedback.reviewed_by == reviewer.user and feedback.reviewed_at is not None
    decisions = WordReviewDecision.objects.order_by("decided")
    assert [(d.word_id, d.action, d.text) for d in decisions] == [
        (words["hallo"].pk, "accept", "Hello"), (words["confirmed"].pk, "reject", "42"),
        (words["seventeen"].pk, "label", "77")]
    assert not ReviewDecision.objects.exists(), "characters' decisions are untouched"
    assert [item["word_id"] for item in items(reviewer)["items"]] == []


def test_a_reviewers_text_equal_to_the_reading_confirms_it(reviewer, words):
    decide(reviewer, words["hallo"].word, "label", "Hallo")
    stored = WordFeedback.objects.get(pk=words["hallo"].pk)
    assert (stored.is_correct, stored.correct_text, stored.text, stored.origin, stored.status) == (
        True, "", "Hallo", "reviewer", "verified")


def test_a_person_cannot_change_a_word_the_reviewer_decided(reviewer, words, client):
    decide(reviewer, words["seventeen"].word, "label", "77")
    response = client.post(f"/api/v1/words/{words['seventeen'].pk}/feedback",
                           json.dumps({"text": "71"}), content_type="application/json")
    assert response.status_code == 409
    assert WordFeedback.objects.get(pk=words["seventeen"].pk).text == "77"


@pytest.mark.parametrize("word_name, text, status, message", [
    ("seventeen", "7a", 400, "'a' cannot be in a digit word"),
    ("seventeen", "", 400, "the text is empty"),
    ("seventeen", "   ", 400, "the text is empty"),
    ("hallo", "H" * 65, 400, "at most 64 fit"),
    ("hallo", 42, 400, "text must be a string"),
])
def test_a_bad_text_is_refused_and_nothing_changes(reviewer, words, word_name, text, status, message):
    response = decide(reviewer, words[word_name].word, "label", text)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert WordFeedback.objects.get(pk=words[word_name].pk).status == "new"
    assert not WordReviewDecision.objects.exists()


def test_bad_requests_are_refused_with_a_clear_error(reviewer, words, make_word):
    word = words["hallo"].word
    response = decide(reviewer, word, "shred")
    assert response.status_code == 400 and "unknown action" in response.json()["error"]
    response = reviewer.post(reverse("feedback:review_decide"),
                             json.dumps({"word_id": "not-an-id", "action": "accept"}),
                             content_type="application/json")
    assert response.status_code == 400 and "word_id" in response.json()["error"]
    lonely = make_word("5")
    response = decide(reviewer, lonely, "accept")
    assert response.status_code == 404 and "nothing to review" in response.json()["error"]
    gone = type(word)(pk=word.pk)
    word.delete()
    response = decide(reviewer, gone, "accept")
    assert response.status_code == 404 and "unknown word" in response.json()["error"]
    response = reviewer.post(reverse("feedback:review_decide"), "word_id=1",
                             content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and "JSON" in response.json()["error"]
    assert WordFeedback.objects.filter(status="new").count() == 2


def test_undo_puts_back_words_and_characters_latest_first(reviewer, words, make_sample):
    character = Feedback.objects.create(sample=make_sample(predicted="1"), is_correct=False,
                                        correct_label="7")
    decide(reviewer, words["seventeen"].word, "label", "77")
    reviewer.post(reverse("feedback:review_decide"),
                  json.dumps({"sample_id": str(character.pk), "action": "reject",
                              "queue": "corrections"}), content_type="application/json")
    decide(reviewer, words["hallo"].word, "reject")

    response = undo(reviewer)
    assert response.status_code == 200
    assert response.json()["item"]["word_id"] == str(words["hallo"].pk)
    assert response.json()["item"]["feedback"] == {"text": "Hello", "is_correct": False,
                                                   "origin": "answer", "status": "new"}
    assert (response.json()["queue"], response.json()["counts"]["words"]) == ("words", 2)

    response = undo(reviewer)
    assert response.json()["item"]["sample_id"] == str(character.pk)
    assert Feedback.objects.get(pk=character.pk).status == "new"

    response = undo(reviewer)
    assert response.json()["item"]["word_id"] == str(words["seventeen"].pk)
    restored = WordFeedback.objects.get(pk=words["seventeen"].pk)
    assert (restored.status, restored.text, restored.origin, restored.reviewed_by,
            restored.reviewed_at) == ("new", "71", "answer", None, None)
    assert WordReviewDecision.objects.filter(undone=True).count() == 2
    response = undo(reviewer)
    assert response.status_code == 409 and response.json()["error"] == "nothing to undo"


def test_undo_of_a_word_whose_feedback_was_deleted_says_so(reviewer, words):
    decide(reviewer, words["hallo"].word, "accept")
    words["hallo"].delete()
    response = undo(reviewer)
    assert response.status_code == 409 and "deleted" in response.json()["error"]
    assert undo(reviewer).json()["error"] == "nothing to undo"


def test_each_queue_needs_its_own_permission(django_user_model, client, words, make_sample):
    character = Feedback.objects.create(sample=make_sample(predicted="1"), is_correct=True)
    word = words["hallo"].word

    assert decide(client, word, "accept").status_code == 403  # not logged in
    assert client.get(reverse("feedback:review"), {"queue": "words"}).status_code == 302

    characters_only = staff_client(django_user_model, "characters", CHARACTER_REVIEWER)
    response = characters_only.get(reverse("feedback:review_items"), {"queue": "words"})
    assert response.status_code == 403 and "change word feedback" in response.json()["error"]
    response = decide(characters_only, word, "accept")
    assert response.status_code == 403 and "change word feedback" in response.json()["error"]
    page = characters_only.get(reverse("feedback:review"), {"queue": "words"})
    assert page.context["config"]["queue"] == "corrections"

    words_only = staff_client(django_user_model, "words", WORD_REVIEWER)
    page = words_only.get(reverse("feedback:review"))
    assert page.status_code == 200 and page.context["config"]["queue"] == "words"
    assert words_only.get(reverse("feedback:review_items"), {"queue": "corrections"}).status_code == 403
    response = words_only.post(reverse("feedback:review_decide"),
                               json.dumps({"sample_id": str(character.pk), "action": "reject"}),
                               content_type="application/json")
    assert response.status_code == 403 and "change feedback" in response.json()["error"]
    assert Feedback.objects.get(pk=character.pk).status == "new"

    viewer = staff_client(django_user_model, "viewer", ["view_wordfeedback", "view_word"])
    assert decide(viewer, word, "accept").status_code == 403
    assert viewer.get(reverse("feedback:review")).status_code == 403
    assert WordFeedback.objects.get(pk=words["hallo"].pk).status == "new"

    assert decide(words_only, word, "accept").status_code == 200


def test_a_decision_needs_the_csrf_token(django_user_model, words):
    browser = Client(enforce_csrf_checks=True)
    user = django_user_model.objects.create_user("reviewer", password=PASSWORD, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=WORD_REVIEWER))
    browser.force_login(user)
    word = words["hallo"].word
    body = json.dumps({"word_id": str(word.pk), "action": "accept", "queue": "words"})
    response = browser.post(reverse("feedback:review_decide"), body,
                            content_type="application/json", headers={"Accept": "application/json"})
    assert response.status_code == 403 and "security check failed" in response.json()["error"]
    assert WordFeedback.objects.get(pk=word.pk).status == "new"
    browser.get(reverse("feedback:review"), {"queue": "words"})  # the page sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    response = browser.post(reverse("feedback:review_decide"), body,
                            content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert WordFeedback.objects.get(pk=word.pk).status == "verified"


def test_decisions_count_against_the_rate_limit(reviewer, words, settings):
    settings.HWR_RATE_LIMIT = "2/min"
    settings.HWR_TRUSTED_PROXIES = 0
    cache.clear()
    try:
        assert decide(reviewer, words["hallo"].word, "accept").status_code == 200
        assert decide(reviewer, words["seventeen"].word, "accept").status_code == 200
        refused = decide(reviewer, words["confirmed"].word, "accept")
        assert refused.status_code == 429 and refused.json()["error"].startswith("too many requests")
        assert WordFeedback.objects.get(pk=words["confirmed"].pk).status == "new"
    finally:
        cache.clear()


def test_the_service_refuses_what_it_cannot_store(words, make_word, django_user_model):
    user = django_user_model.objects.create_user("someone", password=PASSWORD, is_staff=True)
    with pytest.raises(services.FeedbackError) as refused:
        services.review_word_feedback(word_id=words["hallo"].pk, action="label", text="Hallo1",
                                      reviewer=user)
    assert refused.value.status == 400 and "'1' cannot be in a letter word" in refused.value.message
    with pytest.raises(services.FeedbackError) as refused:
        services.review_word_feedback(word_id=make_word("3").pk, action="accept", reviewer=user)
    assert refused.value.status == 404
    decision = services.review_word_feedback(word_id=words["hallo"].pk, action="label",
                                             text="Hullo", queue="words", reviewer=user)
    assert (decision.action, decision.text, decision.before["correct_text"],
            decision.before["status"]) == ("label", "Hullo", "Hello", "new")
    assert services.undo_last_review(user) == decision
    assert WordFeedback.objects.get(pk=words["hallo"].pk).text == "Hello"
