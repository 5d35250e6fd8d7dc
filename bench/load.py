"""Load test (issue 6): gunicorn, 2 workers, PostgreSQL; 90 % predictions, 10 % feedback.

    .venv/bin/python bench/load.py [--seconds 60] [--clients 16] [--database-url postgres://...]

Phase 1 runs `--seconds` at `--clients` concurrent clients and must end with 0 errors.
Phase 2 runs again and SIGKILLs one worker a third of the way in: gunicorn must replace it.
After each phase, every feedback the server acknowledged (2xx) must be in the database exactly
once. Everything stays on 127.0.0.1; the scratch database and media are removed at the end.
"""
import argparse
import base64
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import environ
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.predict import canvas_pngs, percentile, rss_mib, worker_pids  # noqa: E402
from testing import servers  # noqa: E402
from hwrsite.settings import HWR_DATASETS_DIR  # noqa: E402  (the env or the default, as the app)

FEEDBACK_SHARE = 0.10


def scratch_database(server_url):
    """A new empty PostgreSQL database on the server `server_url` names; returns its URL."""
    config = environ.Env.db_url_config(server_url)
    name = f"hwr_load_{uuid.uuid4().hex[:10]}"
    admin = dict(host=config["HOST"] or "127.0.0.1", port=config["PORT"] or 5432,
                 user=config["USER"], password=config["PASSWORD"] or None, dbname="postgres",
                 autocommit=True)
    with psycopg.connect(**admin) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return urlsplit(server_url)._replace(path=f"/{name}").geturl(), admin, name


def request(port, path, body):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def run_phase(port, images, seconds, clients, kill=None):
    """Clients mixing predictions and feedback for `seconds`; `kill()` runs a third of the way."""
    stop_at = time.monotonic() + seconds
    results = {"predict": [], "feedback": [], "errors": [], "acknowledged": []}
    lock = threading.Lock()

    def client(number):
        rng = random.Random(number)
        answerable, mine = [], {key: [] for key in results}
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            if answerable and rng.random() < FEEDBACK_SHARE:
                sample_id, predicted, truth = answerable.pop()
                body = {"is_correct": predicted == truth,
                        "correct_label": "" if predicted == truth else truth}
                kind, path = "feedback", f"/api/v1/samples/{sample_id}/feedback"
            else:
                png, truth = images[rng.randrange(len(images))]
                body = {"kind": "digit", "image": png}
                kind, path = "predict", "/api/v1/predict"
            try:
                status, payload = request(port, path, body)
            except OSError as error:
                status, payload = repr(error), b""
            mine[kind].append(time.perf_counter() - started)
            if not isinstance(status, int) or status >= 300:
                mine["errors"].append(f"{kind} {status}")
            elif kind == "predict":
                answer = json.loads(payload)
                answerable.append((answer["sample_id"], answer["label"], truth))
            else:
                mine["acknowledged"].append(path.split("/")[4])
        with lock:
            for key, values in mine.items():
                results[key].extend(values)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    if kill:
        time.sleep(seconds / 3)
        kill()
    for thread in threads:
        thread.join()
    results["elapsed"] = time.monotonic() - started
    return results


def report(name, results):
    every = results["predict"] + results["feedback"]
    print(f"\n## {name}: {results['elapsed']:.1f} s")
    print(f"requests/s {len(every) / results['elapsed']:.0f}   predictions {len(results['predict'])}"
          f"   feedback {len(results['feedback'])}   errors {len(results['errors'])}"
          + (f" {sorted(set(results['errors']))[:4]}" if results["errors"] else ""))
    for kind in ("predict", "feedback"):
        if results[kind]:
            print(f"  {kind:<9} p50 {percentile(results[kind], 50):7.2f} ms   "
                  f"p99 {percentile(results[kind], 99):7.2f} ms")


def check_feedback_stored(database_url, acknowledged):
    """Every acknowledged feedback is in the database, exactly once (one row, one submission)."""
    config = environ.Env.db_url_config(database_url)
    with psycopg.connect(host=config["HOST"] or "127.0.0.1", port=config["PORT"] or 5432,
                         user=config["USER"], dbname=config["NAME"]) as connection:
        rows = dict(connection.execute(
            "SELECT f.sample_id::text, count(s.id) FROM feedback_feedback f "
            "JOIN feedback_feedbacksubmission s ON s.feedback_id = f.sample_id "
            "GROUP BY f.sample_id").fetchall())
    missing = [i for i in acknowledged if i not in rows]
    duplicated = [i for i in acknowledged if rows.get(i, 0) > 1]
    print(f"acknowledged feedback {len(acknowledged)}: in the database {len(acknowledged) - len(missing)}, "
          f"missing {len(missing)}, stored more than once {len(duplicated)}")
    return not missing and not duplicated


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="hwr-load-"))
    database_url, admin, name = scratch_database(args.database_url)
    env = {**os.environ, "DEBUG": "False", "SECRET_KEY": secrets.token_urlsafe(50),
           "SECURE_SSL_REDIRECT": "False",
           "DATABASE_URL": database_url, "MEDIA_ROOT": str(scratch / "media"),
           "HWR_RATE_LIMIT": "", "LOG_LEVEL": "WARNING"}
    try:
        servers.manage(env, "migrate", "--noinput")
        pngs, labels = canvas_pngs(Path(HWR_DATASETS_DIR) / "mnist" / "mnist.npz", 200)
        images = [("data:image/png;base64," + base64.b64encode(p).decode(), l)
                  for p, l in zip(pngs, labels)]
        with servers.gunicorn(env, workers=2) as (url, master):
            port = urlsplit(url).port
            print(f"gunicorn 2 workers, PostgreSQL, {args.clients} clients, {os.cpu_count()} CPUs")
            run_phase(port, images, 3, 2)  # warm-up: both workers load the model
            steady = run_phase(port, images, args.seconds, args.clients)
            report("steady load", steady)
            steady_ok = check_feedback_stored(database_url, steady["acknowledged"])

            before = worker_pids(master.pid)
            killed = []

            def kill_one_worker():
                killed.append(before[0])
                os.kill(before[0], signal.SIGKILL)

            chaos = run_phase(port, images, args.seconds / 2, args.clients, kill=kill_one_worker)
            report(f"one worker SIGKILLed ({killed[0]}) a third of the way in", chaos)
            after = worker_pids(master.pid)
            print(f"workers before {before}, after {after}: "
                  f"{'replaced' if len(after) == 2 and killed[0] not in after else 'NOT replaced'}"
                  f"; RSS now {', '.join(f'{rss_mib(p):.0f} MiB' for p in after)}")
            chaos_ok = check_feedback_stored(database_url, chaos["acknowledged"])
        print("\nresult:", "OK" if steady_ok and chaos_ok and not steady["errors"] else "FAILED")
    finally:
        with psycopg.connect(**admin) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
