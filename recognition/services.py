"""Recognition: image bytes + kind -> prediction, recorded as a Sample.

Every route (canvas, upload form, JSON API) calls `recognize`, so they all decode, normalise,
infer and record the same way.
"""
import base64
import binascii
import hashlib
import io
from dataclasses import dataclass
from functools import partial

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from PIL import Image

from core import segmentation, words
from core.preprocessing import (
    PreprocessingError, decode_image, normalize, read_character, read_writing, stored_png, to_png,
    working_ink_map,
)
from ml.kinds import DIGITS, KINDS, LETTERS, TEXT_MODEL
from recognition.inference import ModelUnavailable, get_recognizer
from recognition.models import Sample, Word

TOP_K = 5
TEXT_TOP_K = 3
# The whole readings of a line offered to choose from, and what each kind may read.
TEXT_CANDIDATES = 5
TEXT_ALPHABETS = {"digit": DIGITS, "letter": LETTERS, "any": None}


class RecognitionError(Exception):
    """A request the service refuses; `status` is the HTTP status and the message is shown."""

    status = 400

    def __init__(self, message, status=None):
        super().__init__(message)
        if status is not None:
            self.status = status


@dataclass
class PredictionRequest:
    """What a route was asked to recognise (see recognition.forms)."""

    image: bytes
    kind: str
    multi: bool = False
    strokes: list | None = None
    case_consistency: bool = False
    crop: list | None = None  # left, top, right, bottom: where the person says the writing is
    store: bool = True

    def recognize(self, source):
        """Recognise and store: a Word of characters when `multi`, else one Sample."""
        if not self.store:
            return preview(self.image, self.kind, self.multi, self.strokes, self.case_consistency,
                           self.crop)
        if self.multi:
            return recognize_text(self.image, self.kind, source, self.strokes,
                                  self.case_consistency, self.crop)
        return recognize(self.image, self.kind, source, crop=self.crop)


def check_kind(kind):
    if kind not in KINDS:
        raise RecognitionError(f"unknown kind {kind!r}: choose one of {', '.join(KINDS)}")


def decode_data_url(data_url):
    """'data:image/png;base64,....' -> the image bytes (what a canvas's toDataURL gives)."""
    header, comma, payload = data_url.partition(",")
    if not comma or not header.startswith("data:") or not header.endswith(";base64"):
        raise RecognitionError("image must be a data URL like 'data:image/png;base64,...'")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as error:
        raise RecognitionError("image data URL holds invalid base64") from error


def check_size(size):
    """Bodies are limited by middleware; this also covers bytes that arrive another way."""
    limit = settings.HWR_MAX_UPLOAD_BYTES
    if size > limit:
        raise RecognitionError(f"image is larger than {limit:,} bytes", status=413)


def predict(data, kind, prompt="", crop=None):
    """Image bytes + kind -> (normalised 28x28 image, result dict without storage).

    With a `prompt` (the label a challenge asked for), the result also holds the model's
    probability of that label; with a `crop` box, only the writing inside it is read. The
    result's `box` is where the writing read lies, in the image's pixels.
    """
    return _predict(data, kind, prompt, crop)[1:]


def _predict(data, kind, prompt, crop):
    """`predict`, and the picture that was read (what a Sample keeps)."""
    check_kind(kind)
    check_size(len(data))
    try:
        writing, image28, box = read_character(data, settings.HWR_MAX_IMAGE_PIXELS, crop)
    except PreprocessingError as error:
        raise RecognitionError(str(error)) from error
    recognizer = _recognizer(kind)
    probabilities = recognizer.probabilities(image28)
    result = {
        "kind": kind,
        **ranked_labels(recognizer.labels, probabilities, TOP_K, "top5"),
        "model": {"name": recognizer.name, "version": recognizer.version},
        "box": box,
    }
    if kind != "digit":
        result["case_insensitive"] = case_insensitive_best(recognizer.labels, probabilities)
    if prompt:
        result["prompt_probability"] = round(float(probabilities[recognizer.labels.index(prompt)]), 6)
    return writing.image, image28, result


def _recognizer(kind):
    try:
        return get_recognizer(kind)
    except ModelUnavailable as error:
        raise RecognitionError(str(error), status=503) from error


def ranked_labels(labels, probabilities, count, key):
    """label, confidence and the `count` best guesses (under `key`) of one probability row."""
    ranked = probabilities.argsort()[::-1][:count]
    best = [{"label": labels[i], "probability": round(float(probabilities[i]), 6)} for i in ranked]
    return {"label": best[0]["label"], "confidence": best[0]["probability"], key: best}


