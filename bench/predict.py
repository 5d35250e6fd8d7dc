"""Benchmark of the recognition path (issue 3): service latency, Keras ratio, worker RSS, HTTP.

    .venv/bin/python bench/predict.py [--images 200] [--seconds 20] [--concurrency 4]

1. 280x280 canvas PNGs (MNIST test digits drawn black on white, as the canvas page sends
   them) through `recognition.services.predict` (decode, normalise, LiteRT) and through
   `recognize` (the same plus storing the Sample row and image): p50 / p99 per prediction.
2. The same images through Keras `model.predict` (the original app's way): p50 / p99 and ratio.
3. gunicorn with 2 workers on 127.0.0.1 (DEBUG off, a scratch SQLite database): RSS of each worker
   after warm-up requests for all three kinds, then wrk (Debian package `wrk`, `make bench` installs
   it) with a fixed number of connections for a fixed time, posting the canvas PNGs as JSON data
   URLs to /api/v1/predict (bench/predict.lua): throughput, p50 / p99, errors.

Everything runs on loopback only; the scratch database and media are deleted at the end.
"""
import argparse
import base64
import http.client
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.throwaway_django import throwaway_django


def percentile(values, q):
    return float(np.percentile(np.asarray(values) * 1e3, q))


def canvas_pngs(mnist_path, count):
    """MNIST test digits as the canvas page sends them: 280x280 RGBA PNG, black ink on white."""
    with np.load(mnist_path) as mnist:
        digits, labels = mnist["x_test"][:count], mnist["y_test"][:count]
    pngs = []
    for digit in digits:
        ink = Image.fromarray(digit).resize((280, 280), Image.Resampling.BILINEAR)
        gray = Image.fromarray(255 - np.asarray(ink))
        buffer = io.BytesIO()
        Image.merge("RGBA", (gray, gray, gray, Image.new("L", gray.size, 255))).save(buffer, "PNG")
        pngs.append(buffer.getvalue())
    return pngs, [str(label) for label in labels]


CPU_TIMES = {}


def time_calls(function, items, rounds):
    """Wall-clock seconds per call; the CPU seconds of the same calls are kept for `report`."""
    durations, cpu = [], []
    for _ in range(rounds):
        for item in items:
            start, start_cpu = time.perf_counter(), time.thread_time()
            function(item)
            durations.append(time.perf_counter() - start)
            cpu.append(time.thread_time() - start_cpu)
    CPU_TIMES[id(durations)] = cpu
    return durations


def report(name, durations):
    """Wall-clock p50/p99, and the CPU time p50: on a shared CPU the wall clock also counts
    the time other processes held the core, the CPU time does not."""
    cpu = CPU_TIMES.get(id(durations), [])
    print(f"{name:<44} p50 {percentile(durations, 50):8.3f} ms   p99 {percentile(durations, 99):8.3f} ms"
          f"   CPU p50 {percentile(cpu, 50) if cpu else float('nan'):7.3f} ms   (n={len(durations)})")


def bench_service(pngs, labels, rounds):
    from core.preprocessing import preprocess_bytes
    from recognition.inference import get_recognizer
    from recognition.models import Sample
    from recognition.services import predict, recognize

    for png in pngs[:20]:
        predict(png, "digit")
    correct = sum(predict(png, "digit")[1]["label"] == label for png, label in zip(pngs, labels))
    print(f"digit accuracy on these {len(pngs)} canvas images: {correct / len(pngs):.1%}")
    service = time_calls(lambda png: predict(png, "digit"), pngs, rounds)
    report("service predict (decode+normalise+LiteRT)", service)
    stored = time_calls(lambda png: recognize(png, "digit", Sample.Source.API), pngs, 1)
    report("service recognize (+ Sample row and file)", stored)
    images = [preprocess_bytes(png) for png in pngs]
    recognizer = get_recognizer("digit")
    litert = time_calls(recognizer.probabilities, images, rounds)
    report("LiteRT invoke only", litert)
    return service, litert, images


