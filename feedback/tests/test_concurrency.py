"""16 concurrent writers x 50 feedbacks through gunicorn: exactly 800 rows, no errors.

The server gets a database of its own (a fresh PostgreSQL database on the server DATABASE_URL
names, a SQLite file otherwise), because the test database of an in-process live server cannot
be shared with gunicorn's worker processes when it is SQLite in memory.
"""
import base64
import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import environ
import psycopg
import pytest
import requests

from testing import servers
from testing.servers import manage

from .conftest import character_png

WRITERS, PER_WRITER = 16, 50


@pytest.fixture
def server_database(tmp_path):
    """A DATABASE_URL for a database that only this test uses; dropped afterwards."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path / 'concurrency.sqlite3'}"
        return
    config = environ.Env.db_url_config(url)
    name = f"hwr_concurrency_{uuid.uuid4().hex[:12]}"
    admin = dict(host=config["HOST"], port=config["PORT"] or 5432, user=config["USER"],
                 password=config["PASSWORD"] or None, dbname="postgres", autocommit=True)
    with psycopg.connect(**admin) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(url)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(**admin) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sample_fixture(path, count):
    """A loaddata fixture of `count` digit samples, as the recognition service records them."""
    png = base64.b64encode(character_png(0)).decode()
    records = [
        {"model": "recognition.sample", "pk": str(uuid.uuid4()), "fields": {
            "kind": "digit", "source": "api", "image": f"samples/{index}.png", "image_sha256": "0" * 64,
            "normalized_png": png, "predicted_label": "3", "confidence": 0.5,
            "top5": [], "model_name": "digit-cnn", "model_version": "1.0",
            "created": "2026-01-01T00:00:00Z"}}
        for index in range(count)
    ]
    path.write_text(json.dumps(records))
    return [record["pk"] for record in records]


@pytest.fixture
def gunicorn(server_database, tmp_path):
    """(base URL, environment) of a gunicorn serving the app on a migrated, empty database."""
    env = {**os.environ, "DATABASE_URL": server_database, "MEDIA_ROOT": str(tmp_path / "media"),
           "DEBUG": "True"}
    manage(env, "migrate", "--noinput")
    with servers.gunicorn(env, workers=2, threads=WRITERS // 2) as (url, _):
        yield url, env


@pytest.mark.slow
def test_concurrent_writers_store_every_feedback_exactly_once(gunicorn, tmp_path):
    url, env = gunicorn
    sample_ids = sample_fixture(tmp_path / "samples.json", WRITERS * PER_WRITER)
    manage(env, "loaddata", str(tmp_path / "samples.json"))

    def write(writer):
        statuses = []
        with requests.Session() as session:
            for sample_id in sample_ids[writer * PER_WRITER:(writer + 1) * PER_WRITER]:
                response = session.post(f"{url}/api/v1/samples/{sample_id}/feedback",
                                        json={"is_correct": False, "correct_label": "8"}, timeout=60)
                statuses.append(response.status_code)
        return statuses

    with ThreadPoolExecutor(WRITERS) as pool:
        statuses = [status for result in pool.map(write, range(WRITERS)) for status in result]

    assert statuses == [201] * WRITERS * PER_WRITER

    # Then all writers answer the same sample at once: one feedback, every answer in the trail.
    def answer_first_sample(writer):
        body = {"is_correct": writer % 2 == 0, "correct_label": None if writer % 2 == 0 else "5"}
        return requests.post(f"{url}/api/v1/samples/{sample_ids[0]}/feedback", json=body, timeout=60).status_code

    with ThreadPoolExecutor(WRITERS) as pool:
        assert set(pool.map(answer_first_sample, range(WRITERS))) == {200}

    stored = json.loads(manage(env, "dumpdata", "feedback.Feedback", "feedback.FeedbackSubmission"))
    feedback = [row for row in stored if row["model"] == "feedback.feedback"]
    submissions = [row for row in stored if row["model"] == "feedback.feedbacksubmission"]
    assert len(feedback) == WRITERS * PER_WRITER
    assert {row["pk"] for row in feedback} == set(sample_ids)
    assert len(submissions) == WRITERS * PER_WRITER + WRITERS
