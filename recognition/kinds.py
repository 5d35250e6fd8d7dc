"""The label sets of the three recognizers, in model output order (EMNIST ByClass order)."""
import string

DIGITS = string.digits
LETTERS = string.ascii_uppercase + string.ascii_lowercase

LABELS = {
    "digit": list(DIGITS),
    "letter": list(LETTERS),
    "any": list(DIGITS + LETTERS),
}
KINDS = tuple(LABELS)
KIND_CHOICES = [(kind, kind) for kind in KINDS]


def is_valid_label(kind, label):
    """True when `label` is one character of `kind`'s set (case matters for letters)."""
    return label in LABELS.get(kind, ())
