"""manage.py sync_sheets: the real gspread client and service-account auth against a local fake API."""
import base64
import io
import json
import os
import subprocess
import sys
import uuid
from collections import Counter

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import CommandError, call_command
from PIL import Image

from feedback import services
from feedback.models import Feedback, WordFeedback
from feedback.sheets import (
    HEADER, LABEL_COLUMN, STATUS_COLUMN, TEXT_COLUMN, WORD_HEADER, WORD_STATUS_COLUMN, WORKSHEETS,
    exclusive_run, pending_feedback, pending_word_feedback)

from .fake_sheets import SPREADSHEET_ID, SPREADSHEET_TITLE, FakeSheets

pytestmark = pytest.mark.django_db

COLUMN = {name: number for number, name in enumerate(HEADER, start=1)}


@pytest.fixture(scope="module")
def private_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def fake(private_key):
    with FakeSheets(private_key.public_key()) as server:
        yield server


@pytest.fixture
def service_account(private_key, fake):
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": "hwr-test",
        "private_key_id": uuid.uuid4().hex,
        "private_key": pem,
        "client_email": "sync@hwr-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": f"{fake.url}/token",
    }


@pytest.fixture
def sheets_settings(settings, fake, service_account, tmp_path):
    settings.GOOGLE_SERVICE_ACCOUNT_JSON = json.dumps(service_account)
    settings.GOOGLE_SERVICE_ACCOUNT_FILE = ""
    settings.HWR_SHEET_KEY = SPREADSHEET_ID
    settings.HWR_SHEET_NAME = ""
    settings.HWR_SHEETS_API_URL = fake.url
    settings.HWR_SHEETS_BATCH_SIZE = 4
    settings.HWR_SHEETS_MAX_RETRIES = 3
    settings.HWR_SHEETS_BACKOFF_SECONDS = 0.01
    settings.HWR_SITE_URL = "https://hwr.example.org"
    settings.HWR_SHEETS_LOCK_FILE = tmp_path / "sync.lock"
    return settings


@pytest.fixture
def feedback_rows(make_sample):
    """Feedback on samples of every kind: 10 digits, 3 letters, 2 any."""
    made = []
    for index in range(10):
        sample = make_sample(kind="digit", predicted=str(index % 10))
        made.append(Feedback.objects.create(sample=sample, is_correct=index % 3 != 0,
                                            correct_label="" if index % 3 else str((index + 1) % 10)))
    for label in "aBc":
        made.append(Feedback.objects.create(sample=make_sample(kind="letter", predicted=label), is_correct=True))
    for label in "7Z":
        made.append(Feedback.objects.create(sample=make_sample(kind="any", predicted=label), is_correct=True))
    return made


