"""Challenge mode: ask for a character, score the drawing, store it labelled by the prompt.

The prompts go where data is missing: the labels with the fewest verified samples and the
most confusions come first. Each drawing becomes a Sample (with `prompt`) and a Feedback of
origin "prompt": verified at once only when the model clearly reads the prompt (see
`clearly_the_prompt`), otherwise left "new" (not training data) until a reviewer verifies it,
so scribbles do not become labels.
The session keeps the current prompt (the server decides what was asked, and times it), the
streak and the progress.
"""
import random
import time

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Count, F, When

from feedback.models import Feedback, Sample
from recognition.kinds import LABELS
from recognition.services import RecognitionError, check_kind, recognize

SESSION_KEY = "challenge"
# Candidates a prompt is drawn from (the neediest labels), so the same one is not asked forever.
CANDIDATES = 5
# A confusion counts as this many missing verified samples, for both of its labels.
CONFUSION_WEIGHT = 3
# Prompts asked lately (skipped or drawn) that are not asked again yet.
RECENT = 4


def label_needs(kind):
    """How much each of `kind`'s labels needs data: verified samples, less confusions."""
    verified = dict(
        Feedback.objects.filter(sample__kind=kind, status=Feedback.Status.VERIFIED)
        .annotate(label=Case(When(is_correct=True, then=F("sample__predicted_label")),
                             default=F("correct_label")))
        .values_list("label").annotate(count=Count("pk"))
    )
    wrong = (Feedback.objects.filter(sample__kind=kind, is_correct=False)
             .exclude(status=Feedback.Status.REJECTED))
    confusions = {}
    for field in ("correct_label", "sample__predicted_label"):
        for label, count in wrong.values_list(field).annotate(count=Count("pk")):
            confusions[label] = confusions.get(label, 0) + count
    return {label: verified.get(label, 0) - CONFUSION_WEIGHT * confusions.get(label, 0)
            for label in LABELS[kind]}


def neediest_labels(kind):
    """`kind`'s labels, neediest first: fewest verified samples, most confusions."""
    need = label_needs(kind)
    return sorted(LABELS[kind], key=lambda label: (need[label], LABELS[kind].index(label)))


def choose_prompt(kind, recent=(), rng=random):
    """One of the neediest labels, none of the `recent` ones.

    Labels as needy as the CANDIDATES-th neediest are all candidates, so that on a fresh
    install (every label equally needy) any label of the kind can be asked, upper and lower case.
    """
    need = label_needs(kind)
    labels = [label for label in LABELS[kind] if label not in recent] or list(LABELS[kind])
    labels.sort(key=need.get)
    cutoff = need[labels[min(CANDIDATES, len(labels)) - 1]]
    return rng.choice([label for label in labels if need[label] <= cutoff])


def start(session, kind):
    """Ask for a new character of `kind`; keeps the streak and progress of the session."""
    check_kind(kind)
    state = session.get(SESSION_KEY) or {"streak": 0, "best_streak": 0, "done": 0, "points": 0}
    recent = [label for label in state.get("recent", [state.get("prompt")]) if label in LABELS[kind]]
    prompt = choose_prompt(kind, recent)
    state.update(kind=kind, prompt=prompt, asked_at=time.time(), recent=(recent + [prompt])[-RECENT:])
    session[SESSION_KEY] = state
    return public(state)


def public(state):
    return {key: state[key] for key in ("kind", "prompt", "streak", "best_streak", "done", "points")}


def clearly_the_prompt(prompt, top5, margin=None):
    """Evidence enough to accept a drawing as `prompt` without a reviewer: the model's best
    guess is the prompt, ahead of the next character by at least HWR_CHALLENGE_MIN_MARGIN.

    A letter and its other case ("o", "O") count as one guess: the prompt says which case was
    meant, and the drawing cannot. A low probability of the prompt is no evidence at all (one
    random scribble in ten got 5 % for the prompted letter).
    """
    margin = settings.HWR_CHALLENGE_MIN_MARGIN if margin is None else margin
    merged = {}
    for guess in top5:
        key = guess["label"].upper()
        merged[key] = merged.get(key, 0.0) + guess["probability"]
    ranked = sorted(merged.values(), reverse=True) + [0.0]
    best = max(merged, key=merged.get)
    return best == prompt.upper() and ranked[0] - ranked[1] >= margin


def answer(session, image, request_source=Sample.Source.CANVAS):
    """Score a drawing of the session's current prompt, store it, and ask for the next one."""
    state = session.get(SESSION_KEY)
    if not state or not state.get("prompt"):
        raise RecognitionError("no challenge in progress: ask for a character first", status=409)
    kind, prompt = state["kind"], state["prompt"]
    seconds = round(time.time() - state["asked_at"], 2)
    result = recognize(image, kind, request_source, prompt=prompt)
    probability = result["prompt_probability"]
    plausible = clearly_the_prompt(prompt, result["top5"])
    right = result["label"] == prompt
    with transaction.atomic():
        Feedback.objects.create(
            sample_id=result["sample_id"], origin=Feedback.Origin.PROMPT, is_correct=right,
            correct_label="" if right else prompt,
            status=Feedback.Status.VERIFIED if plausible else Feedback.Status.NEW,
        )
    score = round(100 * probability)
    state["streak"] = state["streak"] + 1 if right else 0
    state["best_streak"] = max(state["best_streak"], state["streak"])
    state["done"] += 1
    state["points"] += score
    session[SESSION_KEY] = state
    next_state = start(session, kind)
    return {
        "prompt": prompt, "label": result["label"], "right": right, "score": score,
        "seconds": seconds, "accepted": plausible, "sample_id": result["sample_id"],
        "normalized_image": result["normalized_image"], "next": next_state,
    }

