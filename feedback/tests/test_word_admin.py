"""Word feedback in the admin: listed with a small copy of the word's image, the text read and
the text given, filtered, verified or rejected by staff who may change feedback; the word
images served to staff only."""
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from feedback.models import WordFeedback, WordFeedbackSubmission, WordThumbnail

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:feedback_wordfeedback_changelist")


@pytest.fixture
def answered(make_word):
    """Words of each kind with feedback: confirmed, corrected, verified, rejected."""
    return {
        "confirmed": WordFeedback.objects.create(word=make_word("42"), is_correct=True),
        "corrected": WordFeedback.objects.create(word=make_word("Hallo", kind="letter"),
                                                 is_correct=False, correct_text="Hello"),
        "verified": WordFeedback.objects.create(word=make_word("17", source="upload"), is_correct=False,
                                                correct_text="71", status=WordFeedback.Status.VERIFIED),
        "rejected": WordFeedback.objects.create(word=make_word("a b", kind="any"), is_correct=False,
                                                correct_text="a-b", status=WordFeedback.Status.REJECTED),
    }


def listed(client, **params):
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return {feedback.pk for feedback in response.context["cl"].result_list}


def run_action(client, action, *feedbacks):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [str(f.pk) for f in feedbacks]},
                       follow=True)


def test_the_list_shows_a_small_image_the_text_read_and_the_text_given(admin_client, answered):
    html = admin_client.get(CHANGELIST).content.decode()
    word = answered["corrected"].word
    assert f'src="/review/word-image/{word.pk}/192"' in html, "a small copy, never the original"
    assert word.image.url not in html
    for column in ("Hallo", "Hello", "(as read)", "verified", "rejected"):
        assert column in html


@pytest.mark.parametrize("params, expected", [
    ({"status__exact": "new"}, {"confirmed", "corrected"}),
    ({"status__exact": "verified"}, {"verified"}),
    ({"is_correct__exact": "1"}, {"confirmed"}),
    ({"word__kind__exact": "letter"}, {"corrected"}),
    ({"word__source__exact": "upload"}, {"verified"}),
    ({"q": "Hell"}, {"corrected"}),
])
def test_filters_and_search(admin_client, answered, params, expected):
    assert listed(admin_client, **params) == {answered[name].pk for name in expected}


def test_verify_and_reject_record_the_reviewer(admin_client, admin_user, answered):
    run_action(admin_client, "verify", answered["confirmed"], answered["corrected"])
    verified = WordFeedback.objects.filter(status="verified")
    assert set(verified.values_list("pk", flat=True)) == {
        answered[name].pk for name in ("confirmed", "corrected", "verified")}
    assert WordFeedback.objects.get(pk=answered["corrected"].pk).reviewed_by == admin_user
    run_action(admin_client, "reject", answered["corrected"])
    assert WordFeedback.objects.get(pk=answered["corrected"].pk).status == "rejected"


def test_view_only_staff_can_look_but_not_review(client, django_user_model, answered):
    user = django_user_model.objects.create_user("viewer", password="a-long-pass-phrase", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_wordfeedback", "view_word"]))
    client.force_login(user)
    assert client.get(CHANGELIST).status_code == 200
    pending = answered["corrected"]
    for action in ("verify", "reject"):
        run_action(client, action, pending)
    change = reverse("admin:feedback_wordfeedback_change", args=[pending.pk])
    client.post(change, {"is_correct": "", "correct_text": "Hullo", "status": "verified"})
    pending.refresh_from_db()
    assert (pending.status, pending.correct_text) == ("new", "Hello")
    image = client.get(reverse("feedback:word_image", args=[pending.pk, 192]))
    assert image.status_code == 200  # looking is allowed


def test_the_change_page_shows_the_trail_and_the_characters_and_validates_the_text(
        admin_client, admin_user, answered):
    feedback = answered["confirmed"]
    WordFeedbackSubmission.objects.create(feedback=feedback, is_correct=True, channel="api",
                                          client_hash="0" * 64)
    url = reverse("admin:feedback_wordfeedback_change", args=[feedback.pk])
    html = admin_client.get(url).content.decode()
    assert "0" * 64 in html and "<th>read</th><th>feedback</th>" in html
    assert f'src="/review/word-image/{feedback.pk}/640"' in html
    form = {"is_correct": "", "correct_text": "4a", "status": "new", "reviewer_notes": "",
            "submissions-TOTAL_FORMS": "1", "submissions-INITIAL_FORMS": "1",
            "submissions-MIN_NUM_FORMS": "0", "submissions-MAX_NUM_FORMS": "1000",
            "submissions-0-id": str(feedback.submissions.get().pk),
            "submissions-0-feedback": str(feedback.pk)}
    response = admin_client.post(url, form)
    assert response.status_code == 200 and "cannot be in a digit word" in response.content.decode()
    response = admin_client.post(url, {**form, "correct_text": "47", "status": "verified"})
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert (feedback.text, feedback.status, feedback.origin, feedback.reviewed_by) == (
        "47", "verified", "reviewer", admin_user)


def test_the_word_list_shows_which_words_have_feedback(admin_client, answered, make_word):
    lonely = make_word("9")
    changelist = reverse("admin:recognition_word_changelist")
    response = admin_client.get(changelist, {"feedback__isempty": "1"})
    assert [word.pk for word in response.context["cl"].result_list] == [lonely.pk]
    html = admin_client.get(changelist).content.decode()
    assert "verified (71)" in html and f'src="/review/word-image/{lonely.pk}/192"' in html


def test_word_images_are_shrunk_once_for_staff_only(admin_client, client, answered):
    word = answered["corrected"].word
    url = reverse("feedback:word_image", args=[word.pk, 192])
    response = admin_client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    with Image.open(io.BytesIO(response.content)) as thumbnail:
        assert thumbnail.size == (192, 64)
    assert WordThumbnail.objects.filter(word=word, size=192).count() == 1
    word.image.delete(save=False)  # made once: served from the table from now on
    assert admin_client.get(url).content == response.content
    gone = admin_client.get(reverse("feedback:word_image", args=[word.pk, 640]))
    assert gone.status_code == 404 and "gone" in gone.json()["error"]
    assert admin_client.get(reverse("feedback:word_image", args=[word.pk, 64])).status_code == 404
    assert client.get(url).status_code == 403


def test_the_list_says_which_are_synced_to_sheets_and_resync_sends_them_again(admin_client, answered):
    synced = answered["verified"]
    WordFeedback.objects.filter(pk=synced.pk).update(synced_at=timezone.now() + timedelta(seconds=1))
    names = {feedback.pk: name for name, feedback in answered.items()}
    assert {names[pk] for pk in listed(admin_client, synced="yes")} == {"verified"}
    assert {names[pk] for pk in listed(admin_client, synced="no")} == {"confirmed", "corrected", "rejected"}

    response = run_action(admin_client, "resync", synced)

    assert "1 rows will be sent again" in response.content.decode()
    assert WordFeedback.objects.get(pk=synced.pk).synced_at is None
    assert listed(admin_client, synced="yes") == set()