def case_insensitive_best(labels, probabilities):
    """Best guess when 'o' and 'O' count as one answer: their probabilities add up."""
    merged = {}
    for label, probability in zip(labels, probabilities):
        key = label.upper()
        merged[key] = merged.get(key, 0.0) + float(probability)
    label = max(merged, key=merged.get)
    return {"label": label, "probability": round(merged[label], 6)}


def recognize(data, kind, source, prompt="", crop=None, sample_id=None):
    """The one entry point of every route: predict, store a Sample, return the result JSON.

    Decoding and inference run outside any transaction (callers must not open one around
    it): they take a few milliseconds of CPU, and holding a database transaction that long
    would serialise the workers on SQLite. The Sample is one INSERT, in a transaction of its
    own. What is kept of the upload is
    the grey picture that was read (`stored_png`): no metadata, bounded in size. A `sample_id`
    (a challenge names it when it asks) is the Sample's id; if a Sample has it already, nothing
    is stored and IntegrityError is raised.
    """
    picture, image28, result = _predict(data, kind, prompt, crop)
    normalized_png = to_png(image28)
    sample = Sample(
        kind=kind,
        source=source,
        prompt=prompt,
        image_sha256=hashlib.sha256(data).hexdigest(),
        normalized_png=normalized_png,
        predicted_label=result["label"],
        confidence=result["confidence"],
        top5=result["top5"],
        model_name=result["model"]["name"],
        model_version=result["model"]["version"],
    )
    if sample_id:
        sample.id = sample_id
    sample.image.save(f"{sample.id}.png", ContentFile(stored_png(picture)), save=False)
    try:
        with transaction.atomic():
            sample.save()
    except IntegrityError:
        sample.image.delete(save=False)
        raise
    return {
        **result,
        "normalized_image": "data:image/png;base64," + base64.b64encode(normalized_png).decode(),
        "sample_id": str(sample.id),
    }


def predict_text(data, kind, strokes=None, case_consistency=False, crop=None):
    """A written line (image bytes, and the pen strokes when known) -> its characters.

    Returns (characters, normalised images, result dict without storage). All characters are
    classified in one inference call (an image's touching characters are cut apart with the
    recognizer's help before). With `case_consistency` (letter and any only), the
    letters' case is chosen for the whole word (see `consistent_case`). Without strokes the
    image is read as an upload (the writing found in a photo, or inside `crop`), and boxes are
    in the image's pixels.
    """
    return _predict_text(data, kind, strokes, case_consistency, crop)[1:]


def _predict_text(data, kind, strokes, case_consistency, crop):
    """`predict_text`, and the picture that was read (what the Word keeps): by the text model
    when one is served, else character by character."""
    check_kind(kind)
    check_size(len(data))
    if kind == "digit" and strokes is not None:
        # Digits drawn with their strokes are read best apart: 89 % of held-out writers' numbers
        # right against the text model's 71 % (bench/words.py); from an image, 75 % against 51 %.
        return _segment_text(data, kind, strokes, case_consistency, crop)
    try:
        reader = get_recognizer(TEXT_MODEL)
    except ModelUnavailable:
        return _segment_text(data, kind, strokes, case_consistency, crop)
    return _read_line(reader, data, kind, strokes, crop)


