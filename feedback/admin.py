"""Review of feedback in the Django admin: list, filters, review actions, dataset export, summary."""
import base64

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Q
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from recognition.models import Sample, Word

from . import selectors, services
from .models import (Feedback, FeedbackSubmission, FeedbackSummary, GoldLabel, WordFeedback,
                     WordFeedbackSubmission)


ADMIN_CSS = {"all": ["feedback/admin.css"]}


def normalized_thumbnail(sample):
    data = base64.b64encode(bytes(sample.normalized_png)).decode("ascii")
    return format_html(
        '<img src="data:image/png;base64,{}" width="28" height="28" alt="normalized" class="hwr-28">',
        data,
    )


def original_thumbnail(sample):
    """A small copy made once (a few KB), never the original, which can be a multi-MB photo."""
    url = reverse("feedback:sample_image", args=[sample.pk, selectors.THUMBNAIL_SIZE])
    return format_html('<img src="{}" alt="original" class="hwr-thumb" loading="lazy">', url)


def original_preview(sample):
    url = reverse("feedback:sample_image", args=[sample.pk, selectors.PREVIEW_SIZE])
    link = format_html(' <a href="{}">original file</a>', sample.image.url) if sample.image else ""
    return format_html('<img src="{}" alt="original" class="hwr-preview">{}', url, link)


def word_thumbnail(word):
    """A small copy of the word's image, made once (see `original_thumbnail`)."""
    url = reverse("feedback:word_image", args=[word.pk, selectors.WORD_THUMBNAIL_SIZE])
    return format_html('<img src="{}" alt="the word as written" class="hwr-word" loading="lazy">', url)


def word_preview(word):
    url = reverse("feedback:word_image", args=[word.pk, selectors.WORD_PREVIEW_SIZE])
    link = format_html(' <a href="{}">original file</a>', word.image.url) if word.image else ""
    return format_html('<img src="{}" alt="the word as written" class="hwr-preview">{}', url, link)


def top_k_table(sample):
    """The model's best guesses with their probabilities, as a table."""
    if not sample.top5:
        return "-"
    rows = format_html_join("", "<tr><td>{}</td><td>{}</td></tr>", (
        (guess.get("label"), f"{100 * guess.get('probability', 0):.1f} %") for guess in sample.top5))
    return format_html('<table class="hwr-metrics"><thead><tr><th>label</th><th>probability</th>'
                       "</tr></thead><tbody>{}</tbody></table>", rows)


def short_id(sample_id):
    return str(sample_id)[:8]


