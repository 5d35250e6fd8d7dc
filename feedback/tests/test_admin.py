"""Admin review with a staff client: list, filters, search, actions, dataset export, summary."""
import csv
import io
import zipfile

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from feedback.models import Feedback, FeedbackSubmission
from feedback.services import DATASET_CLASSES, normalized_array

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:feedback_feedback_changelist")


@pytest.fixture
def reviewed(make_sample):
    """A mix of kinds, sources, versions, confidences, answers and review states."""
    rows = {
        "digit_right": Feedback.objects.create(
            sample=make_sample(kind="digit", predicted="4", confidence=0.95, model_version="1.0"),
            is_correct=True),
        "digit_wrong": Feedback.objects.create(
            sample=make_sample(kind="digit", predicted="1", confidence=0.45, source="upload",
                               model_version="1.0"),
            is_correct=False, correct_label="7", status=Feedback.Status.VERIFIED),
        "digit_wrong_again": Feedback.objects.create(
            sample=make_sample(kind="digit", predicted="1", confidence=0.6, model_version="2.0"),
            is_correct=False, correct_label="7"),
        "letter_case": Feedback.objects.create(
            sample=make_sample(kind="letter", predicted="a", confidence=0.7, source="api", model_version="2.0"),
            is_correct=False, correct_label="A"),
        "any_rejected": Feedback.objects.create(
            sample=make_sample(kind="any", predicted="0", confidence=0.3, model_version="2.0"),
            is_correct=False, correct_label="O", status=Feedback.Status.REJECTED),
    }
    Feedback.objects.filter(pk=rows["digit_right"].pk).update(synced_at=timezone.now())
    return rows


def listed(admin_client, **params):
    response = admin_client.get(CHANGELIST, params)
    assert response.status_code == 200
    return {str(feedback.pk) for feedback in response.context["cl"].result_list}


def ids(*feedbacks):
    return {str(feedback.pk) for feedback in feedbacks}


def test_list_shows_thumbnails_labels_and_review_columns(admin_client, reviewed):
    response = admin_client.get(CHANGELIST)
    html = response.content.decode()
    assert html.count('src="data:image/png;base64,') == len(reviewed)
    sample = reviewed["letter_case"].sample
    assert f'src="/review/image/{sample.pk}/64"' in html, "a small copy, never the original"
    assert sample.image.url not in html
    for column in ("short_id", "original", "normalized", "predicted", "corrected", "confidence", "kind",
                   "model_version", "status", "origin", "synced"):
        assert f'class="sortable column-{column}' in html or f'class="column-{column}' in html, column


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"status": "verified"}, ["digit_wrong"]),
        ({"is_correct__exact": "1"}, ["digit_right"]),
        ({"sample__kind": "letter"}, ["letter_case"]),
        ({"sample__source": "upload"}, ["digit_wrong"]),
        ({"sample__model_version": "1.0"}, ["digit_right", "digit_wrong"]),
        ({"confidence": "low"}, ["digit_wrong", "any_rejected"]),
        ({"confidence": "high"}, ["digit_right"]),
        ({"synced": "yes"}, ["digit_right"]),
        ({"synced": "no"}, ["digit_wrong", "digit_wrong_again", "letter_case", "any_rejected"]),
        ({"sample__predicted_label": "1"}, ["digit_wrong", "digit_wrong_again"]),
        ({"correct_label": "A"}, ["letter_case"]),
    ],
)
def test_filters(admin_client, reviewed, params, expected):
    assert listed(admin_client, **params) == ids(*(reviewed[name] for name in expected))


def test_search_by_label_is_case_sensitive(admin_client, reviewed):
    assert listed(admin_client, q="A") == ids(reviewed["letter_case"])
    assert listed(admin_client, q="a") == ids(reviewed["letter_case"])  # the predicted "a"
    assert listed(admin_client, q="7") == ids(reviewed["digit_wrong"], reviewed["digit_wrong_again"])
    assert listed(admin_client, q="O") == ids(reviewed["any_rejected"])
    assert listed(admin_client, q="o") == set()


def run_action(admin_client, action, *feedbacks):
    return admin_client.post(
        CHANGELIST, {"action": action, "_selected_action": [str(f.pk) for f in feedbacks]}, follow=True
    )


def test_verify_and_reject_actions_change_status_and_queue_a_sync(admin_client, reviewed):
    synced = reviewed["digit_right"]
    run_action(admin_client, "verify", synced, reviewed["letter_case"])
    assert set(Feedback.objects.filter(status="verified").values_list("pk", flat=True)) == {
        synced.pk, reviewed["letter_case"].pk, reviewed["digit_wrong"].pk}
    assert listed(admin_client, synced="yes") == set(), "a review decision must reach the sheet"
    run_action(admin_client, "reject", reviewed["digit_wrong"])
    assert Feedback.objects.get(pk=reviewed["digit_wrong"].pk).status == "rejected"


def test_resync_action_marks_rows_for_the_next_sync(admin_client, reviewed):
    run_action(admin_client, "resync", reviewed["digit_right"])
    assert Feedback.objects.get(pk=reviewed["digit_right"].pk).synced_at is None


