"""Challenge mode through its routes: scoring, streaks, progress and the trust given to
prompted drawings (the feedback side is in feedback/tests/test_prompted.py)."""
import json

import pytest

from challenge.services import SESSION_KEY
from feedback.models import Feedback, Sample
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