def _read_line(reader, data, kind, strokes, crop):
    """The text model reads the whole line at once (its input built by `words.text_line`)."""
    try:
        line = words.text_line(data, strokes, crop, settings.HWR_MAX_IMAGE_PIXELS)
    except PreprocessingError as error:
        raise RecognitionError(str(error)) from error
    probabilities = reader.probabilities(line.image)
    words_of_a_language = kind != "digit"  # numbers are not weighed against a lexicon
    readings = words.read_line(probabilities, reader.labels, TEXT_ALPHABETS[kind], TEXT_CANDIDATES,
                               settings.HWR_LEXICON if words_of_a_language else "",
                               settings.HWR_LEXICON_WEIGHT)
    best = readings[0]
    if not best.text:
        raise RecognitionError("no writing could be read here: write the word larger, or closer "
                               "to the middle of the box")
    spans = words.character_spans(best.columns, line.image)
    top, bottom, ink_left, ink_right = line.ink
    characters, images28, entries = [], [], []
    for position, (character, (start, stop), (first, last)) in enumerate(zip(best.text, spans, best.columns)):
        piece = words.input_piece(line.image, start, stop)
        left, right = np.clip(line.placement.ink_columns(start, stop - 1), ink_left, ink_right)
        characters.append(segmentation.Character(tuple(line.picture_box(left, right)), piece))
        try:
            images28.append(normalize(piece))
        except PreprocessingError:  # a speck: the character was read from the columns around it
            images28.append(np.zeros((28, 28), np.float32))
        entries.append({"position": position, "box": [round(float(v), 2) for v in characters[-1].box],
                        **_column_choice(reader.labels, probabilities[first:last + 1], character, kind)})
    weights = np.exp(np.array([r.log_probability for r in readings]) - best.log_probability)
    weights /= weights.sum()
    boxes = np.array([entry["box"] for entry in entries])
    result = {
        "kind": kind,
        "text": best.text,
        "candidates": [{"text": r.text, "confidence": round(float(w), 6)} for r, w in zip(readings, weights)],
        "characters": entries,
        "case_consistency": False,  # the text model reads a word's case from the whole word
        "model": {"name": reader.name, "version": reader.version},
        "box": [*boxes[:, :2].min(axis=0).tolist(), *boxes[:, 2:].max(axis=0).tolist()],
    }
    return line.picture, characters, np.stack(images28), result


def _column_choice(alphabet, column_probabilities, character, kind):
    """A character read by the text model: its confidence and the best alternatives, from the
    column where the model was surest of it (blank left out)."""
    allowed = TEXT_ALPHABETS[kind]
    index = alphabet.index(character) + 1
    row = column_probabilities[column_probabilities[:, index].argmax()][1:].copy()
    if allowed is not None:
        row[[label not in allowed for label in alphabet]] = 0.0
    row /= max(row.sum(), 1e-12)
    ranked = ranked_labels(alphabet, row, TEXT_TOP_K, "top3")
    return {**ranked, "label": character, "confidence": round(float(row[index - 1]), 6)}


def _segment_text(data, kind, strokes, case_consistency, crop):
    """The line cut into characters, each read by the character model."""
    try:
        recognizer = _recognizer(kind)
        judge = partial(log_confidences, recognizer)  # how the segmenters ask the recognizer
        if strokes is not None:
            # Decoded even when strokes are sent: the word's stored image must be a real one,
            # and its pen sizes the characters.
            picture = decode_image(data, max_pixels=settings.HWR_MAX_IMAGE_PIXELS)
            characters = segmentation.segment_strokes(strokes, picture, log_confidences=judge)
        else:
            writing = read_writing(data, settings.HWR_MAX_IMAGE_PIXELS, crop, multi=True)
            picture = writing.image
            ink, scale = working_ink_map(picture)
            characters = segmentation.segment_ink(ink, log_confidences=judge)
            for character in characters:
                character.box = tuple(writing.picture_box([value * scale for value in character.box]))
        images28 = np.stack([normalize(character.ink) for character in characters])
    except PreprocessingError as error:
        raise RecognitionError(str(error)) from error
    probabilities = recognizer.batch_probabilities(images28)
    cased = case_consistency and kind != "digit"
    if cased:
        probabilities = consistent_case(recognizer.labels, probabilities)
    entries = [
        {"position": position, "box": [round(float(v), 2) for v in character.box],
         **ranked_labels(recognizer.labels, row, TEXT_TOP_K, "top3")}
        for position, (character, row) in enumerate(zip(characters, probabilities))
    ]
    boxes = np.array([entry["box"] for entry in entries])
    result = {
        "kind": kind,
        "text": "".join(entry["label"] for entry in entries),
        "candidates": [],  # one reading only: the characters' best labels
        "characters": entries,
        "case_consistency": cased,
        "model": {"name": recognizer.name, "version": recognizer.version},
        "box": [*boxes[:, :2].min(axis=0).tolist(), *boxes[:, 2:].max(axis=0).tolist()],
    }
    return picture, characters, images28, result


def log_confidences(recognizer, inks):
    """The recognizer's log-confidence in its best reading of each ink map (any number)."""
    probabilities = recognizer.batch_probabilities(np.stack([normalize(ink) for ink in inks]))
    return np.log(probabilities.max(axis=1))


# Case patterns of a word: every letter lower case, the first one upper case, all upper case.
CASE_PATTERNS = {
    "lower": lambda position: str.lower,
    "capitalised": lambda position: str.upper if position == 0 else str.lower,
    "upper": lambda position: str.upper,
}


