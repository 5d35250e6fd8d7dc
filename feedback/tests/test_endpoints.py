"""POST /feedback (page, CSRF) and POST /api/v1/samples/<id>/feedback (API): contract and refusals."""
import json
import uuid

import pytest
from django.test import Client

from feedback.models import Feedback, FeedbackSubmission

pytestmark = pytest.mark.django_db

ROUTES = ["page", "api"]


def post(client, route, sample_id, body, content_type="application/json"):
    """POST `body` (a dict, or raw text) to one of the two routes for `sample_id`."""
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    if route == "page":
        return client.post("/feedback", data, content_type=content_type)
    return client.post(f"/api/v1/samples/{sample_id}/feedback", data, content_type=content_type)


def answer(sample, is_correct, correct_label=None, **extra):
    return {"sample_id": str(sample.pk), "is_correct": is_correct, "correct_label": correct_label, **extra}


@pytest.mark.parametrize("route", ROUTES)
def test_first_answer_creates_feedback_and_trail(client, make_sample, route):
    sample = make_sample(kind="digit", predicted="3")
    response = post(client, route, sample.pk, answer(sample, False, "8"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "saved"
    assert body["feedback"]["sample_id"] == str(sample.pk)
    assert (body["feedback"]["label"], body["feedback"]["is_correct"]) == ("8", False)
    feedback = Feedback.objects.get(pk=sample.pk)
    assert (feedback.is_correct, feedback.correct_label, feedback.status) == (False, "8", "new")
    submission = feedback.submissions.get()
    assert submission.channel == route
    assert len(submission.client_hash) == 64 and "127.0.0.1" not in submission.client_hash


@pytest.mark.parametrize("route", ROUTES)
def test_second_answer_updates_feedback_and_appends_to_trail(client, make_sample, route):
    sample = make_sample(kind="letter", predicted="a")
    post(client, route, sample.pk, answer(sample, True))
    response = post(client, route, sample.pk, answer(sample, False, "A"))
    assert response.status_code == 200
    feedback = Feedback.objects.get(pk=sample.pk)
    assert (feedback.is_correct, feedback.correct_label) == (False, "A")
    assert feedback.status == Feedback.Status.NEW
    trail = list(feedback.submissions.order_by("submitted").values_list("is_correct", "correct_label"))
    assert trail == [(True, ""), (False, "A")]
    assert Feedback.objects.count() == 1


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("status", ["verified", "rejected"])
def test_a_reviewed_answer_is_not_changed_by_answering_again(client, make_sample, route, status):
    """Issue 24.7: whoever holds a sample id cannot undo a reviewer's decision."""
    sample = make_sample(kind="letter", predicted="a")
    post(client, route, sample.pk, answer(sample, False, "A"))
    Feedback.objects.filter(pk=sample.pk).update(status=status)
    response = post(client, route, sample.pk, answer(sample, True))
    assert response.status_code == 409
    assert "already reviewed" in response.json()["error"]
    feedback = Feedback.objects.get(pk=sample.pk)
    assert (feedback.is_correct, feedback.correct_label, feedback.status) == (False, "A", status)
    assert feedback.submissions.count() == 1
    # The same answer again is no change: recorded in the trail, the review stands.
    response = post(client, route, sample.pk, answer(sample, False, "A"))
    assert response.status_code == 200 and response.json()["feedback"]["status"] == status
    assert feedback.submissions.count() == 2


@pytest.mark.parametrize("route", ROUTES)
def test_an_answer_on_a_challenge_drawing_is_the_persons_own(client, make_sample, route):
    """Issue 24.7: the origin says who gave the label; a person's answer is not the prompt's."""
    sample = make_sample(kind="digit", predicted="1")
    Feedback.objects.create(sample=sample, is_correct=False, correct_label="7",
                            origin=Feedback.Origin.PROMPT)
    response = post(client, route, sample.pk, answer(sample, False, "7"))
    assert response.status_code == 200
    feedback = Feedback.objects.get(pk=sample.pk)
    assert (feedback.origin, feedback.status, feedback.label) == ("answer", "new", "7")
    response = post(client, route, sample.pk, answer(sample, True))
    feedback.refresh_from_db()
    assert (feedback.origin, feedback.label) == ("answer", "1")


@pytest.mark.parametrize("route", ROUTES)
def test_prediction_fields_come_from_the_sample_not_the_client(client, make_sample, route):
    sample = make_sample(kind="digit", predicted="7", confidence=0.42)
    forged = answer(sample, True, predicted_label="1", confidence=0.99, model_version="forged")
    response = post(client, route, sample.pk, forged)
    assert response.status_code == 201
    assert response.json()["feedback"]["predicted_label"] == "7"
    assert response.json()["feedback"]["confidence"] == 0.42
    assert Feedback.objects.get(pk=sample.pk).label == "7"


def test_is_correct_true_may_repeat_the_predicted_label(client, make_sample):
    sample = make_sample(kind="any", predicted="x")
    response = post(client, "page", sample.pk, answer(sample, True, "x"))
    assert response.status_code == 201
    assert Feedback.objects.get(pk=sample.pk).correct_label == ""


BAD_REQUESTS = {
    "invalid sample id": (lambda s: answer(s, True) | {"sample_id": "not-a-uuid"}, 400),
    "unknown sample id": (lambda s: answer(s, True) | {"sample_id": str(uuid.uuid4())}, 404),
    "label outside the digit set": (lambda s: answer(s, False, "Q"), 400),
    "two characters": (lambda s: answer(s, False, "12"), 400),
    "no label when wrong": (lambda s: answer(s, False), 400),
    "empty label when wrong": (lambda s: answer(s, False, ""), 400),
    "label equal to the prediction when wrong": (lambda s: answer(s, False, "3"), 400),
    "other label when right": (lambda s: answer(s, True, "4"), 400),
    "is_correct not a boolean": (lambda s: answer(s, "yes", "4"), 400),
    "is_correct missing": (lambda s: {"sample_id": str(s.pk), "correct_label": "4"}, 400),
    "label not a string": (lambda s: answer(s, False, 4), 400),
    "malformed JSON": (lambda s: '{"sample_id": ', 400),
    "JSON array": (lambda s: json.dumps([answer(s, True)]), 400),
    "JSON string": (lambda s: json.dumps("yes"), 400),
    "not UTF-8": (lambda s: b"\xff\xfe{", 400),
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_bad_input_is_a_4xx_json_error_and_stores_nothing(client, make_sample, route, case):
    sample = make_sample(kind="digit", predicted="3")
    build, status = BAD_REQUESTS[case]
    body = build(sample)
    if route == "api" and case in ("invalid sample id", "unknown sample id"):
        response = post(client, route, body["sample_id"], {k: v for k, v in body.items() if k != "sample_id"})
    else:
        response = post(client, route, sample.pk, body)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]
    assert Feedback.objects.count() == 0
    assert FeedbackSubmission.objects.count() == 0


@pytest.mark.parametrize("route", ROUTES)
def test_wrong_content_type_is_415(client, make_sample, route):
    sample = make_sample()
    response = post(client, route, sample.pk, f"sample_id={sample.pk}&is_correct=true",
                    content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert "JSON" in response.json()["error"]
    assert Feedback.objects.count() == 0


def test_label_outside_the_set_lists_the_valid_labels(client, make_sample):
    sample = make_sample(kind="digit", predicted="3")
    response = post(client, "page", sample.pk, answer(sample, False, "Q"))
    assert response.json()["valid_labels"] == list("0123456789")


def test_api_refuses_a_body_naming_another_sample(client, make_sample):
    sample, other = make_sample(), make_sample()
    response = post(client, "api", sample.pk, answer(other, True))
    assert response.status_code == 400
    assert Feedback.objects.count() == 0


def test_page_route_needs_the_csrf_token_and_the_api_does_not(make_sample):
    sample = make_sample()
    browser = Client(enforce_csrf_checks=True)
    assert post(browser, "page", sample.pk, answer(sample, True)).status_code == 403
    assert Feedback.objects.count() == 0
    browser.get("/admin/login/")  # any page that sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    response = browser.post("/feedback", json.dumps(answer(sample, True)),
                            content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 201
    api_client = Client(enforce_csrf_checks=True)
    assert post(api_client, "api", sample.pk, answer(sample, False, "5")).status_code == 200


def test_page_route_only_accepts_post(client):
    assert client.get("/feedback").status_code == 405


def test_submissions_are_attributed_to_a_signed_in_user(admin_client, admin_user, make_sample):
    sample = make_sample()
    post(admin_client, "page", sample.pk, answer(sample, True))
    assert FeedbackSubmission.objects.get().user == admin_user


def test_api_documents_the_request_schema(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/samples/{sample_id}/feedback"]["post"]
    body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert {"sample_id", "is_correct", "correct_label"} <= set(body_schema["properties"])
