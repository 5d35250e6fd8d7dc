"""The review queue's routes with a staff client: permissions, queues and their order,
decisions, a reviewer's own label, undo, counts and the shrunk images."""
import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image

from feedback.models import Feedback, ReviewDecision, Thumbnail
from recognition.models import Sample

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer(client, django_user_model):
    user = django_user_model.objects.create_user("reviewer", password="a-long-pass-phrase",
                                                 is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        codename__in=["change_feedback", "view_feedback", "view_sample"]))
    client.force_login(user)
    client.user = user
    return client


def items(client, queue, exclude=(), count=5):
    response = client.get(reverse("feedback:review_items"),
                          {"queue": queue, "exclude": ",".join(map(str, exclude)), "count": count})
    assert response.status_code == 200, response.content
    return response.json()


def decide(client, sample, action, label="", queue="corrections"):
    return client.post(reverse("feedback:review_decide"),
                       json.dumps({"sample_id": str(sample.pk), "action": action, "label": label,
                                   "queue": queue}), content_type="application/json")


def with_top(make_sample, predicted, first, second, **kwargs):
    sample = make_sample(predicted=predicted, confidence=first, **kwargs)
    sample.top5 = [{"label": predicted, "probability": first},
                   {"label": "8" if predicted != "8" else "9", "probability": second}]
    sample.margin = None
    sample.save()
    return sample


@pytest.fixture
def queues(make_sample):
    corrections = [Feedback.objects.create(sample=make_sample(predicted="1"), is_correct=False,
                                           correct_label="7") for _ in range(3)]
    confirmed = Feedback.objects.create(sample=make_sample(predicted="4"), is_correct=True)
    challenge = Feedback.objects.create(sample=make_sample(predicted="2"), is_correct=False,
                                        correct_label="3", origin=Feedback.Origin.PROMPT)
    done = Feedback.objects.create(sample=make_sample(predicted="5"), is_correct=True,
                                   status=Feedback.Status.VERIFIED)
    unlabelled = {
        "sure_3": with_top(make_sample, "3", 0.99, 0.005),
        "unsure_3": with_top(make_sample, "3", 0.40, 0.35),
        "unsure_3b": with_top(make_sample, "3", 0.42, 0.36),
        "unsure_6": with_top(make_sample, "6", 0.5, 0.3),
    }
    return {"corrections": corrections, "confirmed": confirmed, "challenge": challenge,
            "done": done, "unlabelled": unlabelled}