def test_export_dataset_is_an_mnist_layout_npz_with_pngs(admin_client, reviewed):
    chosen = [reviewed[name] for name in ("digit_right", "digit_wrong", "letter_case", "any_rejected")]
    choices = run_action(admin_client, "export_dataset", *chosen)
    assert "Include answers not yet reviewed" in choices.content.decode()
    response = admin_client.post(CHANGELIST, {
        "action": "export_dataset", "_selected_action": [str(f.pk) for f in chosen],
        "export": "yes", "include_unreviewed": "on"})
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        with np.load(io.BytesIO(archive.read("dataset.npz"))) as data:
            images, classes, names = data["x_train"], data["y_train"], list(data["classes"])
        table = list(csv.DictReader(io.StringIO(archive.read("labels.csv").decode())))
        pngs = [name for name in archive.namelist() if name.endswith(".png")]
    kept = [f for f in chosen if f.status != Feedback.Status.REJECTED]
    assert images.shape == (len(kept), 28, 28) and images.dtype == np.uint8
    assert classes.dtype == np.uint8 and names == DATASET_CLASSES
    assert len(pngs) == len(table) == len(kept)
    by_sample = {row["sample_id"]: (index, row) for index, row in enumerate(table)}
    for feedback in kept:
        index, row = by_sample[str(feedback.pk)]
        assert row["label"] == feedback.label == names[classes[index]]
        assert np.array_equal(images[index], normalized_array(feedback.sample))


def test_summary_page_is_linked_from_the_index_and_counts(admin_client, reviewed):
    index = admin_client.get(reverse("admin:index")).content.decode()
    summary_url = reverse("admin:feedback_feedbacksummary_changelist")
    assert summary_url in index
    response = admin_client.get(summary_url)
    assert response.status_code == 200
    summary = response.context["summary"]
    digit = next(row for row in summary["per_kind"] if row["kind"] == "digit")
    assert digit["total"] == 3
    assert dict(zip(summary["statuses"], digit["counts"])) == {"new": 2, "verified": 1, "rejected": 0}
    version_1 = next(row for row in summary["per_version"] if (row["kind"], row["version"]) == ("digit", "1.0"))
    assert (version_1["total"], version_1["right"], version_1["accuracy"]) == (2, 1, 50.0)
    top = summary["confusions"][0]
    assert (top["predicted"], top["correct"], top["count"]) == ("1", "7", 2)
    assert all(row["correct"] != "O" for row in summary["confusions"]), "rejected feedback is left out"
    assert "Most common confusions" in response.content.decode()


def test_change_page_shows_the_audit_trail_and_validates_the_label(admin_client, reviewed, client, make_sample):
    feedback = reviewed["digit_wrong_again"]
    FeedbackSubmission.objects.create(feedback=feedback, is_correct=False, correct_label="7",
                                      channel="page", client_hash="0" * 64)
    url = reverse("admin:feedback_feedback_change", args=[feedback.pk])
    page = admin_client.get(url)
    assert page.status_code == 200 and "0" * 64 in page.content.decode()
    form = {"is_correct": "", "correct_label": "Q", "status": "new", "reviewer_notes": "",
            "submissions-TOTAL_FORMS": "1", "submissions-INITIAL_FORMS": "1",
            "submissions-MIN_NUM_FORMS": "0", "submissions-MAX_NUM_FORMS": "1000",
            "submissions-0-id": str(feedback.submissions.get().pk), "submissions-0-feedback": str(feedback.pk)}
    response = admin_client.post(url, form)
    assert response.status_code == 200 and "not a valid digit label" in response.content.decode()
    assert Feedback.objects.get(pk=feedback.pk).correct_label == "7"
    response = admin_client.post(url, {**form, "correct_label": "9", "reviewer_notes": "looks like a 9"})
    assert response.status_code == 302
    assert Feedback.objects.get(pk=feedback.pk).correct_label == "9"


def test_sample_admin_lists_samples_without_feedback(admin_client, reviewed, make_sample):
    lonely = make_sample()
    response = admin_client.get(reverse("admin:recognition_sample_changelist"), {"feedback__isempty": "1"})
    assert [str(s.pk) for s in response.context["cl"].result_list] == [str(lonely.pk)]


def test_non_staff_cannot_reach_the_review(client, reviewed):
    response = client.get(CHANGELIST)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_summary_page_without_feedback(admin_client):
    response = admin_client.get(reverse("admin:feedback_feedbacksummary_changelist"))
    assert response.status_code == 200
    assert response.context["summary"]["per_kind"] == []
    assert "No feedback yet." in response.content.decode()


def test_view_only_staff_can_look_but_not_review(client, django_user_model, reviewed):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="a-long-pass-phrase",
                                                 is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_feedback", "view_sample"]))
    client.force_login(user)
    assert client.get(CHANGELIST).status_code == 200
    pending = reviewed["digit_wrong_again"]
    for action in ("verify", "reject", "resync"):
        run_action(client, action, pending, reviewed["digit_right"])
    assert Feedback.objects.get(pk=pending.pk).status == "new"
    assert Feedback.objects.get(pk=reviewed["digit_right"].pk).synced_at is not None
    change = reverse("admin:feedback_feedback_change", args=[pending.pk])
    client.post(change, {"is_correct": "", "correct_label": "9", "status": "verified"})
    assert Feedback.objects.get(pk=pending.pk).status == "new"


def test_sample_and_feedback_pages_show_top_k_as_a_table_and_a_small_image(admin_client, reviewed):
    sample = reviewed["letter_case"].sample
    for url in (reverse("admin:recognition_sample_change", args=[sample.pk]),
                reverse("admin:feedback_feedback_change", args=[sample.pk])):
        html = admin_client.get(url).content.decode()
        assert "<th>label</th><th>probability</th>" in html and "<td>a</td><td>70.0 %</td>" in html
        assert f'src="/review/image/{sample.pk}/320"' in html
        assert f'src="{sample.image.url}"' not in html  # only linked, as "original file"
