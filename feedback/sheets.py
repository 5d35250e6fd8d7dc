"""Mirror of the feedback in a Google Sheet, for people who review in spreadsheets.

The database is the source of truth: `push` sends feedback that is new or changed since its last
sync, in batches, and marks each batch synced only once the API accepted it. Rows are found by
sample (or word) id before every batch, so a batch the API applied without us recording it (a
crash, a timeout, a 500 after the write) is rewritten in place instead of appended twice. `pull`
brings the label (or text) and status columns that reviewers edited back into the database.

Characters' feedback goes to one worksheet per kind, words' feedback to one "Words" worksheet;
a `Mirror` says what one worksheet holds, and the same code syncs each.
"""
import base64
import fcntl
import io
import json
import logging
import re
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import google.auth.exceptions
import gspread
import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from google.auth.transport.requests import AuthorizedSession
from google.oauth2.service_account import Credentials
from gspread.utils import ValueInputOption, rowcol_to_a1
from PIL import Image

from .models import Feedback, WordFeedback, validate_correction, validate_word_correction
from .selectors import WORD_THUMBNAIL_SIZE
from .services import FeedbackError, mark_for_resync, word_thumbnail

logger = logging.getLogger(__name__)

WORKSHEETS = {"digit": "Digit", "letter": "Character", "any": "Any"}
WORD_WORKSHEET = "Words"
# What one run may sync: a kind's characters, or the words (all kinds).
TARGETS = (*WORKSHEETS, "words")
TITLES = (*WORKSHEETS.values(), WORD_WORKSHEET)
HEADER = [
    "sample id", "created", "kind", "predicted", "confidence", "is_correct", "correct label",
    "status", "model version", "normalised image (base64 PNG)", "admin",
]
LABEL_COLUMN = HEADER.index("correct label")
STATUS_COLUMN = HEADER.index("status")
WORD_HEADER = [
    "word id", "created", "kind", "predicted text", "is_correct", "corrected text", "status",
    "model version", "image (base64 PNG)", "admin",
]
TEXT_COLUMN = WORD_HEADER.index("corrected text")
WORD_STATUS_COLUMN = WORD_HEADER.index("status")
# A word's image in its cell: wide enough to read, far under the 50,000 characters a cell holds.
WORD_IMAGE_SIZE = 128
GOOGLE_API_HOSTS = ("https://sheets.googleapis.com/", "https://www.googleapis.com/")


# What a call to the Sheets API can fail with: the API's answer, the connection, or getting the
# OAuth access token for the service account (refused, or the token endpoint unreachable).
API_ERRORS = (gspread.exceptions.APIError, requests.RequestException,
              google.auth.exceptions.RefreshError, google.auth.exceptions.TransportError)


class SheetsConfigError(Exception):
    """Missing or unusable Sheets configuration; the message says what to set."""


class SyncBusy(Exception):
    """Another sync_sheets run is in progress."""