def test_the_page_needs_staff_with_the_change_permission(client, django_user_model, queues):
    page = reverse("feedback:review")
    response = client.get(page)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert client.get(reverse("feedback:review_items"), {"queue": "corrections"}).status_code == 403
    viewer = django_user_model.objects.create_user("viewer", password="a-long-pass-phrase",
                                                   is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_feedback"))
    client.force_login(viewer)
    assert client.get(page).status_code == 403
    response = decide(client, queues["corrections"][0].sample, "accept")
    assert response.status_code == 403 and "permission" in response.json()["error"]
    assert Feedback.objects.get(pk=queues["corrections"][0].pk).status == "new"


def test_page_lists_the_queues_with_counts(reviewer, queues):
    response = reviewer.get(reverse("feedback:review"), {"queue": "unlabelled"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Corrections waiting" in html and "Unlabelled, least sure first" in html
    assert response.context["counts"] == {"corrections": 3, "confirmed": 1, "challenge": 1,
                                          "words": 0, "unlabelled": 4}
    assert 'src="/static/feedback/review.js"' in html


def test_queues_hold_what_waits_and_nothing_decided(reviewer, queues):
    body = items(reviewer, "corrections")
    assert [item["sample_id"] for item in body["items"]] == [
        str(f.pk) for f in queues["corrections"]]  # first come, first served
    first = body["items"][0]
    assert (first["predicted"], first["feedback"]["label"], first["feedback"]["origin"]) == (
        "1", "7", "answer")
    assert first["normalized"].startswith("data:image/png;base64,")
    assert first["image"] == f"/review/image/{first['sample_id']}/320"
    assert [i["sample_id"] for i in items(reviewer, "confirmed")["items"]] == [str(queues["confirmed"].pk)]
    assert [i["sample_id"] for i in items(reviewer, "challenge")["items"]] == [str(queues["challenge"].pk)]
    held = [queues["corrections"][0].pk]
    assert len(items(reviewer, "corrections", exclude=held)["items"]) == 2


def test_unlabelled_come_least_sure_first_spread_over_labels(reviewer, queues):
    unlabelled = queues["unlabelled"]
    order = [item["sample_id"] for item in items(reviewer, "unlabelled")["items"]]
    # Least sure first, but a second "3" waits until the "6" had its turn.
    assert order == [str(unlabelled[name].pk) for name in ("unsure_3", "unsure_6", "unsure_3b", "sure_3")]


def test_accept_reject_and_label_are_stored_with_the_reviewer(reviewer, queues):
    first, second, third = queues["corrections"]
    assert decide(reviewer, first.sample, "accept").status_code == 200
    assert decide(reviewer, second.sample, "reject").status_code == 200
    response = decide(reviewer, third.sample, "label", "9")
    assert response.status_code == 200 and response.json()["counts"]["corrections"] == 0
    rows = {f.pk: f for f in Feedback.objects.filter(pk__in=[first.pk, second.pk, third.pk])}
    assert (rows[first.pk].status, rows[first.pk].label, rows[first.pk].origin) == ("verified", "7", "answer")
    assert rows[second.pk].status == "rejected"
    assert (rows[third.pk].status, rows[third.pk].label, rows[third.pk].origin) == ("verified", "9", "reviewer")
    assert {f.reviewed_by_id for f in rows.values()} == {reviewer.user.pk}
    assert ReviewDecision.objects.count() == 3


def test_a_reviewer_labels_a_sample_without_feedback(reviewer, queues):
    unlabelled = queues["unlabelled"]
    decide(reviewer, unlabelled["unsure_3"], "label", "8", queue="unlabelled")
    decide(reviewer, unlabelled["unsure_6"], "accept", queue="unlabelled")
    decide(reviewer, unlabelled["sure_3"], "reject", queue="unlabelled")
    labelled = Feedback.objects.get(pk=unlabelled["unsure_3"].pk)
    assert (labelled.origin, labelled.status, labelled.is_correct, labelled.label) == (
        "reviewer", "verified", False, "8")
    accepted = Feedback.objects.get(pk=unlabelled["unsure_6"].pk)
    assert (accepted.origin, accepted.status, accepted.is_correct, accepted.label) == (
        "reviewer", "verified", True, "6")
    assert Feedback.objects.get(pk=unlabelled["sure_3"].pk).status == "rejected"
    assert items(reviewer, "unlabelled")["counts"]["unlabelled"] == 1


def test_a_bad_label_or_request_is_refused_with_a_clear_error(reviewer, queues):
    sample = queues["corrections"][0].sample
    response = decide(reviewer, sample, "label", "x")
    assert response.status_code == 400 and "not a valid digit label" in response.json()["error"]
    response = decide(reviewer, sample, "label", "")
    assert response.status_code == 400
    response = decide(reviewer, sample, "shred")
    assert response.status_code == 400 and "unknown action" in response.json()["error"]
    response = reviewer.post(reverse("feedback:review_decide"), "[" * 1000,
                             content_type="application/json")
    assert response.status_code == 400
    assert reviewer.get(reverse("feedback:review_items"), {"queue": "all"}).status_code == 400
    assert Feedback.objects.get(pk=sample.pk).status == "new"


def test_undo_puts_back_what_was_there(reviewer, queues):
    correction = queues["corrections"][0]
    fresh = queues["unlabelled"]["unsure_3"]
    decide(reviewer, correction.sample, "label", "9")
    decide(reviewer, fresh, "accept", queue="unlabelled")
    response = reviewer.post(reverse("feedback:review_undo"))
    assert response.status_code == 200 and response.json()["item"]["sample_id"] == str(fresh.pk)
    assert not Feedback.objects.filter(pk=fresh.pk).exists(), "a reviewer's new feedback is removed"
    response = reviewer.post(reverse("feedback:review_undo"))
    assert response.json()["item"]["feedback"] == {"label": "7", "is_correct": False,
                                                   "origin": "answer", "status": "new"}
    restored = Feedback.objects.get(pk=correction.pk)
    assert (restored.status, restored.label, restored.origin, restored.reviewed_by) == (
        "new", "7", "answer", None)
    response = reviewer.post(reverse("feedback:review_undo"))
    assert response.status_code == 409 and response.json()["error"] == "nothing to undo"


def test_a_user_cannot_change_what_the_reviewer_decided(reviewer, queues, client):
    correction = queues["corrections"][0]
    decide(reviewer, correction.sample, "label", "9")
    anonymous = type(client)()
    response = anonymous.post(f"/api/v1/samples/{correction.pk}/feedback",
                              json.dumps({"is_correct": False, "correct_label": "7"}),
                              content_type="application/json")
    assert response.status_code == 409
    assert Feedback.objects.get(pk=correction.pk).label == "9"


def photo_sample(make_sample, size=(3000, 2000)):
    sample = make_sample()
    image = Image.effect_noise(size, 60).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    sample.image.save("photo.jpg", ContentFile(buffer.getvalue()))
    return sample, len(buffer.getvalue())


def test_images_are_shrunk_once_and_never_the_original(reviewer, make_sample, client):
    sample, original_bytes = photo_sample(make_sample)
    url = reverse("feedback:sample_image", args=[sample.pk, 64])
    response = reviewer.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert len(response.content) < 5000 < original_bytes
    with Image.open(io.BytesIO(response.content)) as thumbnail:
        assert max(thumbnail.size) == 64
    assert Thumbnail.objects.filter(sample=sample, size=64).count() == 1
    sample.image.delete(save=False)  # made once: served from the table from now on
    assert reviewer.get(url).content == response.content
    preview = reviewer.get(reverse("feedback:sample_image", args=[sample.pk, 320]))
    assert preview.status_code == 200 and len(preview.content) < 60_000
    assert reviewer.get(reverse("feedback:sample_image", args=[sample.pk, 1000])).status_code == 404
    reviewer.logout()
    assert reviewer.get(url).status_code == 403


def test_margin_is_stored_for_every_way_samples_are_made(make_sample):
    sample = with_top(make_sample, "3", 0.6, 0.25)
    assert sample.margin == pytest.approx(0.35)
    twin = Sample(kind="digit", source="api", image_sha256="0", normalized_png=b"",
                  predicted_label="1", confidence=0.5, top5=[{"label": "1", "probability": 0.5}],
                  model_name="m", model_version="1")
    Sample.objects.bulk_create([twin])
    assert Sample.objects.get(pk=twin.pk).margin == pytest.approx(0.5)


def test_known_items_are_mixed_in_and_score_the_reviewer(reviewer, queues, settings, admin_client):
    from feedback.services import reviewer_accuracy

    known = queues["done"]  # verified: predicted 5, label 5
    response = admin_client.post(reverse("admin:feedback_feedback_changelist"), {
        "action": "make_gold", "_selected_action": [str(known.pk), str(queues["confirmed"].pk)]})
    assert response.status_code == 302
    gold_ids = list(Feedback.objects.filter(sample__gold__isnull=False).values_list("pk", flat=True))
    assert gold_ids == [known.pk], "only verified feedback becomes a known item"

    # Off by default: the queue holds only what waits.
    first = queues["corrections"][0]
    assert str(known.pk) not in {i["sample_id"] for i in items(reviewer, "corrections")["items"]}
    settings.HWR_REVIEW_GOLD_EVERY = 1
    assert str(known.pk) not in {i["sample_id"] for i in items(reviewer, "corrections")["items"]}
    decide(reviewer, first.sample, "accept")
    served = items(reviewer, "corrections")["items"]
    assert served[0]["sample_id"] == str(known.pk)
    assert served[0]["feedback"] is None, "the known answer is not shown"
    assert decide(reviewer, known.sample, "label", "6").status_code == 200
    stored = Feedback.objects.get(pk=known.pk)
    assert (stored.status, stored.label, stored.origin) == ("verified", "5", "answer")
    assert reviewer_accuracy() == [{"reviewer": "reviewer", "answered": 1, "right": 0, "accuracy": 0.0}]
    # Answered once: it is not asked again of this reviewer; undo strikes the answer.
    decide(reviewer, queues["corrections"][1].sample, "accept")
    assert str(known.pk) not in {i["sample_id"] for i in items(reviewer, "corrections")["items"]}
    reviewer.post(reverse("feedback:review_undo"))
    reviewer.post(reverse("feedback:review_undo"))
    assert reviewer_accuracy() == []
    assert Feedback.objects.get(pk=known.pk).status == "verified"
    decide(reviewer, known.sample, "accept")
    assert reviewer_accuracy()[0]["accuracy"] == 100.0
    summary = admin_client.get(reverse("admin:feedback_feedbacksummary_changelist")).content.decode()
    assert "Reviewers on known (gold) items" in summary
