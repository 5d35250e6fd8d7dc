"""Imports between the apps go one way: core <- ml <- recognition <- feedback <- challenge. Each
imports only the ones to its left, so it can be read, tested and changed without the ones built on
it. `core` is not a Django app but the plain-Python image pipeline and model runner under them all,
and imports no Django. Each app's modules are parsed (imports inside functions count too); tests
and migrations are left out: tests drive whole flows, and migrations record how the tables came
to be."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ["core", "ml", "recognition", "feedback", "challenge"]

# The imports to the right that remain, as (importing file, module imported), with why. Any other
# import to the right fails the test, and so does an entry here that is no longer imported: the
# list only shrinks. None is left (retraining gets the corrections through ml.feedback_source).
KNOWN_UPWARD_IMPORTS = set()


def app_modules(app):
    """The app's own .py files, tests and migrations left out."""
    for path in sorted((ROOT / app).rglob("*.py")):
        if not {"tests", "migrations"} & set(path.relative_to(ROOT).parts):
            yield path


def imported_modules(path):
    """Every absolute module a file imports, at the top or inside a function."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module


def imports_between_apps():
    """(importing file, module imported, importing app, imported app) for each import of one of
    the apps from another."""
    for app in APPS:
        for path in app_modules(app):
            for module in imported_modules(path):
                imported_app = module.split(".")[0]
                if imported_app in APPS and imported_app != app:
                    yield path.relative_to(ROOT).as_posix(), module, app, imported_app


def upward_imports():
    return {(path, module) for path, module, app, imported_app in imports_between_apps()
            if APPS.index(imported_app) > APPS.index(app)}


def test_no_app_imports_an_app_to_its_right():
    new = sorted(upward_imports() - KNOWN_UPWARD_IMPORTS)
    assert not new, (
        "these modules import an app to their right (the order is " + " <- ".join(APPS)
        + "): move what they need to their own app or one to its left\n"
        + "\n".join(f"  {path} imports {module}" for path, module in new))


def test_every_known_upward_import_is_still_there():
    gone = sorted(KNOWN_UPWARD_IMPORTS - upward_imports())
    assert not gone, ("no longer imported, so take them off KNOWN_UPWARD_IMPORTS:\n"
                      + "\n".join(f"  {path} imports {module}" for path, module in gone))


def test_the_walk_sees_the_imports_to_the_left():
    """The parse finds real imports, top-level and inside functions alike."""
    leftward = {(path, module) for path, module, app, imported_app in imports_between_apps()
                if APPS.index(imported_app) < APPS.index(app)}
    assert ("feedback/models.py", "recognition.models") in leftward
    assert ("challenge/services.py", "feedback.models") in leftward
    assert ("ml/words.py", "core.inference") in leftward  # inside a function


def test_core_imports_no_django():
    """The pipeline and the runner work in any Python process: a training job, a bench, a test."""
    django_imports = sorted(f"{path.relative_to(ROOT).as_posix()} imports {module}"
                            for path in app_modules("core") for module in imported_modules(path)
                            if module.split(".")[0] == "django")
    assert not django_imports, "\n".join(django_imports)
