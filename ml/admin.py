"""Admin for the model registry: versions with their metrics and figures, activate, roll back."""
from django.contrib import admin, messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from ml import registry
from ml.models import ModelVersion

FIGURES = ("curves.png", "confusion.png")


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("name", "version", "is_active", "bundled", "headline_metrics", "parent",
                    "created")
    list_filter = ("name", "is_active", "bundled")
    search_fields = ("version", "notes")
    readonly_fields = ("name", "version", "bundle_path", "bundled", "parent", "metrics",
                       "training_data", "created", "is_active", "figures")
    fields = readonly_fields + ("notes",)
    actions = ("activate_selected", "roll_back")

    def has_add_permission(self, request):
        return False  # versions come from training and retraining, not from a form

    @admin.display(description="metrics")
    def headline_metrics(self, version):
        numbers = [(key, value) for key, value in version.metrics.items()
                   if isinstance(value, (int, float))][:4]
        return format_html_join(", ", "{}: {}", ((k, f"{v:.4g}") for k, v in numbers)) or "-"

    @admin.display(description="figures")
    def figures(self, version):
        present = [name for name in FIGURES if (version.bundle_dir / name).is_file()]
        return format_html_join(
            "", '<img src="{}" alt="{}" style="max-width:480px;margin-right:1em">',
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
        if name not in FIGURES:
            raise Http404("unknown figure")
        version = get_object_or_404(ModelVersion, pk=pk)
        figure_path = version.bundle_dir / name
        if not figure_path.is_file():
            raise Http404("figure not in this bundle")
        return FileResponse(figure_path.open("rb"), content_type="image/png")

    @admin.action(description="Activate the selected version (one per model)", permissions=["change"])
    def activate_selected(self, request, queryset):
        chosen = list(queryset)
        if len({version.name for version in chosen}) != len(chosen):
            self.message_user(request, "Select at most one version per model.", messages.ERROR)
            return
        for version in chosen:
            registry.activate(version)
        self.message_user(request, format_html(
            "Activated {}. Web workers switch within a few seconds.",
            ", ".join(str(version) for version in chosen)))

    @admin.action(description="Roll back: re-activate the parent of the selected version",
                  permissions=["change"])
    def roll_back(self, request, queryset):
        for version in queryset:
            if version.parent is None:
                self.message_user(request, f"{version} has no parent to roll back to.",
                                  messages.WARNING)
                continue
            registry.activate(version.parent)
            self.message_user(request, f"{version.name}: rolled back to {version.parent.version}.")
