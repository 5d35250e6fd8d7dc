"""One definition of a training label and of "pending sync" (`FeedbackQuerySet`): the queryset
methods on real rows, and every place that reads them agreeing (retrain and the admin's
dataset export above all)."""
import csv
import io
import itertools
import zipfile
from datetime import timedelta

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from feedback import services
from feedback.models import Feedback, WordFeedback
from feedback.training import usable_feedback

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:feedback_feedback_changelist")
# Retrain's options, every combination.
OPTIONS = [dict(include_unreviewed=unreviewed, include_prompted=prompted)
           for unreviewed, prompted in itertools.product([False, True], repeat=2)]
STATUSES = list(Feedback.Status)
ORIGINS = list(Feedback.Origin)
# A prediction and a different valid label of each kind.
LABELS = {"digit": ("3", "5"), "letter": ("a", "b"), "any": ("Q", "7")}


@pytest.fixture
def every_state(make_sample):
    """Feedback of every kind in every status and origin, right and corrected."""
    rows = []
    for kind, status, origin, is_correct in itertools.product(LABELS, STATUSES, ORIGINS, [True, False]):
        predicted, other = LABELS[kind]
        rows.append(Feedback.objects.create(
            sample=make_sample(kind=kind, predicted=predicted), is_correct=is_correct,
            correct_label="" if is_correct else other, status=status, origin=origin))
    return rows


def expected(rows, kind=None, include_unreviewed=False, include_prompted=False):
    """The rule, written out against the rows' own fields."""
    statuses = {Feedback.Status.VERIFIED} | ({Feedback.Status.NEW} if include_unreviewed else set())
    return {row.pk for row in rows
            if row.status in statuses and (include_prompted or row.origin != Feedback.Origin.PROMPT)
            and kind in (None, row.sample.kind)}


@pytest.mark.parametrize("options", OPTIONS, ids=str)
@pytest.mark.parametrize("kind", [None, *LABELS])
def test_training_labels_follow_the_rule_for_every_kind_and_option(every_state, kind, options):
    chosen = set(Feedback.objects.training_labels(kind, **options).values_list("pk", flat=True))
    assert chosen == expected(every_state, kind, **options)
    assert chosen, "every combination takes some rows"


def test_training_labels_never_take_rejected_feedback_and_default_to_verified_answers(every_state):
    taken = Feedback.objects.training_labels(None, include_unreviewed=True, include_prompted=True)
    assert not taken.filter(status=Feedback.Status.REJECTED).exists()
    default = Feedback.objects.training_labels(None)
    assert set(default.values_list("status", flat=True)) == {Feedback.Status.VERIFIED}
    assert set(default.values_list("origin", flat=True)) == {Feedback.Origin.ANSWER,
                                                              Feedback.Origin.REVIEWER}


def test_training_labels_narrow_a_queryset_they_are_given(every_state):
    letters = Feedback.objects.filter(sample__kind="letter")
    assert set(letters.training_labels(None).values_list("pk", flat=True)) == expected(
        every_state, "letter")


def test_confusions_are_corrections_not_rejected(every_state):
    chosen = set(Feedback.objects.confusions("digit").values_list("pk", flat=True))
    assert chosen == {row.pk for row in every_state if row.sample.kind == "digit"
                      and not row.is_correct and row.status != Feedback.Status.REJECTED}


def exported(admin_client, feedbacks, include_unreviewed=False, include_prompted=False):
    """Sample ids in the admin export's labels.csv, in its order, and the archive's arrays."""
    form = {"action": "export_dataset", "export": "yes",
            "_selected_action": [str(feedback.pk) for feedback in feedbacks]}
    form.update({name: "on" for name, on in [("include_unreviewed", include_unreviewed),
                                              ("include_prompted", include_prompted)] if on})
    response = admin_client.post(CHANGELIST, form)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        table = list(csv.DictReader(io.StringIO(archive.read("labels.csv").decode())))
        with np.load(io.BytesIO(archive.read("dataset.npz"))) as data:
            classes, names = data["y_train"], list(data["classes"])
    assert [names[index] for index in classes] == [row["label"] for row in table]
    return [(row["kind"], row["sample_id"], row["label"]) for row in table]


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_admin_export_and_retrain_select_the_same_samples(admin_client, every_state, options):
    rows = exported(admin_client, every_state, **options)
    for kind in LABELS:
        retrain = [(kind, str(feedback.sample_id), feedback.label)
                   for feedback in usable_feedback(kind, **options)]
        assert [row for row in rows if row[0] == kind] == retrain, kind
    assert {sample_id for _, sample_id, _ in rows} == {
        str(pk) for pk in expected(every_state, **options)}


