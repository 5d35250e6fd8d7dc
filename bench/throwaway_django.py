"""A throwaway Django for benchmarks: the site on a temporary SQLite database and media folder."""
import os
import secrets
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def throwaway_django(prefix):
    """Set up Django (DEBUG off, quiet logs) on a migrated temporary database; yields the process
    environment, for servers started from it. Everything is deleted afterwards."""
    scratch = Path(tempfile.mkdtemp(prefix=prefix))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hwrsite.settings",
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SECURE_SSL_REDIRECT": "False",
        "DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}",
        "MEDIA_ROOT": str(scratch / "media"),
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        yield env
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
