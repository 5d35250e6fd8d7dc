"""Start-up checks of the recognition settings: a bad one is said before the first request."""
from django.conf import settings
from django.core import checks

from core import lexicon


@checks.register()
def lexicon_readable(app_configs, **kwargs):
    """HWR_LEXICON must be readable (it is read once per worker, here at start)."""
    if not settings.HWR_LEXICON:
        return []
    try:
        lexicon.frequencies(settings.HWR_LEXICON)
    except (lexicon.LexiconError, LookupError, ValueError, OSError) as error:
        return [checks.Error(f"HWR_LEXICON={settings.HWR_LEXICON!r} cannot be read: {error}",
                             hint="use wordfreq:en, a file of one word per line, or leave it empty",
                             id="recognition.E001")]
    return []
