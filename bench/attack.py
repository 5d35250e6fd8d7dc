"""Attack replay (issue 24): the production server as `make serve` runs it, under the attacks.

    .venv/bin/python bench/attack.py [--skip-heavy]

Starts gunicorn with hwrsite/gunicorn_conf.py (gthread, 2 workers x 8 threads), DEBUG off, a
real SECRET_KEY, HWR_RATE_LIMIT=60/min counted in Redis (127.0.0.1:6379, database 14, emptied
before and after; a file cache when no Redis answers) and HWR_TRUSTED_PROXIES=1, on a scratch
SQLite database, listening on 127.0.0.1 only. Each attack is a bounded loop from its own client
address (as one trusted proxy would append it to X-Forwarded-For). Per attack it prints the
answers' statuses, the slowest answer, the workers' CPU seconds and their peak RSS (VmHWM, reset
before each attack). A second server with its cache on a closed port replays the outage. Ends
by itself; everything is removed at the end.
"""
import argparse
import collections
import io
import json
import os
import re
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import requests
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.predict import worker_pids  # noqa: E402
from testing import servers  # noqa: E402

RATE = 60
REDIS = ("127.0.0.1", 6379)
REDIS_DB = 14
TICKS = os.sysconf("SC_CLK_TCK")


def redis_up():
    try:
        socket.create_connection(REDIS, timeout=1).close()
        return True
    except OSError:
        return False


def flush_redis():
    import redis

    redis.Redis(host=REDIS[0], port=REDIS[1], db=REDIS_DB).flushdb()


def png(image, **options):
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **options)
    return buffer.getvalue()


def seven():
    image = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(image).line([(70, 56), (210, 56), (126, 238)], fill=0, width=13)
    return png(image)


def data_url(data):
    import base64

    return "data:image/png;base64," + base64.b64encode(data).decode()


class Server:
    """The running gunicorn: its URL and its workers' CPU time and peak memory."""

    def __init__(self, url, master):
        self.url, self.master = url, master

    def workers(self):
        return worker_pids(self.master.pid)

    def cpu_seconds(self):
        total = 0.0
        for pid in self.workers():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
        return total

    def reset_peaks(self):
        for pid in self.workers():
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
            except OSError:
                pass

    def peak_mib(self):
        peaks = []
        for pid in self.workers():
            status = Path(f"/proc/{pid}/status").read_text()
            peaks.append(int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024)
        return max(peaks)


class Client:
    """Requests as one client behind the trusted proxy; records statuses and answer times."""

    def __init__(self, server, address, spoof=False):
        self.server, self.address, self.spoof = server, address, spoof
        self.statuses, self.times = collections.Counter(), []
        self.session = requests.Session()

    def headers(self, extra=None):
        forwarded = self.address
        if self.spoof:  # whatever the client writes stays left of what the proxy appends
            forwarded = f"{secrets.randbelow(256)}.{secrets.randbelow(256)}.1.1, {self.address}"
        origin = self.server.url.replace("http://", "https://")
        return {"X-Forwarded-For": forwarded, "X-Forwarded-Proto": "https",
                "Referer": f"{origin}/", **(extra or {})}

    def csrf(self):
        """Headers that pass the pages' CSRF check, as the pages' fetch() sends them."""
        page = self.send("GET", "/draw/", record=False)
        token = re.search(r"csrftoken=([^;]+)", page.headers["Set-Cookie"]).group(1)
        return {"Cookie": f"csrftoken={token}", "X-CSRFToken": token, "Accept": "application/json"}

    def send(self, method, path, record=True, **kwargs):
        headers = self.headers(kwargs.pop("headers", None))
        timeout = kwargs.pop("timeout", 60)
        started = time.perf_counter()
        try:
            response = self.session.request(method, self.server.url + path, headers=headers,
                                            timeout=timeout, allow_redirects=False, **kwargs)
        except requests.Timeout:
            response = None
        elapsed = time.perf_counter() - started
        if record:
            self.statuses[response.status_code if response is not None else "no answer"] += 1
            self.times.append(elapsed)
        return response


