"""Prompted (challenge) samples on the feedback side: what the next prompt is, where prompted
samples show up in the admin, and retrain's switch for them."""
import pytest
from django.urls import reverse

from challenge.services import neediest_labels
from feedback.models import Feedback
from feedback.training import usable_feedback
from recognition.models import Sample

pytestmark = pytest.mark.django_db


def test_neediest_labels_come_first(make_sample):
    for label in "0123456789":
        if label != "3":
            for _ in range(4):
                Feedback.objects.create(sample=make_sample(predicted=label), is_correct=True,
                                        status=Feedback.Status.VERIFIED)
    # A confusion 1 -> 7 (not yet reviewed) makes both labels needier than their peers.
    Feedback.objects.create(sample=make_sample(predicted="1"), is_correct=False, correct_label="7")
    order = neediest_labels("digit")
    assert order[0] == "3"  # never verified
    assert set(order[1:3]) == {"1", "7"}


def prompted_and_corrected(make_sample):
    return {
        "prompted": Feedback.objects.create(
            sample=make_sample(predicted="4"), is_correct=False, correct_label="9",
            origin=Feedback.Origin.PROMPT, status=Feedback.Status.VERIFIED),
        "prompted_unlike": Feedback.objects.create(
            sample=make_sample(predicted="1"), is_correct=False, correct_label="8",
            origin=Feedback.Origin.PROMPT),
        "corrected": Feedback.objects.create(
            sample=make_sample(predicted="4"), is_correct=False, correct_label="9",
            status=Feedback.Status.VERIFIED),
    }


def test_retrain_takes_prompted_samples_only_behind_its_switch(make_sample):
    rows = prompted_and_corrected(make_sample)
    def pks(**options):
        return {f.pk for f in usable_feedback("digit", **options)}

    assert pks(include_unreviewed=False) == {rows["corrected"].pk}
    assert pks(include_unreviewed=False, include_prompted=True) == {rows["corrected"].pk, rows["prompted"].pk}
    assert pks(include_unreviewed=True, include_prompted=True) == {f.pk for f in rows.values()}


def test_admin_filters_prompted_samples(admin_client, make_sample):
    rows = prompted_and_corrected(make_sample)
    Sample.objects.filter(pk__in=[rows["prompted"].pk, rows["prompted_unlike"].pk]).update(prompt="9")
    feedback_list = reverse("admin:feedback_feedback_changelist")
    for params, expected in [({"origin": "prompt"}, {"prompted", "prompted_unlike"}),
                             ({"prompted": "yes"}, {"prompted", "prompted_unlike"}),
                             ({"prompted": "no"}, {"corrected"})]:
        response = admin_client.get(feedback_list, params)
        assert {f.pk for f in response.context["cl"].result_list} == {rows[k].pk for k in expected}
    response = admin_client.get(reverse("admin:recognition_sample_changelist"), {"prompted": "yes"})
    assert {s.pk for s in response.context["cl"].result_list} == {rows["prompted"].pk, rows["prompted_unlike"].pk}
