"""manage.py retrain: feedback from a population the model is weak on makes it better for them,
never worse for everyone else; a poisoned feedback set is refused; too little data changes nothing.
"""

import pytest
from django.core.management import call_command

from feedback.models import Feedback
from feedback.services import set_status
from ml import retraining
from ml.architectures import load_served, network_of
from ml.models import ModelVersion
from testing.simulation import (
    give_verified_feedback, served_accuracy, slanted_digits, split_by_writer)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

FEEDBACK_SAMPLES = 400
# The tests that take the `population` (every UNIPEN-test digit, slanted) are marked `datasets`.


@pytest.fixture(scope="module")
def population():
    return split_by_writer(slanted_digits())


@pytest.fixture
def served_digit_model(retrainable):
    return retrainable("digit")


@pytest.mark.datasets
def test_retrain_adapts_to_a_new_population_and_is_served_without_restart(
        client, served_digit_model, population):
    feedback_pool, unseen = population
    give_verified_feedback(client, feedback_pool[:FEEDBACK_SAMPLES])
    before, versions_before = served_accuracy(client, unseen)
    assert versions_before == [served_digit_model.version]

    call_command("retrain", "--model", "digit")

    candidate = ModelVersion.objects.get(name="digit", is_active=True)
    assert candidate.parent_id == served_digit_model.pk
    drop = (candidate.metrics["standard_test"]["active"]
            - candidate.metrics["standard_test"]["candidate"]) * 100
    assert drop <= 0.2
    after, versions_after = served_accuracy(client, unseen)
    assert versions_after == [candidate.version]  # picked up by the running app
    assert (after - before) * 100 >= 5, (before, after)
    assert (served_digit_model.bundle_dir / "model.tflite").is_file()
    # The fine-tuned network is served as its parent was, voting over turned copies.
    served = load_served(candidate.bundle_dir / "model.keras")
    assert network_of(served) is not served


@pytest.mark.datasets
def test_gate_refuses_poisoned_feedback(client, served_digit_model, population):
    feedback_pool, _ = population
    give_verified_feedback(client, feedback_pool[:FEEDBACK_SAMPLES], shuffle_labels=True)

    call_command("retrain", "--model", "digit")

    assert ModelVersion.objects.get(name="digit", is_active=True).pk == served_digit_model.pk
    refused = ModelVersion.objects.get(name="digit", is_active=False)
    assert refused.notes.startswith("kept inactive")


@pytest.mark.datasets
def test_too_few_samples_changes_nothing(client, served_digit_model, population, capsys):
    give_verified_feedback(client, population[0][:5])
    call_command("retrain", "--model", "digit", "--min-samples", "20")
    assert "5 usable feedback samples" in capsys.readouterr().out
    assert list(ModelVersion.objects.filter(name="digit")) == [served_digit_model]


@pytest.mark.datasets
def test_dry_run_registers_and_keeps_nothing(client, served_digit_model, population, settings):
    give_verified_feedback(client, population[0][:40])
    call_command("retrain", "--model", "digit", "--dry-run", "--epochs", "1",
                 "--test-limit", "500")
    assert list(ModelVersion.objects.filter(name="digit")) == [served_digit_model]
    assert not any(p.is_dir() for p in (settings.HWR_MODELS_DIR / "digit").iterdir())


@pytest.mark.datasets
def test_rejected_and_unreviewed_feedback_is_left_out(client, served_digit_model, population,
                                                      capsys):
    give_verified_feedback(client, population[0][:30])
    feedbacks = list(Feedback.objects.order_by("pk"))
    set_status(Feedback.objects.filter(pk__in=[f.pk for f in feedbacks[:20]]),
               Feedback.Status.REJECTED)
    set_status(Feedback.objects.filter(pk__in=[f.pk for f in feedbacks[20:]]),
               Feedback.Status.NEW)
    call_command("retrain", "--model", "digit", "--min-samples", "11")
    assert "0 usable feedback samples" in capsys.readouterr().out
    call_command("retrain", "--model", "digit", "--min-samples", "11", "--include-unreviewed")
    assert "10 usable feedback samples" in capsys.readouterr().out


@pytest.mark.parametrize("fixed, broken, significance, refused", [
    (30, 3, 0.05, False),  # a real gain
    (6, 5, 0.05, True),  # not lower, but a coin could do as well: poisoned-looking
    (6, 5, 1.0, False),  # the check turned off: "not lower" is enough
    (0, 0, 0.05, True),  # the same answers: no evidence of a gain
])
def test_gate_requires_a_gain_that_is_not_luck(fixed, broken, significance, refused):
    holdout_count = 100
    active = 0.5
    metrics = {
        "feedback_holdout": {"count": holdout_count, "active": active,
                             "candidate": active + (fixed - broken) / holdout_count,
                             "fixed": fixed, "broken": broken},
        "standard_test": {"count": 1000, "active": 0.99, "candidate": 0.99, "fixed": 0,
                          "broken": 0},
    }
    reasons = retraining.gate(metrics, retraining.Options(significance=significance))
    assert bool(reasons) == refused
    if refused:
        assert "sign test" in reasons[0]


def test_a_model_family_no_app_provides_feedback_for_is_a_clear_error():
    from ml import feedback_source

    assert feedback_source.loader(feedback_source.TEXT).__name__ == "load_word_feedback"
    with pytest.raises(feedback_source.NoFeedbackSource, match="no installed app provides shapes"):
        feedback_source.loader("shapes")
