"""The Content-Security-Policy (no inline scripts or styles) breaks no page: Chromium reports no
violation on the site's pages, the API docs and the admin, and drawing still predicts."""
import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import expect

from recognition.tests.browser import draw
from recognition.tests.images import SEVEN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def violations(page):
    """Console reports of the policy refusing something, collected while the test runs."""
    reports = []
    page.on("console", lambda message: reports.append(message.text)
            if "Content Security Policy" in message.text else None)
    return reports


def test_pages_work_under_the_policy(page, live_server, tiny_models, violations):
    page.goto(f"{live_server.url}/draw/")
    draw(page, [[(x, y) for x, y in SEVEN]])
    page.get_by_role("button", name="Predict").click()
    expect(page.locator("#result-label")).not_to_be_empty()
    expect(page.locator("#result-seen")).to_have_attribute("src", re.compile(r"^data:image/"))
    for path in ("/", "/upload/", "/challenge/", "/api/v1/docs"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    expect(page.locator(".swagger-ui .info")).to_be_visible()  # the docs rendered
    assert not violations


def test_admin_works_under_the_policy(page, live_server, db, violations):
    get_user_model().objects.create_user("staff", password="a-long-pass-phrase",
                                         is_staff=True, is_superuser=True)
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username:").fill("staff")
    page.get_by_label("Password:").fill("a-long-pass-phrase")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_be_visible()
    for model in admin.site._registry:
        info = model._meta.app_label, model._meta.model_name
        page.goto(live_server.url + reverse("admin:%s_%s_changelist" % info))
        page.wait_for_load_state("networkidle")
        expect(page.locator("#content")).to_be_visible()
    page.goto(live_server.url + reverse("admin:auth_user_add"))  # a form with the admin's scripts
    page.wait_for_load_state("networkidle")
    expect(page.locator("#id_username")).to_be_visible()
    assert not violations, violations
