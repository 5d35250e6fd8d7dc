"""Admin for the model registry (versions with their metrics, figures and change against their
parent; activate, roll back) and for retrain jobs (start one, follow it, read its result)."""
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from ml import registry
from ml.kinds import MODELS
from ml.models import ModelVersion, RetrainJob

FIGURES = ("curves.png", "confusion.png")
ADMIN_CSS = {"all": ["feedback/admin.css"]}


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value):
    if _is_number(value) and isinstance(value, float) and 0 <= value <= 1:
        return f"{100 * value:.2f} %"
    return f"{value:.4g}" if _is_number(value) else str(value)


def metric_rows(metrics, path=()):
    """(name, {column: value}) for every part of `metrics` that holds plain figures; per-label
    figures and lists (confusions) become one short text column."""
    rows, scalars = [], {}
    for key, value in metrics.items():
        if isinstance(value, dict) and value and all(len(str(k)) == 1 for k in value):
            scalars[key] = " · ".join(f"{k} {_number(v)}" for k, v in value.items())
        elif isinstance(value, dict):
            rows.extend(metric_rows(value, path + (key,)))
        elif isinstance(value, list):
            scalars[key] = ", ".join(
                f"{item.get('true')}→{item.get('predicted')} ×{item.get('count')}"
                if isinstance(item, dict) and "true" in item else str(item) for item in value[:8])
        else:
            scalars[key] = value
    if scalars:
        rows.insert(0, (" / ".join(path) or "overall", scalars))
    return rows


def metrics_table(metrics):
    rows = metric_rows(metrics or {})
    if not rows:
        return "-"
    columns = []
    for _, values in rows:
        columns.extend(key for key in values if key not in columns)
    head = format_html_join("", "<th>{}</th>", ((column,) for column in columns))
    body = format_html_join("", "<tr><th>{}</th>{}</tr>", (
        (name, format_html_join("", "<td>{}</td>",
                                ((_number(values[c]) if c in values else "",) for c in columns)))
        for name, values in rows))
    return format_html('<table class="hwr-metrics"><thead><tr><th></th>{}</tr></thead>'
                       "<tbody>{}</tbody></table>", head, body)


def flat_numbers(metrics, path=()):
    flat = {}
    for key, value in (metrics or {}).items():
        if isinstance(value, dict):
            flat.update(flat_numbers(value, path + (str(key),)))
        elif _is_number(value):
            flat[" / ".join(path + (str(key),))] = value
    return flat


