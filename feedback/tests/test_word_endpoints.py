"""POST /feedback/word (page, CSRF) and POST /api/v1/words/<id>/feedback (API): contract and
every refusal, as a 4xx JSON error that stores nothing."""
import json
import uuid

import pytest
from django.core.cache import cache
from django.test import Client

from feedback.models import Feedback, FeedbackSubmission, WordFeedback, WordFeedbackSubmission

pytestmark = pytest.mark.django_db

ROUTES = ["page", "api"]


def post(client, route, word_id, body, content_type="application/json", **extra):
    """POST `body` (a dict, or raw text) to one of the two routes for `word_id`."""
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    if route == "page":
        return client.post("/feedback/word", data, content_type=content_type, **extra)
    return client.post(f"/api/v1/words/{word_id}/feedback", data, content_type=content_type, **extra)


def answer(word, text, **extra):
    return {"word_id": str(word.pk), "text": text, **extra}


@pytest.mark.parametrize("route", ROUTES)
def test_a_first_answer_is_201_with_the_word_and_its_characters(client, make_word, route):
    word = make_word("42")
    response = post(client, route, word.pk, answer(word, "47"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "saved"
    assert {key: body["feedback"][key] for key in ("word_id", "kind", "predicted_text", "is_correct",
                                                   "correct_text", "text", "status")} == {
        "word_id": str(word.pk), "kind": "digit", "predicted_text": "42", "is_correct": False,
        "correct_text": "47", "text": "47", "status": "new"}
    assert [(c["predicted_label"], c["label"]) for c in body["characters"]] == [("4", "4"), ("2", "7")]
    assert WordFeedback.objects.get(pk=word.pk).submissions.get().channel == route


@pytest.mark.parametrize("route", ROUTES)
def test_a_later_answer_is_200_and_confirming_leaves_correct_text_empty(client, make_word, route):
    word = make_word("Hello", kind="letter")
    post(client, route, word.pk, answer(word, "Hallo"))
    response = post(client, route, word.pk, answer(word, "Hello"))
    assert response.status_code == 200
    assert (response.json()["feedback"]["correct_text"], response.json()["feedback"]["text"]) == (None, "Hello")
    assert WordFeedback.objects.get(pk=word.pk).correct_text == ""


@pytest.mark.parametrize("route", ROUTES)
def test_another_length_answers_the_word_only(client, make_word, route):
    word = make_word("42")
    response = post(client, route, word.pk, answer(word, "142"))
    assert response.status_code == 201 and response.json()["characters"] == []
    assert not Feedback.objects.exists()


@pytest.mark.parametrize("route", ROUTES)
def test_a_reviewed_word_is_409_and_keeps_its_text(client, make_word, route):
    word = make_word("42")
    post(client, route, word.pk, answer(word, "47"))
    WordFeedback.objects.filter(pk=word.pk).update(status="verified")
    response = post(client, route, word.pk, answer(word, "41"))
    assert response.status_code == 409
    assert response.json()["error"] == ("the answer on this word was already reviewed (verified) and "
                                         "can no longer be changed here; its text stays '47'")
    assert WordFeedback.objects.get(pk=word.pk).correct_text == "47"
    assert WordFeedbackSubmission.objects.count() == 1


BAD_REQUESTS = {
    "invalid word id": (lambda w: answer(w, "42") | {"word_id": "not-a-uuid"}, 400, "word_id: Input should be a valid UUID"),
    "unknown word id": (lambda w: answer(w, "42") | {"word_id": str(uuid.uuid4())}, 404, "unknown word"),
    "no text": (lambda w: {"word_id": str(w.pk)}, 400, "text: Field required"),
    "text not a string": (lambda w: answer(w, 42), 400, "text: Input should be a valid string"),
    "text null": (lambda w: answer(w, None), 400, "text: Input should be a valid string"),
    "empty text": (lambda w: answer(w, ""), 400, "the text is empty"),
    "blank text": (lambda w: answer(w, "  "), 400, "the text is empty"),
    "text too long": (lambda w: answer(w, "4" * 65), 400, "at most 64 fit"),
    "a letter in a digit word": (lambda w: answer(w, "4a"), 400, "'a' cannot be in a digit word"),
    "a line break": (lambda w: answer(w, "4\n2"), 400, "cannot be in a digit word"),
    "malformed JSON": (lambda w: '{"word_id": ', 400, "not valid JSON"),
    "JSON array": (lambda w: json.dumps([answer(w, "42")]), 400, "must be a JSON object"),
    "JSON string": (lambda w: json.dumps("42"), 400, "must be a JSON object"),
    "not UTF-8": (lambda w: b"\xff\xfe{", 400, "not valid JSON"),
    "nested too deeply": (lambda w: "[" * 100000 + "]" * 100000, 400, "JSON"),
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_bad_input_is_a_4xx_json_error_and_stores_nothing(client, make_word, route, case):
    word = make_word("42")
    build, status, message = BAD_REQUESTS[case]
    body = build(word)
    if route == "api" and isinstance(body, dict) and "word_id" in body:
        response = post(client, route, body["word_id"], {k: v for k, v in body.items() if k != "word_id"})
    else:
        response = post(client, route, word.pk, body)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert message in response.json()["error"]
    assert not (WordFeedback.objects.exists() or WordFeedbackSubmission.objects.exists()
                or Feedback.objects.exists() or FeedbackSubmission.objects.exists())


@pytest.mark.parametrize("kind, text, message", [
    ("letter", "Hi5", "'5' cannot be in a letter word"),
    ("any", "one\ntwo", "a line break"),
])
@pytest.mark.parametrize("route", ROUTES)
def test_each_kind_takes_its_own_characters(client, make_word, route, kind, text, message):
    word = make_word("Hi" if kind == "letter" else "one", kind=kind)
    response = post(client, route, word.pk, answer(word, text))
    assert response.status_code == 400 and message in response.json()["error"]
    assert not WordFeedback.objects.exists()


def test_any_word_takes_any_printable_text(client, make_word):
    word = make_word("one", kind="any")
    response = post(client, "api", word.pk, {"text": "Öl, 42 €!"})
    assert response.status_code == 201 and response.json()["feedback"]["text"] == "Öl, 42 €!"


@pytest.mark.parametrize("route", ROUTES)
def test_wrong_content_type_is_415(client, make_word, route):
    word = make_word()
    response = post(client, route, word.pk, f"word_id={word.pk}&text=42",
                    content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and "JSON" in response.json()["error"]
    assert not WordFeedback.objects.exists()


def test_the_api_refuses_a_body_naming_another_word(client, make_word):
    word, other = make_word(), make_word()
    response = post(client, "api", word.pk, answer(other, "42"))
    assert response.status_code == 400
    assert response.json()["error"] == "word_id in the body differs from the one in the URL"
    assert not WordFeedback.objects.exists()


def test_the_page_route_needs_the_csrf_token_and_the_api_does_not(make_word):
    word = make_word()
    browser = Client(enforce_csrf_checks=True)
    assert post(browser, "page", word.pk, answer(word, "42")).status_code == 403
    browser.get("/admin/login/")  # any page that sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    response = post(browser, "page", word.pk, answer(word, "42"), headers={"X-CSRFToken": token})
    assert response.status_code == 201
    assert post(Client(enforce_csrf_checks=True), "api", word.pk, {"text": "41"}).status_code == 200


def test_the_page_route_only_accepts_post(client):
    response = client.get("/feedback/word")
    assert response.status_code == 405


@pytest.mark.parametrize("route", ROUTES)
def test_the_routes_are_rate_limited_like_every_post(client, make_word, settings, route):
    settings.HWR_RATE_LIMIT = "2/min"
    cache.clear()
    word = make_word()
    statuses = [post(client, route, word.pk, answer(word, "42"), REMOTE_ADDR="192.0.2.9").status_code
                for _ in range(3)]
    assert statuses == [201, 200, 429]
    assert WordFeedbackSubmission.objects.count() == 2


def test_submissions_are_attributed_to_a_signed_in_user(admin_client, admin_user, make_word):
    word = make_word()
    post(admin_client, "page", word.pk, answer(word, "42"))
    assert WordFeedbackSubmission.objects.get().user == admin_user
    assert {s.user for s in FeedbackSubmission.objects.all()} == {admin_user}


def test_the_api_documents_the_request_schema(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/words/{word_id}/feedback"]["post"]
    body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert {"word_id", "text"} <= set(body_schema["properties"])
    assert {"200", "201", "400", "404", "409", "415"} <= set(operation["responses"])
