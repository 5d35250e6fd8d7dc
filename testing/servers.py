"""Start the real app under gunicorn on loopback, for tests and benchmarks.

One place for what the concurrency, security and load checks all need: run a management
command in a given environment, find a free port, and serve until the block ends.
"""
import contextlib
import http.client
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(env, *args, timeout=300):
    """Run `manage.py *args` in `env`; its stdout, or an AssertionError with its stderr."""
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(env, workers=2, threads=1, start_timeout=60, make_serve=False):
    """Serve hwrsite.wsgi on 127.0.0.1 with `env`; yields (base URL, gunicorn process).

    With `make_serve` it runs as `make serve` does (hwrsite/gunicorn_conf.py: gthread workers,
    timeouts, the start-up checks), `workers` and `threads` given through the environment.
    """
    port = free_port()
    if make_serve:
        env = {**env, "HWR_BIND": f"127.0.0.1:{port}", "WORKERS": str(workers),
               "THREADS": str(threads)}
        command = ["-c", "python:hwrsite.gunicorn_conf", "--log-level", "warning"]
    else:
        command = ["hwrsite.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                   "--threads", str(threads), "--log-level", "warning"]
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", *command], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                probe.request("GET", "/api/v1/openapi.json")
                probe.getresponse().read()  # any answer (a redirect to https too) means it is up
                probe.close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a worker still busy past the graceful timeout
            process.kill()
            process.wait(timeout=30)