def test_admin_export_defaults_to_what_retrain_takes_by_default(admin_client, every_state):
    rows = exported(admin_client, every_state)
    assert {sample_id for _, sample_id, _ in rows} == {
        str(feedback.sample_id) for kind in LABELS for feedback in usable_feedback(kind, False)}


def test_export_page_offers_retrains_choices_with_their_counts_and_its_default(admin_client,
                                                                               every_state):
    selected = [feedback for feedback in every_state if feedback.sample.kind == "digit"]
    response = admin_client.post(CHANGELIST, {"action": "export_dataset",
                                              "_selected_action": [str(f.pk) for f in selected]})
    assert response.status_code == 200 and "application/zip" not in response["Content-Type"]
    choices = response.context["choices"]
    assert choices["selected"] == len(selected)
    assert choices["rejected"] == sum(f.status == Feedback.Status.REJECTED for f in selected)
    for choice in choices["choices"]:
        options = {name: choice[name] for name in ("include_unreviewed", "include_prompted")}
        assert choice["count"] == len(expected(selected, **options))
    assert [choice["options"] for choice in choices["choices"]] == [
        [], ["--include-unreviewed"], ["--include-prompted"],
        ["--include-unreviewed", "--include-prompted"]]
    html = response.content.decode()
    assert 'name="include_unreviewed">' in html and 'name="include_prompted">' in html, \
        "both unticked: the default is retrain's"
    assert html.count('name="_selected_action"') == len(selected)


def test_export_of_every_row_filtered_across_pages(admin_client, every_state):
    """"Select all" on a filtered list exports the filter's rows, beyond the page shown."""
    form = {"action": "export_dataset", "export": "yes", "index": "0", "select_across": "1",
            "_selected_action": [str(every_state[0].pk)], "include_unreviewed": "on"}
    response = admin_client.post(f"{CHANGELIST}?sample__kind=letter", form)
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        table = list(csv.DictReader(io.StringIO(archive.read("labels.csv").decode())))
    assert {row["sample_id"] for row in table} == {
        str(pk) for pk in expected(every_state, "letter", include_unreviewed=True)}


def test_summary_counts_the_training_labels_retrain_takes_by_default(admin_client, every_state):
    summary = admin_client.get(reverse("admin:feedback_feedbacksummary_changelist")).context["summary"]
    for row in summary["per_kind"]:
        assert row["training"] == usable_feedback(row["kind"], False).count()
    confused = sum(row["count"] for row in summary["confusions"])
    assert confused == Feedback.objects.confusions(None).count()


@pytest.mark.parametrize("model", ["feedback", "word"])
def test_pending_sync_is_never_synced_or_changed_since(make_sample, make_word, model):
    if model == "feedback":
        rows = [Feedback.objects.create(sample=make_sample(), is_correct=True) for _ in range(3)]
    else:
        rows = [WordFeedback.objects.create(word=make_word(), is_correct=True) for _ in range(3)]
    manager = type(rows[0]).objects
    never, unchanged, changed = rows
    now = timezone.now()
    manager.filter(pk=unchanged.pk).update(synced_at=now + timedelta(seconds=1))
    manager.filter(pk=changed.pk).update(synced_at=now - timedelta(days=1))
    assert set(manager.pending_sync().values_list("pk", flat=True)) == {never.pk, changed.pk}
    assert set(manager.synced().values_list("pk", flat=True)) == {unchanged.pk}
    assert {row.pk for row in manager.all() if row.is_pending_sync} == {never.pk, changed.pk}
    services.mark_for_resync(manager.filter(pk=unchanged.pk))
    assert not manager.synced().exists()
