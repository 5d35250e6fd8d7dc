"""Challenge mode through its routes: prompts that balance the data, scoring, streaks, the
trust given to prompted drawings, and where they show up (admin filters, retrain's switch)."""
import json

import pytest
from django.urls import reverse

from challenge.services import SESSION_KEY, neediest_labels
from feedback.models import Feedback, Sample
from feedback.tests.conftest import make_sample, media_root  # noqa: F401 (fixtures)
from ml.retraining import usable_feedback
from recognition.tests.images import ONE, data_url, seven_png

pytestmark = pytest.mark.django_db


def ask(client, kind="digit"):
    response = client.post(f"/challenge/next?kind={kind}")
    assert response.status_code == 200, response.content
    return response.json()


def force_prompt(client, prompt):
    """Pretend the server asked for `prompt` (it picks among the neediest labels at random)."""
    session = client.session
    session[SESSION_KEY]["prompt"] = prompt
    session.save()


def draw(client, png):
    return client.post("/challenge/answer", json.dumps({"image": data_url(png)}),
                       content_type="application/json")


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


def test_a_plausible_drawing_scores_and_becomes_prompted_training_data(client, real_models):
    first = ask(client)
    assert first["prompt"] in "0123456789" and first["streak"] == 0
    force_prompt(client, "7")
    response = draw(client, seven_png())
    assert response.status_code == 200, response.content
    result = response.json()
    assert (result["prompt"], result["label"], result["right"], result["accepted"]) == ("7", "7", True, True)
    assert 50 <= result["score"] <= 100 and result["seconds"] >= 0
    assert (result["next"]["streak"], result["next"]["done"], result["next"]["points"]) == (1, 1, result["score"])
    assert result["next"]["prompt"] != "7"
    sample = Sample.objects.get(pk=result["sample_id"])
    assert (sample.prompt, sample.predicted_label, sample.source) == ("7", "7", "canvas")
    feedback = sample.feedback
    assert (feedback.origin, feedback.status, feedback.label) == ("prompt", "verified", "7")


def test_a_drawing_unlike_its_prompt_waits_for_a_reviewer(client, real_models):
    ask(client)
    force_prompt(client, "0")
    result = draw(client, seven_png(points=ONE)).json()
    assert (result["right"], result["accepted"], result["next"]["streak"]) == (False, False, 0)
    feedback = Feedback.objects.get(sample_id=result["sample_id"])
    assert (feedback.origin, feedback.status, feedback.label) == ("prompt", "new", "0")
    assert result["score"] < 5


def test_answer_without_a_prompt_and_bad_kind_are_refused(client, tiny_models):
    response = draw(client, seven_png())
    assert response.status_code == 409 and "no challenge in progress" in response.json()["error"]
    response = client.post("/challenge/next?kind=emoji")
    assert response.status_code == 400 and "unknown kind" in response.json()["error"]
    assert not Sample.objects.exists()


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
    pks = lambda **options: {f.pk for f in usable_feedback("digit", **options)}  # noqa: E731
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
    response = admin_client.get(reverse("admin:feedback_sample_changelist"), {"prompted": "yes"})
    assert {s.pk for s in response.context["cl"].result_list} == {rows["prompted"].pk, rows["prompted_unlike"].pk}
