"""People's corrections as training data, for `manage.py retrain` (`ml.retraining`): which
answers count (`FeedbackQuerySet.training_labels`, verified word feedback) and what the model is
given for each, rebuilt from the stored original by today's pipeline, as the web would read it.
Registered with `ml.feedback_source` in FeedbackConfig.ready."""
import numpy as np
from django.conf import settings
from tqdm import tqdm

from core import words
from core.bundle import read_meta
from core.preprocessing import PreprocessingError, preprocess_bytes
from feedback.models import Feedback, WordFeedback
from ml.kinds import LABELS


def usable_feedback(kind, include_unreviewed, include_prompted=False):
    """`kind`'s training labels (`FeedbackQuerySet.training_labels`), oldest sample first."""
    return (Feedback.objects.training_labels(kind, include_unreviewed, include_prompted)
            .select_related("sample").order_by("sample__created", "sample_id"))


def load_feedback(active, options, log=print):
    """Feedback on `active`'s kind re-normalised from the stored original image by today's
    pipeline: images, class ids, and the sha256 of each original image (what the holdout split
    reads)."""
    kind = active.name
    index = {label: i for i, label in enumerate(LABELS[kind])}
    images, labels, image_hashes, skipped = [], [], [], 0
    rows = list(usable_feedback(kind, options.include_unreviewed, options.include_prompted))
    for feedback in tqdm(rows, desc="re-normalising feedback", unit="sample", disable=not rows):
        try:
            with feedback.sample.image.open("rb") as handle:
                images.append(preprocess_bytes(handle.read(), settings.HWR_MAX_IMAGE_PIXELS))
        except (OSError, PreprocessingError):
            skipped += 1  # its file is gone or no longer reads as a character
            continue
        labels.append(index[feedback.label])
        image_hashes.append(feedback.sample.image_sha256)
    if skipped:
        log(f"skipped {skipped} feedback samples whose image could not be re-normalised")
    return np.array(images, np.float32).reshape(-1, 28, 28), np.array(labels, np.int32), image_hashes


def usable_word_feedback(include_unreviewed):
    """Word corrections with a trustworthy text (`ReviewedAnswerQuerySet.trusted`), oldest first."""
    return (WordFeedback.objects.trusted(include_unreviewed).select_related("word")
            .order_by("word__created", "word_id"))


def load_word_feedback(active, options, log=print):
    """Word corrections as the model's input lines (uint8), their right texts, and the sha256 of
    each word's image (what the holdout split reads)."""
    alphabet = set(read_meta(active.bundle_dir)["labels"])
    length = words.WIDTH // words.STRIDE // 2
    lines, texts, image_hashes, skipped = [], [], [], 0
    rows = list(usable_word_feedback(options.include_unreviewed))
    for feedback in tqdm(rows, desc="drawing word feedback", unit="word", disable=not rows):
        text = feedback.text
        if not text or not set(text) <= alphabet or len(text) > length:
            skipped += 1  # characters the model has no output for, or longer than a line holds
            continue
        try:
            with feedback.word.image.open("rb") as handle:
                line = words.text_line(handle.read(), feedback.word.strokes,
                                       max_pixels=settings.HWR_MAX_IMAGE_PIXELS)
        except (OSError, PreprocessingError):
            skipped += 1  # its file is gone or no longer reads as writing
            continue
        lines.append(np.round(line.image * 255).astype(np.uint8))
        texts.append(text)
        image_hashes.append(feedback.word.image_sha256)
    if skipped:
        log(f"skipped {skipped} word corrections that could not be used (text outside the "
            f"model's alphabet or image unreadable)")
    return (np.array(lines, np.uint8).reshape(-1, words.HEIGHT, words.WIDTH),
            np.array(texts, dtype=object), image_hashes)
