"""The app as deployed: gunicorn, DEBUG off, settings from the environment (.env.example)."""
import os
import re
import secrets
import socket
import threading
from urllib.parse import urljoin

import pytest
import requests
from playwright.sync_api import expect

from testing import servers
from testing.servers import ROOT, manage

pytestmark = pytest.mark.slow
RATE_LIMIT = 12


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """gunicorn with the production example settings, on a scratch SQLite database."""
    scratch = tmp_path_factory.mktemp("production")
    env = {**os.environ, **_example_settings()}
    env.update({
        "DEBUG": "False",
        "ALLOWED_HOSTS": "127.0.0.1",
        "CSRF_TRUSTED_ORIGINS": "https://127.0.0.1",
        "DATABASE_URL": f"sqlite:///{scratch / 'db.sqlite3'}",
        "STATIC_ROOT": str(scratch / "static"),
        "MEDIA_ROOT": str(scratch / "media"),
        "HWR_MODELS_DIR": str(scratch / "models"),
        "HWR_SHEETS_LOCK_FILE": str(scratch / "sheets.lock"),
        "GOOGLE_SERVICE_ACCOUNT_FILE": "",
        "HWR_RATE_LIMIT": f"{RATE_LIMIT}/min",
        "HWR_TRUSTED_PROXIES": "0",
        "CACHE_URL": f"filecache://{scratch / 'cache'}",
        "SECRET_KEY": secrets.token_urlsafe(50),  # a real one; the example's is a placeholder
    })
    env.pop("HWR_BUNDLED_MODELS_DIR", None)
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    with servers.gunicorn(env, threads=4, make_serve=True) as (url, _):
        yield url, env


def _example_settings():
    """KEY=value lines of .env.example (comments and blank lines skipped)."""
    pairs = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            pairs[key.strip()] = value.strip()
    return pairs


def https_get(url, path, timeout=30, **kwargs):
    return requests.get(f"{url}{path}", headers={"X-Forwarded-Proto": "https"},
                        allow_redirects=False, timeout=timeout, **kwargs)


def test_check_deploy_is_clean_with_the_example_settings(production):
    _, env = production
    output = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert "no issues" in output


def test_check_deploy_fails_on_the_example_placeholder_key(production):
    _, env = production
    placeholder = _example_settings()["SECRET_KEY"]
    with pytest.raises(AssertionError, match="security.W009"):
        manage({**env, "SECRET_KEY": placeholder}, "check", "--deploy", "--fail-level", "WARNING")


def test_refuses_to_start_without_a_secret_key(production):
    _, env = production
    env = {**env, "SECRET_KEY": ""}
    with pytest.raises(AssertionError, match="SECRET_KEY is not set"):
        manage(env, "check")
    with pytest.raises(RuntimeError, match="did not start"):
        with servers.gunicorn(env, make_serve=True, start_timeout=20):
            pass


def test_plain_http_is_redirected_to_https(production):
    url, _ = production
    response = requests.get(f"{url}/draw/", allow_redirects=False, timeout=30)
    assert response.status_code == 301
    assert response.headers["Location"].startswith("https://")


def test_pages_carry_security_headers_and_static_files_are_served(production):
    url, _ = production
    page = https_get(url, "/draw/")
    assert page.status_code == 200
    headers = page.headers
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "csrftoken" in headers["Set-Cookie"] and "Secure" in headers["Set-Cookie"]
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', page.text).group(1)
    assert re.fullmatch(r"/static/css/site\.[0-9a-f]{12}\.css", stylesheet)  # hashed name
    css = https_get(url, stylesheet)
    assert css.status_code == 200 and "max-age" in css.headers["Cache-Control"]


