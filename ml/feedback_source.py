"""Where retraining finds people's corrections: the app that stores them names, per model
family, a function that hands them over as training arrays (the feedback app does, in its
AppConfig.ready). So ml reads feedback without importing the app built on it.

A loader is called as `loader(active_version, options, log)` and returns (inputs, labels, the
sha256 of each input's original image): see `feedback.training`.
"""
from django.utils.module_loading import import_string

CHARACTERS, TEXT = "characters", "text"
_LOADERS = {}


class NoFeedbackSource(LookupError):
    """No installed app provides corrections for a model family."""


def register(family, dotted_path):
    """`family`'s loader, named by its dotted path (imported only when retraining runs)."""
    _LOADERS[family] = dotted_path


def loader(family):
    if family not in _LOADERS:
        raise NoFeedbackSource(f"no installed app provides {family} feedback to retrain on "
                               f"(the feedback app registers it: is it in INSTALLED_APPS?)")
    return import_string(_LOADERS[family])