class SyncedFilter(admin.SimpleListFilter):
    title = "synced to Sheets"
    parameter_name = "synced"

    def lookups(self, request, model_admin):
        return [("yes", "synced"), ("no", "pending")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.synced()
        if self.value() == "no":
            return queryset.pending_sync()
        return queryset


class ConfidenceFilter(admin.SimpleListFilter):
    title = "confidence"
    parameter_name = "confidence"
    BANDS = {"low": (0, 0.5), "medium": (0.5, 0.9), "high": (0.9, 1.01)}

    def lookups(self, request, model_admin):
        return [("low", "below 50%"), ("medium", "50% to 90%"), ("high", "90% and above")]

    def queryset(self, request, queryset):
        if self.value() in self.BANDS:
            low, high = self.BANDS[self.value()]
            return queryset.filter(sample__confidence__gte=low, sample__confidence__lt=high)
        return queryset


class SampleThumbnails:
    """Columns showing a sample's original and normalised images."""

    @admin.display(description="original")
    def original(self, sample):
        return original_thumbnail(sample)

    @admin.display(description="28×28")
    def normalized(self, sample):
        return normalized_thumbnail(sample)


class PromptedFilter(admin.SimpleListFilter):
    """Challenge drawings (labelled by the prompt) apart from ordinary predictions."""

    title = "prompted (challenge)"
    parameter_name = "prompted"

    def lookups(self, request, model_admin):
        return [("yes", "prompted"), ("no", "not prompted")]

    def queryset(self, request, queryset):
        field = "prompt" if queryset.model is Sample else "sample__prompt"
        if self.value() == "yes":
            return queryset.exclude(**{field: ""})
        if self.value() == "no":
            return queryset.filter(**{field: ""})
        return queryset


class ReadOnlyInline(admin.TabularInline):
    """Rows shown for the record: what was stored is never added or removed from here."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class SubmissionInline(ReadOnlyInline):
    model = FeedbackSubmission
    fields = ["submitted", "channel", "is_correct", "correct_label", "user", "client_hash"]
    readonly_fields = fields


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = [
        "short_id", "original", "normalized", "predicted", "corrected", "status", "origin",
        "confidence", "kind", "model_version", "synced", "updated",
    ]
    list_display_links = ["short_id"]
    list_select_related = ["sample"]
    list_filter = [
        "status", "origin", PromptedFilter, "is_correct", "sample__kind", "sample__source",
        "sample__model_version", ConfidenceFilter, SyncedFilter, "sample__predicted_label", "correct_label",
    ]
    search_fields = ["sample__predicted_label", "correct_label"]
    search_help_text = "A single character finds that exact label, predicted or corrected (case matters)."
    date_hierarchy = "updated"
    actions = ["verify", "reject", "export_dataset", "resync", "make_gold"]
    fields = [
        "sample_link", "preview", "normalized", "predicted", "confidence", "top_k", "is_correct",
        "correct_label", "status", "origin", "reviewer_notes", "reviewed_by", "reviewed_at",
        "created", "updated", "synced_at", "sheet_row_key",
    ]
    readonly_fields = [
        "sample_link", "preview", "normalized", "predicted", "confidence", "top_k", "origin",
        "reviewed_by", "reviewed_at", "created", "updated", "synced_at", "sheet_row_key",
    ]
    inlines = [SubmissionInline]

    class Media:
        css = ADMIN_CSS

    @admin.display(description="sample", ordering="sample_id")
    def short_id(self, feedback):
        return short_id(feedback.sample_id)

    @admin.display(description="original")
    def preview(self, feedback):
        return original_preview(feedback.sample)

    @admin.display(description="model's top 5")
    def top_k(self, feedback):
        return top_k_table(feedback.sample)

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        if {"status", "is_correct", "correct_label"} & set(form.changed_data):
            obj.reviewed_by, obj.reviewed_at = request.user, timezone.now()
        if {"is_correct", "correct_label"} & set(form.changed_data):
            obj.origin = Feedback.Origin.REVIEWER  # the label is now the reviewer's
        super().save_model(request, obj, form, change)

    def get_search_results(self, request, queryset, search_term):
        # Labels are single, case-sensitive characters: "a" must not find "A".
        if len(search_term) == 1:
            return queryset.filter(Q(sample__predicted_label=search_term) | Q(correct_label=search_term)), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="original")
    def original(self, feedback):
        return original_thumbnail(feedback.sample)

    @admin.display(description="28×28")
    def normalized(self, feedback):
        return normalized_thumbnail(feedback.sample)

    @admin.display(description="predicted", ordering="sample__predicted_label")
    def predicted(self, feedback):
        return feedback.sample.predicted_label

    @admin.display(description="corrected", ordering="correct_label")
    def corrected(self, feedback):
        return feedback.correct_label or "-"

    @admin.display(description="conf.", ordering="sample__confidence")
    def confidence(self, feedback):
        return f"{feedback.sample.confidence:.1%}"

    @admin.display(ordering="sample__kind")
    def kind(self, feedback):
        return feedback.sample.kind

    @admin.display(ordering="sample__source")
    def source(self, feedback):
        return feedback.sample.source

    @admin.display(description="model", ordering="sample__model_version")
    def model_version(self, feedback):
        return feedback.sample.model_version

    @admin.display(boolean=True)
    def synced(self, feedback):
        return not feedback.is_pending_sync

    @admin.display(description="sample")
    def sample_link(self, feedback):
        url = reverse("admin:recognition_sample_change", args=[feedback.pk])
        return format_html('<a href="{}">{}</a>', url, feedback.pk)

    @admin.action(description="Mark selected feedback as verified", permissions=["change"])
    def verify(self, request, queryset):
        count = services.set_status(queryset, Feedback.Status.VERIFIED, reviewer=request.user)
        self.message_user(request, f"{count} feedback verified.", messages.SUCCESS)

    @admin.action(description="Mark selected feedback as rejected", permissions=["change"])
    def reject(self, request, queryset):
        count = services.set_status(queryset, Feedback.Status.REJECTED, reviewer=request.user)
        self.message_user(request, f"{count} feedback rejected.", messages.SUCCESS)

    @admin.action(description="Export selected training labels as a dataset (zip: MNIST-layout "
                              "npz + PNGs)…")
    def export_dataset(self, request, queryset):
        """A page to choose what counts, as `retrain`'s options choose it (the same default),
        with how many of the selected each choice exports; its Export button sends the zip."""
        include_unreviewed = request.POST.get("include_unreviewed") == "on"
        include_prompted = request.POST.get("include_prompted") == "on"
        if request.POST.get("export") == "yes":
            archive, count = services.export_dataset(queryset, include_unreviewed, include_prompted)
            response = HttpResponse(archive, content_type="application/zip")
            name = f"hwr-feedback-{timezone.now():%Y%m%d-%H%M%S}-{count}.zip"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        context = {
            **self.admin_site.each_context(request),
            "title": "Export training labels",
            "opts": self.model._meta,
            "choices": selectors.export_choices(queryset),
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "include_unreviewed": include_unreviewed,
            "include_prompted": include_prompted,
        }
        return TemplateResponse(request, "admin/feedback/feedback/export_dataset.html", context)

    @admin.action(description="Re-sync selected to Google Sheets (next sync_sheets run)", permissions=["change"])
    def resync(self, request, queryset):
        count = services.mark_for_resync(queryset)
        self.message_user(request, f"{count} rows will be sent again by the next sync_sheets run.")


    @admin.action(description="Use selected verified feedback as known (gold) items",
                  permissions=["change"])
    def make_gold(self, request, queryset):
        count = services.make_gold(queryset, added_by=request.user)
        self.message_user(request, f"{count} known items added (only verified feedback counts); "
                                   "set HWR_REVIEW_GOLD_EVERY to mix them into review queues.")


@admin.register(GoldLabel)
class GoldLabelAdmin(admin.ModelAdmin):
    """Known items: added from verified feedback, removed here; reviewers' scores are on the
    summary page."""

    list_display = ["short_id", "original", "label", "added_by", "created"]
    list_select_related = ["sample", "added_by"]
    fields = ["original", "label", "added_by", "created"]
    readonly_fields = fields

    class Media:
        css = ADMIN_CSS

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="sample", ordering="sample_id")
    def short_id(self, gold):
        return short_id(gold.sample_id)

    @admin.display(description="original")
    def original(self, gold):
        return original_thumbnail(gold.sample)


@admin.register(FeedbackSummary)
class FeedbackSummaryAdmin(admin.ModelAdmin):
    """The admin index entry "Summary": statistics instead of a list."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        context = {
            **self.admin_site.each_context(request),
            "title": "Feedback summary",
            "opts": self.model._meta,
            "summary": services.summary(),
        }
        return TemplateResponse(request, "admin/feedback/summary.html", context)


