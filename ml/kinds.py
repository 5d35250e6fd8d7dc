"""The label sets of the three character recognizers, in model output order (EMNIST ByClass
order), and the models the registry serves: those three and the text model, which reads whole
words (its alphabet is in its bundle)."""
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
TEXT_MODEL = "text"
MODELS = (*KINDS, TEXT_MODEL)
MODEL_CHOICES = [(model, model) for model in MODELS]


def is_valid_label(kind, label):
    """True when `label` is one character of `kind`'s set (case matters for letters)."""
    return label in LABELS.get(kind, ())
