"""Registry admin: staff see versions and figures, activate and roll back."""
import shutil

import pytest
from django.urls import reverse
from PIL import Image

from ml import registry
from ml.models import ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions(settings, tiny_bundles_dir, tmp_path):
    """The tiny bundles registered as shipped versions, plus a retrained digit child."""
    shipped = tmp_path / "artifacts"
    shutil.copytree(tiny_bundles_dir, shipped)
    Image.new("RGB", (40, 30), "white").save(shipped / "digit" / "curves.png")
    settings.HWR_BUNDLED_MODELS_DIR = shipped
    ModelVersion.objects.all().delete()
    registry.register_bundled_models()
    original = ModelVersion.objects.get(name="digit", is_active=True)
    child = ModelVersion.objects.create(
        name="digit", version="r2", bundle_path=str(shipped / "digit"), parent=original,
        metrics={"mnist_test_accuracy": 0.99},
    )
    return original, child


def test_admin_requires_staff(client, versions):
    response = client.get(reverse("admin:ml_modelversion_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_change_page_shows_figures_and_serves_only_known_names(admin_client, versions):
    original, _ = versions
    page = admin_client.get(reverse("admin:ml_modelversion_change", args=[original.pk]))
    figure_url = reverse("admin:ml_modelversion_figure", args=[original.pk, "curves.png"])
    assert figure_url in page.content.decode()
    figure = admin_client.get(figure_url)
    assert figure.status_code == 200 and figure["Content-Type"] == "image/png"
    assert b"".join(figure.streaming_content).startswith(b"\x89PNG")
    assert admin_client.get(reverse(
        "admin:ml_modelversion_figure", args=[original.pk, "meta.json"])).status_code == 404
    assert admin_client.get(reverse(
        "admin:ml_modelversion_figure", args=[original.pk, "confusion.png"])).status_code == 404


def test_activate_then_roll_back_actions(admin_client, versions):
    original, child = versions
    changelist = reverse("admin:ml_modelversion_changelist")
    admin_client.post(changelist, {"action": "activate_selected", "_selected_action": [child.pk]})
    assert ModelVersion.objects.get(name="digit", is_active=True).pk == child.pk

    admin_client.post(changelist, {"action": "roll_back", "_selected_action": [child.pk]})
    assert ModelVersion.objects.get(name="digit", is_active=True).pk == original.pk


def test_activating_two_versions_of_one_model_is_refused(admin_client, versions):
    original, child = versions
    response = admin_client.post(
        reverse("admin:ml_modelversion_changelist"),
        {"action": "activate_selected", "_selected_action": [original.pk, child.pk]},
        follow=True,
    )
    assert "at most one version per model" in response.content.decode()
    assert ModelVersion.objects.get(name="digit", is_active=True).pk == original.pk


@pytest.fixture
def view_only_staff(client, django_user_model):
    """Staff with only the view permissions of the registry and the feedback."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="a-long-pass-phrase",
                                                 is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        codename__in=["view_modelversion", "view_feedback", "view_sample"]))
    client.force_login(user)
    return client


def test_view_only_staff_cannot_switch_the_served_model(view_only_staff, versions):
    original, child = versions
    changelist = reverse("admin:ml_modelversion_changelist")
    assert view_only_staff.get(changelist).status_code == 200
    for action in ("activate_selected", "roll_back"):
        view_only_staff.post(changelist, {"action": action, "_selected_action": [child.pk]})
        assert ModelVersion.objects.get(name="digit", is_active=True).pk == original.pk, action
    page = view_only_staff.get(changelist).content.decode()
    assert "activate_selected" not in page and "roll_back" not in page