@admin.register(Sample)
class SampleAdmin(SampleThumbnails, admin.ModelAdmin):
    """Every prediction, with or without feedback (read-only: it is the server's record)."""

    list_display = ["short_id", "original", "normalized", "kind", "source", "predicted_label",
                    "confidence_shown", "margin_shown", "model_version", "feedback_status", "created"]
    list_display_links = ["short_id"]
    list_select_related = ["feedback"]
    list_filter = ["kind", "source", PromptedFilter, "model_version",
                   ("feedback", admin.EmptyFieldListFilter)]
    date_hierarchy = "created"
    fields = ["preview", "normalized", "kind", "source", "predicted_label", "confidence_shown",
              "margin_shown", "top_k", "model_name", "model_version", "prompt", "feedback_link",
              "word", "position", "box", "image_sha256", "created"]
    readonly_fields = fields

    class Media:
        css = ADMIN_CSS

    @admin.display(description="sample", ordering="id")
    def short_id(self, sample):
        return short_id(sample.pk)

    @admin.display(description="original")
    def preview(self, sample):
        return original_preview(sample)

    @admin.display(description="conf.", ordering="confidence")
    def confidence_shown(self, sample):
        return f"{sample.confidence:.1%}"

    @admin.display(description="margin", ordering="margin")
    def margin_shown(self, sample):
        return "-" if sample.margin is None else f"{sample.margin:.2f}"

    @admin.display(description="model's top 5")
    def top_k(self, sample):
        return top_k_table(sample)

    @admin.display(description="feedback", ordering="feedback__status")
    def feedback_status(self, sample):
        feedback = getattr(sample, "feedback", None)
        return "-" if feedback is None else f"{feedback.status} ({feedback.label})"

    @admin.display(description="feedback")
    def feedback_link(self, sample):
        feedback = getattr(sample, "feedback", None)
        if feedback is None:
            return "none yet"
        url = reverse("admin:feedback_feedback_change", args=[sample.pk])
        return format_html('<a href="{}">{} ({}, {})</a>', url, feedback.label, feedback.status,
                           feedback.origin)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CharacterInline(SampleThumbnails, ReadOnlyInline):
    """A word's characters in order: each is a Sample with its own feedback."""

    model = Sample
    fk_name = "word"
    ordering = ["position"]
    fields = ["position", "original", "normalized", "predicted_label", "confidence", "box"]
    readonly_fields = fields