def consistent_case(labels, probabilities):
    """Probabilities with each letter's case set by the word's likeliest case pattern.

    A letter's case alone is often a guess ("o"/"O", "s"/"S" differ only in size, which
    normalisation removes), but words are written in one of a few patterns ("hello", "Hello",
    "HELLO"): the pattern with the highest joint probability is chosen and each letter's
    probability moves to that case, whatever letter it is. Digits are left alone.
    """
    index = {label: i for i, label in enumerate(labels)}
    pairs = [(index[label], index[label.swapcase()]) for label in labels
             if label.isupper() and label.swapcase() in index]
    if not pairs:
        return probabilities
    upper, lower = (np.array(side) for side in zip(*pairs))
    letter_mass = probabilities[:, upper] + probabilities[:, lower]
    is_letter = letter_mass.sum(axis=1) > 0.5
    if is_letter.sum() < 2:
        return probabilities
    best_pattern, best_score = None, -np.inf
    for pattern in CASE_PATTERNS.values():
        wants_upper = np.array([pattern(position) is str.upper for position in range(len(probabilities))])
        chosen = np.where(wants_upper[:, None], probabilities[:, upper], probabilities[:, lower])
        score = np.log(chosen.sum(axis=1)[is_letter] / letter_mass.sum(axis=1)[is_letter] + 1e-9).sum()
        if score > best_score:
            best_pattern, best_score = wants_upper, score
    adjusted = probabilities.copy()
    rows = np.flatnonzero(is_letter)
    for row in rows:
        keep, drop = (upper, lower) if best_pattern[row] else (lower, upper)
        adjusted[row, keep] += adjusted[row, drop]
        adjusted[row, drop] = 0.0
    return adjusted


def recognize_text(data, kind, source, strokes=None, case_consistency=False, crop=None):
    """Recognise a written line and store it: a Word, and one Sample per character.

    Each character's Sample holds its own image (its strokes rasterised, or its piece of the
    uploaded image), so feedback, review and retraining treat it as any single character.
    """
    picture, characters, images28, result = _predict_text(data, kind, strokes, case_consistency, crop)
    word = Word(kind=kind, source=source, image_sha256=hashlib.sha256(data).hexdigest(),
                strokes=strokes, text=result["text"], candidates=result["candidates"],
                model_name=result["model"]["name"], model_version=result["model"]["version"],
                case_consistency=result["case_consistency"])
    word.image.save(f"{word.id}.png", ContentFile(stored_png(picture)), save=False)
    samples = []
    for character, image28, entry in zip(characters, images28, result["characters"]):
        normalized_png = to_png(image28)
        sample = Sample(
            kind=kind, source=source, word=word, position=entry["position"], box=entry["box"],
            image_sha256="", normalized_png=normalized_png, predicted_label=entry["label"],
            confidence=entry["confidence"], top5=entry["top3"],
            model_name=result["model"]["name"], model_version=result["model"]["version"],
        )
        original = ink_png(character.ink)
        sample.image_sha256 = hashlib.sha256(original).hexdigest()
        sample.image.save(f"{sample.id}.png", ContentFile(original), save=False)
        entry["normalized_image"] = "data:image/png;base64," + base64.b64encode(normalized_png).decode()
        entry["sample_id"] = str(sample.id)
        samples.append(sample)
    with transaction.atomic():
        word.save()
        Sample.objects.bulk_create(samples)
    return {**result, "word_id": str(word.id)}


def ink_png(ink):
    """A character's ink map as a PNG drawn black on white, as a canvas would send it."""
    buffer = io.BytesIO()
    Image.fromarray((255 - np.clip(ink, 0, 1) * 255).round().astype(np.uint8), "L").save(buffer, format="PNG")
    return buffer.getvalue()


def preview(data, kind, multi=False, strokes=None, case_consistency=False, crop=None):
    """The answer `recognize` or `recognize_text` would give, stored nowhere (no sample_id).

    Live previews while drawing are not predictions anyone acted on: half-drawn characters
    must not fill the samples. The page sends the drawing again, stored, when it is acted on.
    """
    def data_url(image28):
        return "data:image/png;base64," + base64.b64encode(to_png(image28)).decode()

    if multi:
        _, images28, result = predict_text(data, kind, strokes, case_consistency, crop)
        for entry, image28 in zip(result["characters"], images28):
            entry["normalized_image"] = data_url(image28)
        return result
    image28, result = predict(data, kind, crop=crop)
    return {**result, "normalized_image": data_url(image28)}