def sync(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("sync_sheets", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def sheet_ids(fake, title):
    return [value for value in fake.column(title)[1:] if value]


def assert_mirrored_exactly_once(fake):
    """Every feedback is in its kind's worksheet exactly once, with the database's values."""
    for kind, title in WORKSHEETS.items():
        expected = {str(pk) for pk in Feedback.objects.filter(sample__kind=kind).values_list("pk", flat=True)}
        ids = sheet_ids(fake, title) if title in fake.worksheets else []
        duplicates = [sample_id for sample_id, count in Counter(ids).items() if count > 1]
        assert not duplicates, f"{title}: duplicated rows {duplicates}"
        assert set(ids) == expected, f"{title}: lost {expected - set(ids)}"
        for row in fake.worksheets.get(title, {"rows": []})["rows"][1:]:
            feedback = Feedback.objects.select_related("sample").get(pk=row[0])
            assert row[COLUMN["correct label"] - 1] == feedback.label
            assert row[COLUMN["status"] - 1] == feedback.status
            assert row[COLUMN["predicted"] - 1] == feedback.sample.predicted_label
    assert not pending_feedback().exists()


def test_first_run_creates_worksheets_with_header_and_sends_everything(fake, sheets_settings, feedback_rows):
    output = sync()
    assert set(fake.worksheets) == set(WORKSHEETS.values())
    for title in WORKSHEETS.values():
        assert fake.worksheets[title]["rows"][0] == HEADER
    assert_mirrored_exactly_once(fake)
    assert "Digit: 10 appended" in output
    # Batches of 4: 10 digits -> 3 appends, 3 letters -> 1, 2 any -> 1; one API call per batch.
    assert len(fake.calls("POST", r":append$")) == 5
    digit = Feedback.objects.filter(sample__kind="digit").order_by("sheet_row_key")
    assert sorted(int(f.sheet_row_key.split("!")[1]) for f in digit) == list(range(2, 12))


def test_rows_carry_a_small_image_and_the_admin_link(fake, sheets_settings, feedback_rows):
    sync("--kind", "letter")
    row = fake.worksheets["Character"]["rows"][1]
    cell = row[COLUMN["normalised image (base64 PNG)"] - 1]
    assert len(cell) < 50_000
    with Image.open(io.BytesIO(base64.b64decode(cell))) as image:
        assert image.size == (28, 28)
    assert row[COLUMN["admin"] - 1] == f"https://hwr.example.org/admin/feedback/feedback/{row[0]}/change/"
    assert set(fake.worksheets) == {"Character"}


def test_rerun_sends_nothing_and_a_change_is_updated_in_place(fake, sheets_settings, feedback_rows):
    sync()
    writes_before = len(fake.calls("POST", r"(:append|values:batchUpdate)$"))
    assert "nothing to sync" in sync()
    assert len(fake.calls("POST", r"(:append|values:batchUpdate)$")) == writes_before

    changed = feedback_rows[1]
    changed.is_correct, changed.correct_label = False, "9"
    changed.save()
    sync()
    assert len(fake.calls("POST", r":append$")) == 5, "a changed row must not be appended again"
    assert len(fake.calls("POST", r"values:batchUpdate$")) == 1
    assert_mirrored_exactly_once(fake)


@pytest.mark.parametrize("fault", ["429", "500", "500-after-write"])
def test_transient_errors_are_retried_without_loss_or_duplicates(fake, sheets_settings, feedback_rows, fault):
    fake.inject("POST", r":append$", fault)
    fake.inject("GET", r"/values/", "429")
    fake.inject("POST", r":append$", fault)
    sync()
    assert_mirrored_exactly_once(fake)
    statuses = [status for method, path, status in fake.requests if path.endswith(":append")]
    assert statuses.count(429 if fault == "429" else 500) == 2


def test_persistent_errors_stop_with_a_report_and_the_next_run_completes(fake, sheets_settings, feedback_rows):
    fake.inject("POST", r"'Digit'.*:append$", "pass")
    for _ in range(4):  # more than HWR_SHEETS_MAX_RETRIES = 3
        fake.inject("POST", r"'Digit'.*:append$", "500")
    with pytest.raises(CommandError, match=r"4 rows synced, 11 not synced"):
        sync()
    assert Feedback.objects.filter(synced_at__isnull=False).count() == 4
    sync()
    assert_mirrored_exactly_once(fake)


def test_crash_after_the_write_does_not_duplicate_on_the_next_run(fake, sheets_settings, feedback_rows):
    # The second digit batch reaches the sheet, then the server (the link, the process) dies
    # before the answer: nothing records that it was written.
    fake.inject("POST", r"'Digit'.*:append$", "pass")
    fake.inject("POST", r"'Digit'.*:append$", "crash-after-write")
    with pytest.raises(CommandError, match="not synced"):
        sync()
    assert len(sheet_ids(fake, "Digit")) == 8
    assert Feedback.objects.filter(synced_at__isnull=False).count() == 4
    fake.restart()
    sync()
    assert_mirrored_exactly_once(fake)
    # 2 appends in the crashed run, 1 for the last two rows after it: the crashed batch was
    # found in the sheet and updated in place.
    assert len(fake.calls("POST", r"'Digit'.*:append$")) == 3
    assert len(fake.calls("POST", r"values:batchUpdate$")) == 1


def test_overlapping_runs_are_refused(fake, sheets_settings, feedback_rows):
    with exclusive_run():
        with pytest.raises(CommandError, match="another sync_sheets run"):
            sync()
    assert fake.requests == []
    sync()
    assert_mirrored_exactly_once(fake)


def test_dry_run_and_limit(fake, sheets_settings, feedback_rows):
    output = sync("--dry-run")
    assert "Digit: 10 rows would be sent" in output
    assert fake.requests == []
    assert pending_feedback().count() == len(feedback_rows)
    sync("--limit", "6")
    assert Feedback.objects.filter(synced_at__isnull=False).count() == 6
    sync()
    assert_mirrored_exactly_once(fake)


def test_open_by_name_through_drive(fake, sheets_settings, feedback_rows):
    sheets_settings.HWR_SHEET_KEY = ""
    sheets_settings.HWR_SHEET_NAME = SPREADSHEET_TITLE
    sync("--kind", "any")
    assert len(sheet_ids(fake, "Any")) == 2
    assert fake.calls("GET", r"^/drive/v3/files$")


def test_pull_applies_valid_reviewer_edits_and_refuses_the_rest(fake, sheets_settings, feedback_rows):
    sync()
    rows = fake.worksheets["Digit"]["rows"]
    by_id = {row[0]: number for number, row in enumerate(rows, start=1)}
    right, relabel, bad_label, bad_status, conflict = (
        feedback_rows[1], feedback_rows[2], feedback_rows[4], feedback_rows[5], feedback_rows[7]
    )
    fake.set_cell("Digit", by_id[str(right.pk)], STATUS_COLUMN + 1, "verified")
    fake.set_cell("Digit", by_id[str(relabel.pk)], LABEL_COLUMN + 1, "0")
    fake.set_cell("Digit", by_id[str(bad_label.pk)], LABEL_COLUMN + 1, "Q")
    fake.set_cell("Digit", by_id[str(bad_status.pk)], STATUS_COLUMN + 1, "maybe")
    fake.set_cell("Digit", by_id[str(conflict.pk)], LABEL_COLUMN + 1, "1")
    conflict.status = Feedback.Status.REJECTED
    conflict.save()

    output = sync("--pull", "--dry-run")
    assert "Digit: 2 reviewer edits would be applied" in output
    assert Feedback.objects.get(pk=relabel.pk).correct_label == ""

    output = sync("--pull")
    assert "Digit: 2 reviewer edits applied" in output
    assert "'Q' is not a valid digit label" in output
    assert "status 'maybe'" in output
    assert "database version is kept" in output
    assert Feedback.objects.get(pk=right.pk).status == "verified"
    relabelled = Feedback.objects.select_related("sample").get(pk=relabel.pk)
    assert (relabelled.is_correct, relabelled.correct_label) == (False, "0")
    assert Feedback.objects.get(pk=bad_label.pk).label == bad_label.label
    assert Feedback.objects.get(pk=conflict.pk).status == Feedback.Status.REJECTED

    sync()  # refused edits are overwritten by the database; pulled rows get consistent columns
    assert fake.worksheets["Digit"]["rows"][by_id[str(bad_label.pk)] - 1][LABEL_COLUMN] == bad_label.label
    assert_mirrored_exactly_once(fake)


@pytest.mark.parametrize(
    "missing, message",
    [
        ({"GOOGLE_SERVICE_ACCOUNT_JSON": ""}, "GOOGLE_SERVICE_ACCOUNT_FILE"),
        ({"HWR_SHEET_KEY": ""}, "HWR_SHEET_KEY"),
        ({"GOOGLE_SERVICE_ACCOUNT_JSON": "{not json"}, "is not JSON"),
        ({"GOOGLE_SERVICE_ACCOUNT_JSON": "{}"}, "not a service account key"),
        ({"GOOGLE_SERVICE_ACCOUNT_JSON": "", "GOOGLE_SERVICE_ACCOUNT_FILE": "/nonexistent/key.json"},
         "cannot read"),
        ({"HWR_SHEET_KEY": "another-key"}, "not found"),
    ],
)
def test_missing_or_bad_configuration_is_a_clear_error(fake, sheets_settings, feedback_rows, missing, message):
    for name, value in missing.items():
        setattr(sheets_settings, name, value)
    with pytest.raises(CommandError, match=message):
        sync()
    assert pending_feedback().count() == len(feedback_rows)


def test_missing_configuration_exits_non_zero_without_traceback(tmp_path):
    env = {**os.environ, "GOOGLE_SERVICE_ACCOUNT_FILE": "", "GOOGLE_SERVICE_ACCOUNT_JSON": "",
           "HWR_SHEET_KEY": "", "HWR_SHEET_NAME": "", "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
           "HWR_SHEETS_LOCK_FILE": str(tmp_path / "sync.lock")}
    done = subprocess.run([sys.executable, "manage.py", "sync_sheets"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0
    assert "Google Sheets is not configured" in done.stderr
    assert "Traceback" not in done.stderr


def test_service_account_from_a_file(fake, sheets_settings, service_account, feedback_rows, tmp_path):
    key_file = tmp_path / "service-account.json"
    key_file.write_text(json.dumps(service_account))
    sheets_settings.GOOGLE_SERVICE_ACCOUNT_JSON = ""
    sheets_settings.GOOGLE_SERVICE_ACCOUNT_FILE = str(key_file)
    sync("--kind", "any")
    assert len(sheet_ids(fake, "Any")) == 2
    assert fake.calls("POST", r"^/token$")


def token_requests(fake):
    return [status for method, path, status in fake.requests if path == "/token"]


@pytest.mark.parametrize("fault", ["drop", "500"])
def test_access_token_failures_are_retried(fake, sheets_settings, feedback_rows, fault):
    # "drop": the token endpoint is unreachable (TransportError). "500" three times: google-auth
    # retries a 5xx itself three times, then gives up with a retryable RefreshError.
    for _ in range(2 if fault == "drop" else 3):
        fake.inject("POST", r"^/token$", fault)
    sync()
    assert_mirrored_exactly_once(fake)
    assert token_requests(fake)[-1] == 200


def test_lasting_token_endpoint_failure_stops_with_a_message_and_marks_nothing(
        fake, sheets_settings, feedback_rows):
    for _ in range(4):  # more than HWR_SHEETS_MAX_RETRIES = 3
        fake.inject("POST", r"^/token$", "drop")
    with pytest.raises(CommandError, match=r"could not reach Google's sign-in \(OAuth token\) "
                                           r"endpoint.*nothing more was synced"):
        sync()
    assert token_requests(fake) == ["dropped"] * 4
    assert not fake.worksheets
    assert pending_feedback().count() == len(feedback_rows)
    sync()
    assert_mirrored_exactly_once(fake)


def test_refused_service_account_key_is_not_retried(fake, sheets_settings, feedback_rows, service_account):
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    service_account["private_key"] = other_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    sheets_settings.GOOGLE_SERVICE_ACCOUNT_JSON = json.dumps(service_account)
    with pytest.raises(CommandError, match=r"Google refused to sign the service account in "
                                           r"\(invalid_grant: Invalid JWT Signature.*check that the key"):
        sync()
    assert token_requests(fake) == [400]
    assert pending_feedback().count() == len(feedback_rows)


WORD_COLUMN = {name: number for number, name in enumerate(WORD_HEADER, start=1)}


@pytest.fixture
def word_rows(make_word):
    """Feedback on 6 words of every kind: corrected and confirmed, one reviewed."""
    answers = [("42", "digit", "47"), ("17", "digit", "17"), ("Hallo", "letter", "Hello"),
               ("moon", "letter", "moon"), ("a1", "any", "al"), ("300", "digit", "800")]
    made = []
    for read, kind, given in answers:
        made.append(WordFeedback.objects.create(word=make_word(read, kind=kind), is_correct=read == given,
                                                correct_text="" if read == given else given))
    made[-1].status = WordFeedback.Status.VERIFIED
    made[-1].save()
    return made


def assert_words_mirrored_exactly_once(fake):
    """Every word feedback is in the Words worksheet exactly once, with the database's values."""
    ids = sheet_ids(fake, "Words")
    duplicates = [word_id for word_id, count in Counter(ids).items() if count > 1]
    assert not duplicates, f"Words: duplicated rows {duplicates}"
    assert set(ids) == {str(pk) for pk in WordFeedback.objects.values_list("pk", flat=True)}
    for row in fake.worksheets["Words"]["rows"][1:]:
        feedback = WordFeedback.objects.select_related("word").get(pk=row[0])
        assert row[WORD_COLUMN["predicted text"] - 1] == feedback.word.text
        assert row[WORD_COLUMN["corrected text"] - 1] == feedback.text
        assert row[WORD_COLUMN["is_correct"] - 1] == feedback.is_correct
        assert row[WORD_COLUMN["status"] - 1] == feedback.status
    assert not pending_word_feedback().exists()


def test_words_go_to_their_own_worksheet_with_a_header_beside_the_characters(
        fake, sheets_settings, feedback_rows, word_rows):
    output = sync()
    assert set(fake.worksheets) == {*WORKSHEETS.values(), "Words"}
    assert fake.worksheets["Words"]["rows"][0] == WORD_HEADER
    assert_words_mirrored_exactly_once(fake)
    assert_mirrored_exactly_once(fake)
    assert "Words: 6 appended" in output
    assert len(fake.calls("POST", r"'Words'.*:append$")) == 2  # batches of 4
    keys = sorted(int(f.sheet_row_key.split("!")[1]) for f in WordFeedback.objects.all())
    assert keys == list(range(2, 8))
    assert "nothing to sync" in sync()


def test_word_rows_carry_a_small_image_of_the_word_and_the_admin_link(fake, sheets_settings, word_rows):
    gone = word_rows[0]
    gone.word.image.delete(save=False)
    sync("--kind", "words")
    assert set(fake.worksheets) == {"Words"}
    rows = {row[0]: row for row in fake.worksheets["Words"]["rows"][1:]}
    row = rows[str(word_rows[2].pk)]
    cell = row[WORD_COLUMN["image (base64 PNG)"] - 1]
    assert len(cell) < 50_000
    with Image.open(io.BytesIO(base64.b64decode(cell))) as image:
        assert image.format == "PNG" and image.size == (128, 43)  # the 192 x 64 line, shrunk
        assert image.getextrema() == (0, 255), "dark ink on white"
    assert row[WORD_COLUMN["admin"] - 1] == (
        f"https://hwr.example.org/admin/feedback/wordfeedback/{row[0]}/change/")
    assert (row[WORD_COLUMN["kind"] - 1], row[WORD_COLUMN["model version"] - 1]) == ("letter", "")
    assert rows[str(gone.pk)][WORD_COLUMN["image (base64 PNG)"] - 1] == ""


def test_a_word_reviewed_in_the_queue_is_updated_in_place(fake, sheets_settings, word_rows, admin_user):
    sync()
    services.review_word_feedback(word_id=word_rows[2].pk, action="label", text="Hullo",
                                  reviewer=admin_user)
    output = sync()
    assert "Words: 0 appended, 1 updated in place" in output
    assert len(fake.calls("POST", r"'Words'.*:append$")) == 2
    key = WordFeedback.objects.get(pk=word_rows[2].pk).sheet_row_key
    row = fake.worksheets["Words"]["rows"][int(key.split("!")[1]) - 1]
    assert (row[TEXT_COLUMN], row[WORD_STATUS_COLUMN]) == ("Hullo", "verified")
    assert_words_mirrored_exactly_once(fake)


@pytest.mark.parametrize("fault", ["429", "500-after-write", "crash-after-write"])
def test_word_batches_survive_faults_without_loss_or_duplicates(fake, sheets_settings, word_rows,
                                                                fault):
    fake.inject("POST", r"'Words'.*:append$", "pass")
    fake.inject("POST", r"'Words'.*:append$", fault)
    if fault == "crash-after-write":
        with pytest.raises(CommandError, match="not synced"):
            sync()
        fake.restart()
    sync()
    assert_words_mirrored_exactly_once(fake)


def test_dry_run_limit_and_kind_count_words_too(fake, sheets_settings, feedback_rows, word_rows):
    output = sync("--dry-run")
    assert "Words: 6 rows would be sent" in output and "Digit: 10 rows would be sent" in output
    assert fake.requests == []
    sync("--kind", "digit")
    assert set(fake.worksheets) == {"Digit"} and pending_word_feedback().count() == 6
    sync("--limit", "7")  # 3 letters, 2 any, then 2 of the words
    assert pending_word_feedback().count() == 4
    sync()
    assert_words_mirrored_exactly_once(fake)
    assert_mirrored_exactly_once(fake)


def test_pull_applies_valid_word_edits_and_refuses_the_rest(fake, sheets_settings, word_rows):
    sync()
    rows = fake.worksheets["Words"]["rows"]
    number = {row[0]: index for index, row in enumerate(rows, start=1)}
    verify, bad_status, retext, untouched, bad_text, conflict = word_rows
    fake.set_cell("Words", number[str(verify.pk)], WORD_STATUS_COLUMN + 1, "verified")
    fake.set_cell("Words", number[str(retext.pk)], TEXT_COLUMN + 1, "Hullo")
    fake.set_cell("Words", number[str(bad_text.pk)], TEXT_COLUMN + 1, "a\tl")
    fake.set_cell("Words", number[str(bad_status.pk)], WORD_STATUS_COLUMN + 1, "maybe")
    fake.set_cell("Words", number[str(conflict.pk)], TEXT_COLUMN + 1, "888")
    services.review_word_feedback(word_id=conflict.pk, action="reject", reviewer=None)

    output = sync("--pull", "--dry-run")
    assert "Words: 2 reviewer edits would be applied" in output
    assert WordFeedback.objects.get(pk=verify.pk).status == "new"

    output = sync("--pull")
    assert "Words: 2 reviewer edits applied" in output
    assert f"row {number[str(untouched.pk)]}:" not in output
    assert "line break or another character" in output
    assert "status 'maybe'" in output
    assert "database version is kept" in output
    assert WordFeedback.objects.get(pk=verify.pk).status == "verified"
    relabelled = WordFeedback.objects.select_related("word").get(pk=retext.pk)
    assert (relabelled.is_correct, relabelled.text) == (False, "Hullo")
    assert WordFeedback.objects.select_related("word").get(pk=bad_text.pk).text == "al"
    kept = WordFeedback.objects.select_related("word").get(pk=conflict.pk)
    assert (kept.text, kept.status) == ("800", "rejected")

    sync()  # refused edits are overwritten by the database
    assert fake.worksheets["Words"]["rows"][number[str(bad_text.pk)] - 1][TEXT_COLUMN] == "al"
    assert fake.worksheets["Words"]["rows"][number[str(conflict.pk)] - 1][TEXT_COLUMN] == "800"
    assert_words_mirrored_exactly_once(fake)