def attack(server, name, run):
    """Run one attack; print its figures."""
    server.reset_peaks()
    cpu_before = server.cpu_seconds()
    started = time.perf_counter()
    clients = run()
    wall = time.perf_counter() - started
    cpu = server.cpu_seconds() - cpu_before
    statuses = collections.Counter()
    times = []
    for client in clients:
        statuses.update(client.statuses)
        times += client.times
    shown = ", ".join(f"{status}x{count}" for status, count in sorted(statuses.items(), key=str))
    slowest = max(times) if times else 0.0
    print(f"{name:<44} {shown:<34} slowest {slowest:6.2f} s   wall {wall:5.1f} s   "
          f"worker CPU {cpu:5.2f} s   worker peak RSS {server.peak_mib():6.0f} MiB", flush=True)
    return statuses


def run_attacks(server, heavy):
    counter = iter(range(1, 255))

    def client(**kwargs):
        return Client(server, f"203.0.113.{next(counter)}", **kwargs)

    body = {"kind": "digit", "image": data_url(seven())}

    def spoofed():
        one = client(spoof=True)
        for _ in range(RATE + 40):
            one.send("POST", "/api/v1/predict", json=body)
        return [one]

    attack(server, f"spoofed X-Forwarded-For, {RATE + 40} predictions", spoofed)

    for path in ("/submit", "/upload", "/feedback", "/challenge/answer"):
        def pages(path=path):
            one = client()
            csrf = one.csrf()
            for _ in range(RATE + 10):
                one.send("POST", path, json={"kind": "digit"}, headers=csrf)
            return [one]

        attack(server, f"{path} x{RATE + 10}, bad bodies", pages)

    sample_id = client().send("POST", "/api/v1/predict", json=body).json()["sample_id"]

    def nested():
        one = client()
        deep = "[" * 1000 + "]" * 1000
        csrf = one.csrf()
        for path in ("/feedback", f"/api/v1/samples/{sample_id}/feedback"):
            one.send("POST", path, data=deep, headers={"Content-Type": "application/json", **csrf})
        return [one]

    attack(server, "1000 nested [ on both feedback routes", nested)

    def admin_login():
        one = client()
        login = one.send("GET", "/admin/login/", record=False)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        cookie = re.search(r"csrftoken=([^;]+)", login.headers["Set-Cookie"]).group(1)
        for attempt in range(30):
            one.send("POST", "/admin/login/", headers={"Cookie": f"csrftoken={cookie}"},
                     data={"csrfmiddlewaretoken": token, "username": "admin",
                           "password": f"guess-{attempt}"})
        return [one]

    attack(server, "30 wrong admin passwords", admin_login)

    def slow_clients(count, seconds=10):
        """`count` connections drip their headers a byte a second for `seconds`; meanwhile a
        client loads the page and asks for a prediction every half second."""
        host, port = server.url.removeprefix("http://").split(":")
        stop = threading.Event()

        def drip():
            with socket.create_connection((host, int(port))) as sock:
                sock.sendall(b"GET /draw/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                while not stop.wait(1.0):
                    try:
                        sock.sendall(b"X")
                    except OSError:
                        return

        threads = [threading.Thread(target=drip, daemon=True) for _ in range(count)]
        for thread in threads:
            thread.start()
        threading.Timer(seconds, stop.set).start()
        time.sleep(1)
        normal = client()
        while not stop.is_set():
            normal.send("GET", "/draw/", timeout=seconds + 20)
            normal.send("POST", "/api/v1/predict", json=body, timeout=seconds + 20)
            time.sleep(0.5)
        for thread in threads:
            thread.join(timeout=5)
        return [normal]

    for count in (8, 24):
        attack(server, f"{count} clients drip headers for 10 s; normal use",
               lambda count=count: slow_clients(count))

    def odd_dots():
        image = Image.new("L", (3000, 100), 255)
        draw = ImageDraw.Draw(image)
        draw.ellipse((100, 40, 107, 47), fill=0)
        draw.ellipse((2800, 40, 2807, 47), fill=0)
        one = client()
        one.send("POST", "/api/v1/predict", json={"kind": "digit", "image": data_url(png(image))})
        return [one]

    attack(server, "3000x100 PNG, two 7 px dots far apart", odd_dots)

    def private_chunk():
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_text("private", secrets.token_hex(1_500_000), zip=False)  # 3 MB of text chunk
        image = Image.open(io.BytesIO(seven()))
        data = png(image, pnginfo=info)
        media = Path(os.environ["MEDIA_ROOT"])
        before = sum(f.stat().st_size for f in media.rglob("*") if f.is_file())
        one = client()
        one.send("POST", "/api/v1/predict", json={"kind": "digit", "image": data_url(data)})
        after = sum(f.stat().st_size for f in media.rglob("*") if f.is_file())
        print(f"(private chunk: sent {len(data) / 1e6:.1f} MB, stored {(after - before) / 1e6:.2f} MB)")
        return [one]

    attack(server, "PNG with a 3 MB private chunk", private_chunk)

    if heavy:
        def noise_bomb():
            rng = np.random.default_rng(0)
            image = Image.fromarray(rng.integers(0, 2, (5000, 5000), np.uint8) * 255).convert("1")
            data = png(image)
            one = client()
            one.send("POST", "/api/v1/predict", files={"image": ("noise.png", data, "image/png")},
                     data={"kind": "any", "multi": "true"})
            return [one]

        attack(server, "5000x5000 1-bit noise PNG, multi, any", noise_bomb)


def outage(env):
    """A second server whose cache is a closed port: requests go through, nothing is a 5xx."""
    env = {**env, "CACHE_URL": f"redis://127.0.0.1:{servers.free_port()}/0", "LOG_LEVEL": "WARNING"}
    with servers.gunicorn(env, workers=2, threads=8, make_serve=True) as (url, master):
        server = Server(url, master)
        body = {"kind": "digit", "image": data_url(seven())}

        def requests_during_outage():
            one = Client(server, "203.0.113.250")
            for _ in range(RATE + 10):
                one.send("POST", "/api/v1/predict", json=body)
            return [one]

        attack(server, f"cache down: {RATE + 10} predictions", requests_during_outage)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-heavy", action="store_true",
                        help="leave out the 5000x5000 noise image (seconds of CPU, GBs of RSS)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="hwr-attack-"))
    use_redis = redis_up()
    env = {
        **os.environ,
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "CSRF_TRUSTED_ORIGINS": "https://127.0.0.1",
        "SECURE_SSL_REDIRECT": "False",
        "DATABASE_URL": f"sqlite:///{scratch / 'db.sqlite3'}",
        "STATIC_ROOT": str(scratch / "static"),
        "MEDIA_ROOT": str(scratch / "media"),
        "HWR_MODELS_DIR": str(scratch / "models"),
        "HWR_RATE_LIMIT": f"{RATE}/min",
        "HWR_TRUSTED_PROXIES": "1",
        "CACHE_URL": (f"redis://{REDIS[0]}:{REDIS[1]}/{REDIS_DB}" if use_redis
                      else f"filecache://{scratch / 'cache'}"),
        "LOG_LEVEL": "ERROR",
    }
    env.pop("HWR_BUNDLED_MODELS_DIR", None)
    os.environ["MEDIA_ROOT"] = env["MEDIA_ROOT"]
    try:
        if use_redis:
            flush_redis()
        servers.manage(env, "migrate", "--noinput")
        servers.manage(env, "collectstatic", "--noinput")
        print(f"gunicorn (make serve settings: gthread, 2 workers x 8 threads), rate limit "
              f"{RATE}/min in {'Redis' if use_redis else 'a file cache'}, 1 trusted proxy")
        with servers.gunicorn(env, workers=2, threads=8, make_serve=True) as (url, master):
            run_attacks(Server(url, master), heavy=not args.skip_heavy)
        outage(env)
    finally:
        if use_redis:
            flush_redis()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
