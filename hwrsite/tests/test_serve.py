"""`make serve`'s gunicorn settings (hwrsite/gunicorn_conf.py): the start-up checks."""
import os
import subprocess
import sys

import pytest

from hwrsite.gunicorn_conf import is_loopback
from testing.servers import ROOT, free_port


def gunicorn_with_make_serve_settings(extra_env, timeout=60):
    env = {**os.environ, "DEBUG": "True", "HWR_BIND": f"127.0.0.1:{free_port()}", **extra_env}
    return subprocess.run([sys.executable, "-m", "gunicorn", "-c", "python:hwrsite.gunicorn_conf"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_serve_refuses_several_workers_on_a_per_process_cache():
    done = gunicorn_with_make_serve_settings(
        {"WORKERS": "2", "CACHE_URL": "locmemcache://", "HWR_RATE_LIMIT": "120/min"})
    assert done.returncode != 0
    assert "would be counted by each of the 2 workers on its own" in done.stderr
    assert "set CACHE_URL" in done.stderr


@pytest.mark.parametrize("address, loopback", [
    ("127.0.0.1:8000", True), ("[::1]:8000", True), ("localhost:8000", True),
    ("unix:/run/hwr.sock", True), ("0.0.0.0:8000", False), ("[::]:8000", False),
    ("192.0.2.10:80", False), ("hwr.example.org:80", False),
])
def test_serve_knows_which_bind_addresses_are_local(address, loopback):
    assert is_loopback(address) is loopback
