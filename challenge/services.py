"""Challenge mode: ask for a character, score the drawing, store it labelled by the prompt.

The prompts go where data is missing: the labels with the fewest verified samples and the
most confusions come first. Each drawing becomes a Sample (with `prompt`) and a Feedback of
origin "prompt": verified at once only when the model clearly reads the prompt (see
`clearly_the_prompt`), otherwise left "new" (not training data) until a reviewer verifies it,
so scribbles do not become labels.

The challenge keeps no state on the server between requests (a session row per visitor would let
anyone fill the sessions table by calling /challenge/next in a loop): the current prompt, when it
was asked, the streak and the progress travel in a token the server signs (`sign_token`) and the
page sends back. The server still decides what was asked and times it, since the page cannot
change a signed token; each prompt names the id of the Sample its answer will be, so one prompt
stores at most one drawing however often its token is sent.
"""
import random
import time
import uuid

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, F, When

from feedback.models import Feedback
from ml.kinds import LABELS
from recognition.models import Sample
from recognition.services import RecognitionError, check_kind, recognize

TOKEN_SALT = "challenge.token"
# A prompt is scored only this long after it was asked; the page then asks for a new one.
ANSWER_WITHIN_SECONDS = 3600
# Candidates a prompt is drawn from (the neediest labels), so the same one is not asked forever.
CANDIDATES = 5
# A confusion counts as this many missing verified samples, for both of its labels.
CONFUSION_WEIGHT = 3
# Prompts asked lately (skipped or drawn) that are not asked again yet.
RECENT = 4


def label_needs(kind):
    """How much each of `kind`'s labels needs data: verified samples, less confusions.

    The verified samples are the training labels `retrain --include-prompted` takes: the
    challenge's own verified drawings count, or drawing a label would never make it less needy.
    """
    verified = dict(
        Feedback.objects.training_labels(kind, include_prompted=True)
        .annotate(label=Case(When(is_correct=True, then=F("sample__predicted_label")),
                             default=F("correct_label")))
        .values_list("label").annotate(count=Count("pk"))
    )
    wrong = Feedback.objects.confusions(kind)
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


def sign_token(state):
    """The challenge state as a token the page keeps and sends back (readable, not changeable)."""
    return signing.dumps(state, salt=TOKEN_SALT, compress=True)


def read_token(token):
    """The state `sign_token` signed; raises signing.BadSignature for anything else."""
    return signing.loads(token, salt=TOKEN_SALT)


def start(token, kind):
    """Ask for a new character of `kind`; keeps the streak and progress of `token`, if any.

    A token that does not verify (none, or one signed with another key) starts a new round:
    asking for a character needs no state.
    """
    check_kind(kind)
    try:
        state = read_token(token) if token else None
    except signing.BadSignature:
        state = None
    return ask(state or {"streak": 0, "best_streak": 0, "done": 0, "points": 0}, kind)


def ask(state, kind):
    """Choose the next prompt of `kind` (none of the recent ones) and sign the new state."""
    recent = [label for label in state.get("recent", []) if label in LABELS[kind]]
    prompt = choose_prompt(kind, recent)
    state = {key: state[key] for key in ("streak", "best_streak", "done", "points")}
    state.update(kind=kind, prompt=prompt, asked_at=time.time(), recent=(recent + [prompt])[-RECENT:],
                 sample_id=str(uuid.uuid4()))
    return {**public(state), "token": sign_token(state)}


def public(state):
    return {key: state[key] for key in ("kind", "prompt", "streak", "best_streak", "done", "points")}


def asked_prompt(token):
    """The state of the prompt `token` asked, if it may still be answered; else a 409 saying
    why (the page then asks for a new character)."""
    if not token:
        raise RecognitionError("no challenge in progress: ask for a character first", status=409)
    try:
        state = read_token(token)
    except signing.BadSignature:
        raise RecognitionError("this challenge was not issued by this server: a new character "
                               "is shown, draw that one", status=409) from None
    if time.time() - state["asked_at"] > ANSWER_WITHIN_SECONDS:
        raise RecognitionError(f"this character was asked more than {ANSWER_WITHIN_SECONDS // 60} "
                               "minutes ago: a new one is shown, draw that one", status=409)
    if Sample.objects.filter(pk=state["sample_id"]).exists():
        raise already_answered()
    return state


def already_answered():
    return RecognitionError("this character was answered already: a new one is shown, draw that "
                            "one", status=409)


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


def answer(token, image, source=Sample.Source.CANVAS):
    """Score a drawing of the prompt `token` asked, store it, and ask for the next one."""
    state = asked_prompt(token)
    kind, prompt = state["kind"], state["prompt"]
    seconds = round(time.time() - state["asked_at"], 2)
    try:
        result = recognize(image, kind, source, prompt=prompt, sample_id=state["sample_id"])
    except IntegrityError:  # the same token, answered by another request meanwhile
        raise already_answered() from None
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
    next_state = ask(state, kind)
    return {
        "prompt": prompt, "label": result["label"], "right": right, "score": score,
        "seconds": seconds, "accepted": plausible, "sample_id": result["sample_id"],
        "normalized_image": result["normalized_image"], "next": next_state,
    }