@admin.register(Word)
class WordAdmin(admin.ModelAdmin):
    """Lines of several characters (text mode), read-only like samples."""

    list_display = ["short_id", "image_shown", "text", "kind", "source", "feedback_status",
                    "case_consistency", "created"]
    list_display_links = ["short_id"]
    list_select_related = ["feedback"]
    list_filter = ["kind", "source", ("feedback", admin.EmptyFieldListFilter), "model_name",
                   "case_consistency"]
    search_fields = ["text"]
    date_hierarchy = "created"
    fields = ["preview", "text", "candidates", "kind", "source", "feedback_link", "model_name",
              "model_version", "case_consistency", "created"]
    readonly_fields = fields
    inlines = [CharacterInline]

    class Media:
        css = ADMIN_CSS

    @admin.display(description="word", ordering="id")
    def short_id(self, word):
        return short_id(word.pk)

    @admin.display(description="image")
    def image_shown(self, word):
        return word_thumbnail(word)

    @admin.display(description="image")
    def preview(self, word):
        return word_preview(word)

    @admin.display(description="feedback", ordering="feedback__status")
    def feedback_status(self, word):
        feedback = getattr(word, "feedback", None)
        return "-" if feedback is None else f"{feedback.status} ({feedback.text})"

    @admin.display(description="feedback")
    def feedback_link(self, word):
        feedback = getattr(word, "feedback", None)
        if feedback is None:
            return "none yet"
        url = reverse("admin:feedback_wordfeedback_change", args=[word.pk])
        return format_html('<a href="{}">{} ({}, {})</a>', url, feedback.text, feedback.status,
                           feedback.origin)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class WordSubmissionInline(ReadOnlyInline):
    model = WordFeedbackSubmission
    fields = ["submitted", "channel", "is_correct", "correct_text", "user", "client_hash"]
    readonly_fields = fields


