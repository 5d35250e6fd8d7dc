"""The web process serves predictions with LiteRT alone: TensorFlow is never imported, nor SciPy
(30 MB more per worker; Pillow, NumPy and cc3d do its few image operations)."""
import json
import subprocess
import sys
from pathlib import Path

from recognition.tests.images import data_url, seven_png

ROOT = Path(__file__).resolve().parents[2]

SERVE_ONE_REQUEST = """
import json, sys
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test import Client

settings.HWR_BUNDLED_MODELS_DIR = sys.argv[1]
call_command("migrate", verbosity=0)
body = open(sys.argv[2]).read()
response = Client().post("/api/v1/predict", body, content_type="application/json")
print(json.dumps({
    "status": response.status_code,
    "label": response.json().get("label"),
    "heavy": sorted(name for name in ("tensorflow", "keras", "tf_keras", "scipy") if name in sys.modules),
}))
"""


def test_a_fresh_web_process_answers_without_importing_tensorflow_or_scipy(tiny_bundles_dir, tmp_path):
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"image": data_url(seven_png()), "kind": "digit"}))
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "hwrsite.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    completed = subprocess.run(
        [sys.executable, "-c", SERVE_ONE_REQUEST, str(tiny_bundles_dir), str(body)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    assert outcome["status"] == 200 and outcome["label"] in "0123456789"
    assert outcome["heavy"] == []