def change_rows(version):
    """(measure, parent, this version, change) for what can be compared with the parent.

    A retrained version measured itself against its parent (the active version then) on the
    feedback holdout and the standard test set; other figures are compared where both have them.
    """
    rows = []
    for name in ("feedback_holdout", "standard_test"):
        part = version.metrics.get(name)
        if isinstance(part, dict) and _is_number(part.get("active")) and _is_number(part.get("candidate")):
            rows.append((f"{name} accuracy ({part.get('count')} samples; fixed {part.get('fixed')}, "
                         f"broken {part.get('broken')})", part["active"], part["candidate"]))
    if version.parent is not None:
        mine, theirs = flat_numbers(version.metrics), flat_numbers(version.parent.metrics)
        rows.extend((key, theirs[key], mine[key]) for key in mine
                    if key in theirs and "per_class" not in key and not key.startswith(
                        ("feedback_holdout", "standard_test")))
    return rows


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("name", "version", "is_active", "bundled", "headline_metrics", "parent",
                    "created")
    list_filter = ("name", "is_active", "bundled")
    search_fields = ("version", "notes")
    readonly_fields = ("name", "version", "bundle_path", "bundled", "parent", "is_active",
                       "created", "change_against_parent", "metrics_tables", "training_data_table",
                       "figures")
    fields = readonly_fields + ("notes",)
    actions = ("activate_selected", "roll_back")

    class Media:
        css = ADMIN_CSS

    def has_add_permission(self, request):
        return False  # versions come from training and retraining, not from a form

    @admin.display(description="metrics")
    def headline_metrics(self, version):
        """The one or two figures that tell versions apart, readable in a list."""
        metrics = version.metrics or {}
        if "standard_test" in metrics:
            parts = [(name, metrics[name]) for name in ("feedback_holdout", "standard_test")
                     if _is_number(metrics[name].get("candidate"))]
            return format_html_join(", ", "{}: {}", ((name.replace("_", " "),
                                                       _number(part["candidate"]))
                                                      for name, part in parts)) or "-"
        tests = metrics.get("test") if isinstance(metrics.get("test"), dict) else {}
        accuracies = [(name, part["accuracy"]) for name, part in tests.items()
                      if isinstance(part, dict) and _is_number(part.get("accuracy"))][:3]
        if not accuracies:
            accuracies = [(key, value) for key, value in metrics.items() if _is_number(value)][:3]
        return format_html_join(", ", "{}: {}", ((k, _number(v)) for k, v in accuracies)) or "-"

    @admin.display(description="metrics")
    def metrics_tables(self, version):
        return metrics_table(version.metrics)

    @admin.display(description="training data")
    def training_data_table(self, version):
        data = dict(version.training_data or {})
        datasets = data.pop("datasets", None) or []
        rows = [(item.get("name", "?"), item.get("split", ""), item.get("count", ""))
                for item in datasets if isinstance(item, dict)]
        rows += [(key, "", value) for key, value in data.items() if not isinstance(value, (dict, list))]
        if not rows:
            return "-"
        return format_html('<table class="hwr-metrics"><thead><tr><th>source</th><th>split</th>'
                           "<th>samples</th></tr></thead><tbody>{}</tbody></table>",
                           format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows))

    @admin.display(description="change against its parent")
    def change_against_parent(self, version):
        rows = change_rows(version)
        if not rows:
            return "-" if version.parent is None else "no figure measured on both"
        body = format_html_join("", "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (name, _number(before), _number(after),
             f"{100 * (after - before):+.2f} points" if abs(before) <= 1 and abs(after) <= 1
             else f"{after - before:+.4g}")
            for name, before, after in rows))
        return format_html('<table class="hwr-metrics"><thead><tr><th>measure</th><th>parent</th>'
                           "<th>this version</th><th>change</th></tr></thead><tbody>{}</tbody></table>",
                           body)

    @admin.display(description="figures")
    def figures(self, version):
        present = [name for name in FIGURES if (version.bundle_dir / name).is_file()]
        return format_html_join(
            "", '<img src="{}" alt="{}" class="hwr-figure">',
            ((reverse("admin:ml_modelversion_figure", args=[version.pk, name]), name)
             for name in present),
        ) or "-"

    def get_urls(self):
        figure = self.admin_site.admin_view(self.figure_view)
        return [
            path("<int:pk>/figure/<str:name>/", figure, name="ml_modelversion_figure"),
        ] + super().get_urls()

    def figure_view(self, request, pk, name):
        """A bundle's plot; only the known figure names, never a path from the request."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if name not in FIGURES:
            raise Http404("unknown figure")
        version = get_object_or_404(ModelVersion, pk=pk)
        figure_path = version.bundle_dir / name
        if not figure_path.is_file():
            raise Http404("figure not in this bundle")
        return FileResponse(figure_path.open("rb"), content_type="image/png")

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "retrain_kinds": MODELS,
                         "can_retrain": request.user.has_perm("ml.add_retrainjob")}
        return super().changelist_view(request, extra_context)

    @admin.action(description="Activate the selected version (one per model)", permissions=["change"])
    def activate_selected(self, request, queryset):
        chosen = list(queryset)
        if len({version.name for version in chosen}) != len(chosen):
            self.message_user(request, "Select at most one version per model.", messages.ERROR)
            return
        with transaction.atomic():  # all of the selected versions, or none
            for version in chosen:
                registry.activate(version)
        self.message_user(request, format_html(
            "Activated {}. Web workers switch within a few seconds.",
            ", ".join(str(version) for version in chosen)))

    @admin.action(description="Roll back: re-activate the parent of the selected version",
                  permissions=["change"])
    @transaction.atomic
    def roll_back(self, request, queryset):
        for version in queryset:
            if version.parent is None:
                self.message_user(request, f"{version} has no parent to roll back to.",
                                  messages.WARNING)
                continue
            registry.activate(version.parent)
            self.message_user(request, f"{version.name}: rolled back to {version.parent.version}.")


@admin.register(RetrainJob)
class RetrainJobAdmin(admin.ModelAdmin):
    """Retrains started here run in the task worker (`manage.py db_worker`); this page follows
    them: stage, epochs, the gate's figures, the log and the result."""

    list_display = ("id", "kind", "status", "stage_and_progress", "outcome", "version",
                    "requested_by", "created", "finished")
    list_filter = ("kind", "status", "outcome")
    readonly_fields = ("kind", "status", "stage", "progress_table", "outcome", "message",
                       "version_link", "options", "requested_by", "task_id", "created", "started",
                       "finished", "log_text")
    fields = readonly_fields
    actions = ("cancel_selected",)

    class Media:
        css = ADMIN_CSS

    def has_add_permission(self, request):
        return False  # started with the "Retrain now" buttons, which enqueue the job

    def has_change_permission(self, request, obj=None):
        return False  # the worker writes jobs; people only read them (and cancel, see below)

    @admin.display(description="progress")
    def stage_and_progress(self, job):
        progress = job.progress or {}
        if job.stage == "fine-tuning" and progress.get("epochs"):
            return f"fine-tuning, epoch {progress.get('epoch', 0)} of {progress['epochs']}"
        return job.stage or "-"

    @admin.display(description="progress")
    def progress_table(self, job):
        progress = dict(job.progress or {})
        gate = progress.pop("gate", None)
        refused = progress.pop("refused", None)
        parts = [metrics_table({"figures": progress}) if progress else ""]
        if gate:
            parts.append(metrics_table(gate))
        if refused:
            parts.append(format_html("<p>Refused by the gate: {}</p>", "; ".join(refused)))
        return format_html_join("", "{}", ((part,) for part in parts if part)) or "-"

    @admin.display(description="log")
    def log_text(self, job):
        return format_html('<pre class="hwr-log">{}</pre>', job.log or "(nothing yet)")

    @admin.display(description="version")
    def version_link(self, job):
        if job.version is None:
            return "-"
        url = reverse("admin:ml_modelversion_change", args=[job.version.pk])
        return format_html('<a href="{}">{}</a>', url, job.version)

    def get_urls(self):
        start = self.admin_site.admin_view(require_POST(self.start_view))
        return [path("start/", start, name="ml_retrainjob_start")] + super().get_urls()

    def start_view(self, request):
        """POST from the "Retrain now" buttons: queue a job and show it."""
        from ml import tasks

        if not request.user.has_perm("ml.add_retrainjob"):
            raise PermissionDenied
        kind = request.POST.get("kind")
        if kind not in MODELS:
            self.message_user(request, f"Unknown model {kind!r}.", messages.ERROR)
            return redirect("admin:ml_retrainjob_changelist")
        options = {"include_unreviewed": request.POST.get("include_unreviewed") == "on",
                   "include_prompted": request.POST.get("include_prompted") == "on"}
        for name, low, high in (("epochs", 1, 50), ("test_limit", 100, 1_000_000),
                                ("min_samples", 1, 1_000_000)):
            value = request.POST.get(name, "").strip()
            if not value:
                continue
            if not value.isdigit() or not low <= int(value) <= high:
                self.message_user(request, f"{name.replace('_', ' ')} must be a whole number "
                                           f"from {low} to {high}.", messages.ERROR)
                return redirect("admin:ml_retrainjob_changelist")
            options[name] = int(value)
        try:
            job = tasks.start_retrain(kind, options, requested_by=request.user)
        except tasks.RetrainRefused as error:
            self.message_user(request, f"Not started: {error}.", messages.ERROR)
            return redirect("admin:ml_retrainjob_changelist")
        self.message_user(request, f"Retrain of {kind} queued (job {job.pk}); the worker "
                                   f"(manage.py db_worker) picks it up.", messages.SUCCESS)
        return redirect("admin:ml_retrainjob_change", job.pk)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "retrain_kinds": MODELS,
                         "can_retrain": request.user.has_perm("ml.add_retrainjob")}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        extra_context = {**(extra_context or {}), "refresh": job is not None and job.is_active}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Cancel the selected queued or stuck jobs", permissions=["delete"])
    def cancel_selected(self, request, queryset):
        from ml import tasks

        count = sum(tasks.cancel(job) for job in queryset)
        self.message_user(request, f"{count} job(s) cancelled.")