def bench_keras(pngs, images, bundle_dir):
    from core.preprocessing import preprocess_bytes
    from ml.architectures import load_served

    model = load_served(bundle_dir / "model.keras")
    model.predict(images[0][None, ..., None], verbose=0)
    keras_full = time_calls(
        lambda png: model.predict(preprocess_bytes(png)[None, ..., None], verbose=0), pngs, 1
    )
    report("Keras: normalise + model.predict", keras_full)
    keras_only = time_calls(lambda image: model.predict(image[None, ..., None], verbose=0), images, 1)
    report("Keras model.predict only", keras_only)
    return keras_full, keras_only


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(port, body, timeout=10):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", "/api/v1/predict", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def worker_pids(master_pid):
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def memory(pid):
    """RSS of a process, and its parts: private memory, and pages of files (shared libraries)
    that other processes may share; PSS counts shared pages divided among their users."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    rollup = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
    mib = {name: int(value.split()[0]) / 1024 for name, value in
           [("RSS", status["VmRSS"]), ("private", status["RssAnon"]), ("files", status["RssFile"]),
            ("PSS", rollup["Pss"])]}
    return "   ".join(f"{name} {value:.1f} MiB" for name, value in mib.items())


def cpu_seconds(pid):
    """User + system CPU time of a process so far (from /proc, in seconds)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_http(pngs, env, seconds, concurrency):
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "hwrsite.wsgi", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn did not start")
                time.sleep(0.2)
        bodies = [
            json.dumps({"image": "data:image/png;base64," + base64.b64encode(png).decode(),
                        "kind": "digit"}).encode()
            for png in pngs
        ]
        # Warm-up: every kind 40 times from 8 concurrent clients, so that each of the two sync
        # workers serves every kind (one client in turn could be served by one worker only).
        for kind in ("digit", "letter", "any"):
            warm = json.dumps({"image": json.loads(bodies[0])["image"], "kind": kind}).encode()
            with ThreadPoolExecutor(8) as clients:
                statuses = set(clients.map(lambda _: post(port, warm), range(40)))
            if statuses != {200}:
                raise RuntimeError(f"warm-up for {kind} answered {statuses}")
        for pid in worker_pids(server.pid):
            print(f"gunicorn worker {pid} after warm-up (3 models): {memory(pid)}")

        workers = worker_pids(server.pid)
        cpu_before = sum(cpu_seconds(pid) for pid in workers)
        with tempfile.NamedTemporaryFile("wb", suffix=".jsonl") as lines:
            lines.write(b"\n".join(bodies))
            lines.flush()
            completed = subprocess.run(
                ["wrk", f"-t{min(concurrency, 2)}", f"-c{concurrency}", f"-d{seconds:g}s",
                 "-s", str(ROOT / "bench" / "predict.lua"), f"http://127.0.0.1:{port}", "--", lines.name],
                capture_output=True, text=True, check=True,
            )
        figures = json.loads(completed.stdout.strip().splitlines()[-1])
        errors = sum(figures[key] for key in ("not_200", "connect", "read", "write", "timeout"))
        print(f"HTTP /api/v1/predict, gunicorn 2 workers, wrk with {concurrency} connections, "
              f"{figures['seconds']:.1f} s:")
        print(f"  {figures['requests'] / figures['seconds']:.0f} requests/s, p50 {figures['p50_ms']:.2f} ms, "
              f"p99 {figures['p99_ms']:.2f} ms, max {figures['max_ms']:.2f} ms, errors {errors}"
              + (f" {figures}" if errors else ""))
        worker_cpu_ms = (sum(cpu_seconds(pid) for pid in workers) - cpu_before) * 1e3 / figures["requests"]
        print(f"  gunicorn workers' CPU per request: {worker_cpu_ms:.2f} ms, so 2 uncontended cores "
              f"would serve about {2000 / worker_cpu_ms:.0f} requests/s")
        for pid in worker_pids(server.pid):
            print(f"gunicorn worker {pid} after the load: {memory(pid)}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5, help="passes over the images for p50/p99")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of the HTTP load")
    parser.add_argument("--concurrency", type=int, default=4, help="wrk connections")
    parser.add_argument("--skip-keras", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()

    with throwaway_django("hwr-bench-") as env:
        from django.conf import settings

        print(f"models: {settings.HWR_BUNDLED_MODELS_DIR}   CPUs: {os.cpu_count()}   "
              f"load average before: {os.getloadavg()[0]:.2f}")
        pngs, labels = canvas_pngs(Path(settings.HWR_DATASETS_DIR) / "mnist" / "mnist.npz", args.images)
        print(f"{len(pngs)} canvas PNGs, 280x280, mean {statistics.mean(map(len, pngs)) / 1024:.1f} KiB")
        service, litert, images = bench_service(pngs, labels, args.rounds)
        if not args.skip_keras:
            keras_full, keras_only = bench_keras(pngs, images, Path(settings.HWR_BUNDLED_MODELS_DIR) / "digit")
            print(f"ratio Keras/LiteRT, full prediction p50: "
                  f"{percentile(keras_full, 50) / percentile(service, 50):.0f}x, "
                  f"model call only p50: {percentile(keras_only, 50) / percentile(litert, 50):.0f}x")
        if not args.skip_http:
            bench_http(pngs, env, args.seconds, args.concurrency)
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