@admin.register(WordFeedback)
class WordFeedbackAdmin(admin.ModelAdmin):
    """What people said whole words read: reviewed like characters' feedback."""

    list_display = ["short_id", "image_shown", "read", "given", "status", "origin", "kind",
                    "source", "synced", "updated"]
    list_display_links = ["short_id"]
    list_select_related = ["word"]
    list_filter = ["status", "origin", "is_correct", "word__kind", "word__source", SyncedFilter]
    search_fields = ["word__text", "correct_text"]
    search_help_text = "Finds words whose reading or given text contains this."
    date_hierarchy = "updated"
    actions = ["verify", "reject", "resync"]
    fields = [
        "word_link", "preview", "read", "characters", "is_correct", "correct_text", "status",
        "origin", "reviewer_notes", "reviewed_by", "reviewed_at", "created", "updated", "synced_at",
    ]
    readonly_fields = [
        "word_link", "preview", "read", "characters", "origin", "reviewed_by", "reviewed_at",
        "created", "updated", "synced_at",
    ]
    inlines = [WordSubmissionInline]

    class Media:
        css = ADMIN_CSS

    @admin.display(description="word", ordering="word_id")
    def short_id(self, feedback):
        return short_id(feedback.word_id)

    @admin.display(description="image")
    def image_shown(self, feedback):
        return word_thumbnail(feedback.word)

    @admin.display(description="image")
    def preview(self, feedback):
        return word_preview(feedback.word)

    @admin.display(description="read", ordering="word__text")
    def read(self, feedback):
        return feedback.word.text

    @admin.display(description="given", ordering="correct_text")
    def given(self, feedback):
        return "(as read)" if feedback.is_correct else feedback.correct_text

    @admin.display(ordering="word__kind")
    def kind(self, feedback):
        return feedback.word.kind

    @admin.display(ordering="word__source")
    def source(self, feedback):
        return feedback.word.source

    @admin.display(boolean=True)
    def synced(self, feedback):
        return not feedback.is_pending_sync

    @admin.display(description="word")
    def word_link(self, feedback):
        url = reverse("admin:recognition_word_change", args=[feedback.pk])
        return format_html('<a href="{}">{}</a>', url, feedback.pk)

    @admin.display(description="characters' feedback")
    def characters(self, feedback):
        """Each character read, and what its own feedback says (set from the word's answer
        when the lengths matched, or given on the character)."""
        rows = []
        for sample in feedback.word.characters.select_related("feedback").order_by("position"):
            own = getattr(sample, "feedback", None)
            url = reverse("admin:recognition_sample_change", args=[sample.pk])
            rows.append((url, sample.predicted_label, "-" if own is None else own.label,
                         "" if own is None else own.status))
        if not rows:
            return "-"
        body = format_html_join("", '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td></tr>', rows)
        return format_html('<table class="hwr-metrics"><thead><tr><th>read</th><th>feedback</th>'
                           "<th>status</th></tr></thead><tbody>{}</tbody></table>", body)

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        if {"status", "is_correct", "correct_text"} & set(form.changed_data):
            obj.reviewed_by, obj.reviewed_at = request.user, timezone.now()
        if {"is_correct", "correct_text"} & set(form.changed_data):
            obj.origin = WordFeedback.Origin.REVIEWER  # the text is now the reviewer's
        super().save_model(request, obj, form, change)

    @admin.action(description="Re-sync selected to Google Sheets (next sync_sheets run)", permissions=["change"])
    def resync(self, request, queryset):
        count = services.mark_for_resync(queryset)
        self.message_user(request, f"{count} rows will be sent again by the next sync_sheets run.")

    @admin.action(description="Mark selected word feedback as verified", permissions=["change"])
    def verify(self, request, queryset):
        count = services.set_status(queryset, WordFeedback.Status.VERIFIED, reviewer=request.user)
        self.message_user(request, f"{count} word feedback verified.", messages.SUCCESS)

    @admin.action(description="Mark selected word feedback as rejected", permissions=["change"])
    def reject(self, request, queryset):
        count = services.set_status(queryset, WordFeedback.Status.REJECTED, reviewer=request.user)
        self.message_user(request, f"{count} word feedback rejected.", messages.SUCCESS)