@pytest.fixture(scope="module")
def staff_cookies(production):
    """The cookies of a staff user logged in through the admin's login form."""
    url, env = production
    password = secrets.token_urlsafe(16)
    manage({**env, "DJANGO_SUPERUSER_PASSWORD": password}, "createsuperuser", "--noinput",
           "--username", "reviewer", "--email", "reviewer@example.com")
    form = https_get(url, "/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    # The cookies are Secure: requests keeps them from this plain-HTTP origin unless given.
    response = requests.post(
        f"{url}/admin/login/", allow_redirects=False, timeout=30,
        data={"username": "reviewer", "password": password, "csrfmiddlewaretoken": token},
        headers={"X-Forwarded-Proto": "https", "Referer": "https://127.0.0.1/admin/login/"},
        cookies={"csrftoken": form.cookies["csrftoken"]})
    assert response.status_code == 302, response.text
    return {"sessionid": response.cookies["sessionid"]}


def test_each_page_loads_one_module_whose_imports_are_hashed_files_and_preloaded(
        production, staff_cookies):
    """collectstatic rewrote the modules' relative imports to hashed names: a page's modules are
    cached for good and change together, and every one of them is served as JavaScript. The
    page's modulepreload links name exactly the modules its module needs, hashed the same, so
    the browser fetches them all at once and none of them twice."""
    url, _ = production
    served = set()
    for path, cookies in (("/draw/", None), ("/upload/", None), ("/challenge/", None),
                          ("/review/", staff_cookies)):
        response = https_get(url, path, cookies=cookies)
        assert response.status_code == 200, path
        html = response.text
        modules = re.findall(r'<script type="module" src="([^"]+)"></script>', html)
        assert len(modules) == 1, html
        if path != "/review/":  # the admin's pages carry the admin's own classic scripts
            scripts = re.findall(r"<script(?![^>]*application/json)", html)  # not json_script data
            assert len(scripts) == 1, html
        needed = set()
        pending = list(modules)
        while pending:
            module = pending.pop()
            if module in needed:
                continue
            needed.add(module)
            assert re.fullmatch(r"/static/[\w/-]+\.[0-9a-f]{12}\.js", module), module
            response = https_get(url, module)
            assert response.status_code == 200, module
            assert response.headers["Content-Type"].startswith("text/javascript")
            assert "immutable" in response.headers["Cache-Control"]
            imports = re.findall(r"""\bfrom\s*["']([^"']+)["']""", response.text)
            pending += [urljoin(module, name) for name in imports]
        preloads = re.findall(r'<link rel="modulepreload" href="([^"]+)">', html)
        assert len(preloads) == len(set(preloads)), (path, preloads)
        assert set(preloads) == needed - set(modules), (path, preloads, needed)
        served |= needed
    names = {re.sub(r"\.[0-9a-f]{12}\.js$", ".js", module) for module in served}
    assert {"/static/js/api.js", "/static/recognition/pad.js", "/static/recognition/boxes.js",
            "/static/recognition/character-result.js", "/static/recognition/text-result.js",
            "/static/feedback/review.js"} <= names


def test_the_pages_modules_run_in_chromium_as_deployed(production, staff_cookies, browser):
    """The hashed module files load and run under whitenoise and the Content-Security-Policy:
    what the page's own module does without a POST (the test's plain-HTTP origin would fail the
    CSRF origin check) happens, with no error and no policy report."""
    url, _ = production
    context = browser.new_context(extra_http_headers={"X-Forwarded-Proto": "https"})
    context.add_cookies([{"name": name, "value": value, "url": url}
                         for name, value in staff_cookies.items()])
    page = context.new_page()
    errors, reports = [], []
    page.on("pageerror", lambda error: errors.append(error))
    page.on("console", lambda message: reports.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(f"{url}/draw/")
    page.get_by_label("Mode").select_option("text")  # draw.js
    expect(page.get_by_role("heading", level=1)).to_have_text("Write a word or number")
    page.get_by_role("button", name="Predict").click()  # draw.js, api.js
    expect(page.locator("#error")).to_have_text("Draw a character first.")
    page.goto(f"{url}/upload/")
    page.get_by_label("Mode").select_option("text")  # upload.js
    expect(page.get_by_text("Characters that touch are cut apart")).to_be_visible()
    page.goto(f"{url}/review/")
    expect(page.locator("#empty")).to_be_visible()  # review.js asked for items (api.js)
    context.close()
    assert not errors and not reports, (errors, reports)


def test_page_routes_enforce_csrf_and_the_api_does_not_need_it(production):
    url, _ = production
    headers = {"X-Forwarded-Proto": "https", "Accept": "application/json",
               "Referer": "https://127.0.0.1/draw/"}
    for path, body in (("/submit", {"kind": "digit", "image": "data:,"}),
                       ("/feedback", {"sample_id": "x", "is_correct": True})):
        response = requests.post(f"{url}{path}", json=body, headers=headers, timeout=30)
        assert response.status_code == 403
        assert "error" in response.json()
    api = requests.post(f"{url}/api/v1/predict", json={"kind": "digit", "image": "data:,"},
                        headers={"X-Forwarded-Proto": "https"}, timeout=30)
    assert api.status_code == 400 and "error" in api.json()


def test_admin_requires_a_staff_login(production):
    url, _ = production
    response = https_get(url, "/admin/feedback/feedback/")
    assert response.status_code == 302
    assert "/admin/login/" in response.headers["Location"]


def test_uploaded_media_is_not_served_by_the_app(production):
    url, _ = production
    assert https_get(url, "/media/samples/anything.png").status_code == 404


def test_api_is_rate_limited_per_client_across_workers(production):
    url, _ = production
    body = {"kind": "digit", "image": "data:,"}
    statuses = [
        requests.post(f"{url}/api/v1/predict", json=body, timeout=30,
                      headers={"X-Forwarded-Proto": "https"}).status_code
        for _ in range(RATE_LIMIT + 3)
    ]
    assert 429 in statuses
    assert statuses.count(400) <= RATE_LIMIT  # bad input still counts, and is still a 400
    refused = requests.post(f"{url}/api/v1/predict", json=body, timeout=30,
                            headers={"X-Forwarded-Proto": "https"})
    assert refused.status_code == 429
    assert refused.json()["error"].startswith("too many requests")
    assert int(refused.headers["Retry-After"]) > 0


def test_clients_dripping_headers_do_not_stop_normal_requests(production):
    """Each dripping connection holds one gthread thread, not a worker (sync workers: one each)."""
    url, _ = production
    host, port = url.removeprefix("http://").split(":")
    stop = threading.Event()
    connections = [socket.create_connection((host, int(port))) for _ in range(3)]
    for connection in connections:
        connection.sendall(b"GET /draw/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")

    def drip():
        while not stop.wait(0.5):
            for connection in connections:
                connection.sendall(b"X")

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        for _ in range(3):
            assert https_get(url, "/draw/", timeout=20).status_code == 200
    finally:
        stop.set()
        dripper.join()
        for connection in connections:
            connection.close()