@contextmanager
def exclusive_run():
    """Hold HWR_SHEETS_LOCK_FILE: two overlapping runs (a slow one and the next cron tick) could
    both miss a row in the sheet and both append it."""
    path = Path(settings.HWR_SHEETS_LOCK_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncBusy(f"another sync_sheets run holds {path}; try again later") from None
        yield


class _RedirectToAPIURL(requests.adapters.HTTPAdapter):
    """Sends the requests meant for one Google API host to HWR_SHEETS_API_URL instead."""

    def __init__(self, prefix, base_url):
        super().__init__()
        self.prefix, self.base_url = prefix, base_url

    def send(self, request, **kwargs):
        request.url = self.base_url + request.url[len(self.prefix):]
        return super().send(request, **kwargs)


def _service_account_info():
    """(where the key came from, the key as a dict), from the JSON setting or the key file."""
    if settings.GOOGLE_SERVICE_ACCOUNT_JSON:
        source, content = "GOOGLE_SERVICE_ACCOUNT_JSON", settings.GOOGLE_SERVICE_ACCOUNT_JSON
    elif settings.GOOGLE_SERVICE_ACCOUNT_FILE:
        source = f"GOOGLE_SERVICE_ACCOUNT_FILE ({settings.GOOGLE_SERVICE_ACCOUNT_FILE})"
        try:
            content = Path(settings.GOOGLE_SERVICE_ACCOUNT_FILE).read_text(encoding="utf-8")
        except OSError as error:
            raise SheetsConfigError(f"cannot read {source}: {error.strerror}") from None
    else:
        raise SheetsConfigError(
            "no service account: set GOOGLE_SERVICE_ACCOUNT_FILE (path to the key file) or "
            "GOOGLE_SERVICE_ACCOUNT_JSON (its content)"
        )
    try:
        return source, json.loads(content)
    except ValueError as error:
        raise SheetsConfigError(f"{source} is not JSON: {error}") from None


def open_spreadsheet():
    """The target spreadsheet, through the real gspread client and service-account auth."""
    if not (settings.HWR_SHEET_KEY or settings.HWR_SHEET_NAME):
        raise SheetsConfigError("no spreadsheet: set HWR_SHEET_KEY (or HWR_SHEET_NAME)")
    source, info = _service_account_info()
    try:
        credentials = Credentials.from_service_account_info(info, scopes=gspread.auth.DEFAULT_SCOPES)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise SheetsConfigError(f"{source} is not a service account key: {error}") from None
    session = AuthorizedSession(credentials)
    if settings.HWR_SHEETS_API_URL:
        base_url = settings.HWR_SHEETS_API_URL.rstrip("/") + "/"
        for host in GOOGLE_API_HOSTS:
            session.mount(host, _RedirectToAPIURL(host, base_url))
    client = gspread.Client(auth=None, session=session)
    client.set_timeout((10, 120))
    try:
        if settings.HWR_SHEET_KEY:
            return with_backoff(lambda: client.open_by_key(settings.HWR_SHEET_KEY))
        return with_backoff(lambda: client.open(settings.HWR_SHEET_NAME))
    except gspread.SpreadsheetNotFound:
        target = settings.HWR_SHEET_KEY or settings.HWR_SHEET_NAME
        raise SheetsConfigError(
            f"spreadsheet {target!r} not found, or not shared with {info.get('client_email')}"
        ) from None


def _is_transient(error):
    if isinstance(error, gspread.exceptions.APIError):
        status = error.response.status_code
        return status == 429 or status >= 500
    if isinstance(error, google.auth.exceptions.TransportError):
        return True
    if isinstance(error, google.auth.exceptions.RefreshError):
        return error.retryable  # the token endpoint's 5xx/429, not a refused key
    return isinstance(error, (requests.ConnectionError, requests.Timeout))


def describe(error):
    """One of API_ERRORS in words that say what to do about it."""
    if isinstance(error, google.auth.exceptions.TransportError):
        return f"could not reach Google's sign-in (OAuth token) endpoint: {error}"
    if isinstance(error, google.auth.exceptions.RefreshError):
        reason = error.args[0] if error.args else error
        if error.retryable:
            return f"Google's sign-in (OAuth token) endpoint kept failing: {reason}"
        return (
            f"Google refused to sign the service account in ({reason}): check that the key in "
            "GOOGLE_SERVICE_ACCOUNT_FILE / GOOGLE_SERVICE_ACCOUNT_JSON is current and not revoked"
        )
    return str(error)


def with_backoff(action):
    """Run `action`, retrying 429, 5xx, connection failures and failures to get an access token
    that may pass, with bounded exponential backoff.

    gspread's BackOffHTTPClient is not used: it retries without bound and would replay a
    non-idempotent append; here each retried action re-reads what it needs first.
    """
    for attempt in range(settings.HWR_SHEETS_MAX_RETRIES + 1):
        try:
            return action()
        except API_ERRORS as error:
            if attempt == settings.HWR_SHEETS_MAX_RETRIES or not _is_transient(error):
                raise
            delay = settings.HWR_SHEETS_BACKOFF_SECONDS * 2**attempt
            logger.warning("Sheets API: %s; retrying in %.1f s", describe(error), delay)
            time.sleep(delay)


def image_cell(data, size=28):
    """An image (the normalised 28x28 PNG, a word's copy) as a grey base64 PNG at most `size`
    pixels a side, re-encoded small (a 28x28 one is under 2 kB)."""
    with Image.open(io.BytesIO(bytes(data))) as image:
        image = image.convert("L")
        image.thumbnail((size, size))
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
    return base64.b64encode(out.getvalue()).decode("ascii")


def sheet_row(feedback):
    sample = feedback.sample
    admin_path = reverse("admin:feedback_feedback_change", args=[sample.pk])
    return [
        str(sample.pk),
        sample.created.isoformat(timespec="seconds"),
        sample.kind,
        sample.predicted_label,
        round(sample.confidence, 4),
        feedback.is_correct,
        feedback.label,
        feedback.status,
        sample.model_version,
        image_cell(sample.normalized_png),
        settings.HWR_SITE_URL.rstrip("/") + admin_path,
    ]


def word_image_cell(word):
    """The word's image as written, small, as base64 PNG (empty when its file is gone)."""
    try:
        _, data = word_thumbnail(word, WORD_THUMBNAIL_SIZE)
    except FeedbackError:
        return ""
    return image_cell(data, size=WORD_IMAGE_SIZE)


def word_sheet_row(feedback):
    word = feedback.word
    admin_path = reverse("admin:feedback_wordfeedback_change", args=[word.pk])
    return [
        str(word.pk),
        word.created.isoformat(timespec="seconds"),
        word.kind,
        word.text,
        feedback.is_correct,
        feedback.text,
        feedback.status,
        word.model_version,
        word_image_cell(word),
        settings.HWR_SITE_URL.rstrip("/") + admin_path,
    ]


def pending_feedback(kind=None):
    """Characters' feedback never synced, or changed since it was, oldest change first."""
    queryset = Feedback.objects.pending_sync()
    if kind:
        queryset = queryset.filter(sample__kind=kind)
    return queryset.order_by("updated", "pk")


def pending_word_feedback():
    """Words' feedback never synced, or changed since it was, oldest change first."""
    return WordFeedback.objects.pending_sync().order_by("updated", "pk")


class Mirror:
    """One worksheet and the feedback it holds; subclasses say which, and how a row reads."""

    title = ""
    header = []
    model = None
    subject = ""       # the feedback's sample or word (select_related, and its id in column A)
    answer_field = ""  # where a correction is stored: the column reviewers edit
    answer_header = ""

    @property
    def answer_column(self):
        return self.header.index(self.answer_header)

    @property
    def status_column(self):
        return self.header.index("status")

    @property
    def last_column(self):
        return rowcol_to_a1(1, len(self.header))[:-1]


class CharacterMirror(Mirror):
    """A kind's characters: one row per sample with feedback."""

    header = HEADER
    model = Feedback
    subject = "sample"
    answer_field = "correct_label"
    answer_header = "correct label"

    def __init__(self, kind):
        self.kind, self.title = kind, WORKSHEETS[kind]

    def pending(self):
        return pending_feedback(self.kind)

    def row(self, feedback):
        return sheet_row(feedback)

    def unknown(self, feedback, row):
        """Why this row names no feedback of this worksheet, or None."""
        if feedback is None or feedback.sample.kind != self.kind:
            return f"no {self.kind} feedback with sample id {row[0]!r}"
        return None

    def answer(self, feedback):
        return feedback.label

    def correction(self, feedback, given):
        """(is_correct, the correction to store) for a label given in the sheet."""
        is_correct = given == feedback.sample.predicted_label
        return is_correct, validate_correction(feedback.sample, is_correct, given)


class WordMirror(Mirror):
    """Every word with feedback, whatever its kind: one row per word."""

    title = WORD_WORKSHEET
    header = WORD_HEADER
    model = WordFeedback
    subject = "word"
    answer_field = "correct_text"
    answer_header = "corrected text"

    def pending(self):
        return pending_word_feedback()

    def row(self, feedback):
        return word_sheet_row(feedback)

    def unknown(self, feedback, row):
        return f"no word feedback with word id {row[0]!r}" if feedback is None else None

    def answer(self, feedback):
        return feedback.text

    def correction(self, feedback, given):
        is_correct = given == feedback.word.text
        return is_correct, validate_word_correction(feedback.word, is_correct,
                                                    "" if is_correct else given)


def mirror_for(target):
    """The Mirror of one of TARGETS."""
    return WordMirror() if target == "words" else CharacterMirror(target)


@dataclass
class SyncResult:
    """What one run did, per worksheet title; `error` is why it stopped early, if it did."""

    appended: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unsent: Counter = field(default_factory=Counter)
    pulled: Counter = field(default_factory=Counter)
    refused: list = field(default_factory=list)
    error: Exception | None = None


def worksheet_for(spreadsheet, mirror, create=True):
    """The mirror's worksheet; created when absent (its header comes with the first append)."""

    def find_or_add():
        for worksheet in spreadsheet.worksheets():
            if worksheet.title == mirror.title:
                return worksheet
        if create:
            return spreadsheet.add_worksheet(mirror.title, rows=1, cols=len(mirror.header))
        return None

    # Listing first makes a retried add (one that the API applied but did not confirm) harmless.
    return with_backoff(find_or_add)


def _write_batch(worksheet, mirror, feedbacks):
    """Update rows already in the sheet, append the others (one call); returns row keys."""
    ids = worksheet.col_values(1)
    row_of = {}
    for number, value in enumerate(ids, start=1):
        row_of.setdefault(value, number)
    updates, appends = [], []
    for feedback in feedbacks:
        number = row_of.get(str(feedback.pk))
        if number:
            updates.append({"range": f"A{number}:{mirror.last_column}{number}",
                            "values": [mirror.row(feedback)]})
        else:
            appends.append(feedback)
    if updates:
        worksheet.batch_update(updates, value_input_option=ValueInputOption.raw)
    keys = {feedback.pk: f"{worksheet.title}!{row_of[str(feedback.pk)]}" for feedback in feedbacks
            if str(feedback.pk) in row_of}
    if appends:
        header = [] if ids else [mirror.header]
        answer = worksheet.append_rows(
            header + [mirror.row(feedback) for feedback in appends],
            value_input_option=ValueInputOption.raw,
            table_range="A1",
        )
        first_row = int(re.search(r"![A-Z]+(\d+)", answer["updates"]["updatedRange"]).group(1))
        first_row += len(header)
        keys.update(
            {feedback.pk: f"{worksheet.title}!{first_row + offset}" for offset, feedback in enumerate(appends)}
        )
    return len(updates), len(appends), keys


def _mark_synced(model, feedbacks, keys):
    """Record success; a feedback changed meanwhile keeps its pending state and goes next run."""
    now = timezone.now()
    with transaction.atomic():
        for feedback in feedbacks:
            model.objects.filter(pk=feedback.pk, updated=feedback.updated).update(
                synced_at=now, sheet_row_key=keys[feedback.pk]
            )


def push(spreadsheet, targets, limit=None, dry_run=False):
    """Send pending feedback of `targets` (of TARGETS), `limit` rows at most; stops at the first
    lasting error."""
    result = SyncResult()
    remaining = limit
    for mirror in map(mirror_for, targets):
        title = mirror.title
        pks = list(mirror.pending().values_list("pk", flat=True)[:remaining])
        if remaining is not None:
            remaining -= len(pks)
        if dry_run or result.error:
            result.unsent[title] += len(pks)
            continue
        if not pks:
            continue
        try:
            worksheet = worksheet_for(spreadsheet, mirror)
        except API_ERRORS as error:
            result.error = error
            result.unsent[title] += len(pks)
            continue
        for start in range(0, len(pks), settings.HWR_SHEETS_BATCH_SIZE):
            batch_pks = pks[start:start + settings.HWR_SHEETS_BATCH_SIZE]
            batch = list(mirror.model.objects.filter(pk__in=batch_pks).select_related(mirror.subject))
            try:
                updated, appended, keys = with_backoff(lambda: _write_batch(worksheet, mirror, batch))
            except API_ERRORS as error:
                result.error = error
                result.unsent[title] += len(pks) - start
                break
            _mark_synced(mirror.model, batch, keys)
            result.updated[title] += updated
            result.appended[title] += appended
    return result


def pull(spreadsheet, targets, dry_run=False):
    """Apply the reviewers' label (or text) and status edits, validated like the feedback
    endpoints.

    Refused edits (invalid, or on feedback that changed in the database since its last sync)
    are reported, and the next push rewrites those rows with the database's values.
    """
    result = SyncResult()
    for mirror in map(mirror_for, targets):
        worksheet = worksheet_for(spreadsheet, mirror, create=False)
        if worksheet is None:
            continue
        rows = with_backoff(worksheet.get_all_values)[1:]
        ids = [_as_uuid(row[0]) for row in rows]
        feedbacks = mirror.model.objects.select_related(mirror.subject).in_bulk(filter(None, ids))
        refused = []
        for number, (pk, row) in enumerate(zip(ids, rows), start=2):
            row = row + [""] * (len(mirror.header) - len(row))
            reason = _apply_review(mirror, feedbacks.get(pk), row, dry_run)
            if reason == "applied":
                result.pulled[worksheet.title] += 1
            elif reason:
                result.refused.append(f"{worksheet.title} row {number}: {reason}")
                refused.append(pk)
        if not dry_run:
            # The next push puts the database's values back over the refused edits.
            mark_for_resync(mirror.model.objects.filter(pk__in=filter(None, refused)))
    return result


def _apply_review(mirror, feedback, row, dry_run):
    """Apply one sheet row; returns "applied", None (nothing to do) or why it was refused."""
    given, status = row[mirror.answer_column].strip(), row[mirror.status_column].strip()
    unknown = mirror.unknown(feedback, row)
    if unknown:
        return unknown
    if (given, status) == (mirror.answer(feedback).strip(), feedback.status):
        return None
    if feedback.is_pending_sync:
        return "changed in the database since the last sync; the database version is kept"
    if status not in Feedback.Status.values:
        return f"status {status!r} is not one of {', '.join(Feedback.Status.values)}"
    try:
        is_correct, correction = mirror.correction(feedback, given)
    except ValidationError as error:
        return error.messages[0]
    if not dry_run:
        feedback.is_correct, feedback.status = is_correct, status
        setattr(feedback, mirror.answer_field, correction)
        feedback.save()
    return "applied"


def _as_uuid(value):
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
