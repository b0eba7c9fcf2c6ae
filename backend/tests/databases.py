"""Fresh, migrated databases for tests whose Django runs in processes of their
own, and those processes' environment (`django_env`).

Each copy comes from one template per test process, migrated once: a
`manage.py migrate` costs about 2 s of a core, and the suite made some sixty
databases (a CI run on a busy machine came within a minute of its limit).
PostgreSQL copies with `CREATE DATABASE … TEMPLATE`, SQLite by copying the
file. The templates are dropped when the test process exits.
"""

from __future__ import annotations

import atexit
import functools
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parent.parent
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgres://postgres@127.0.0.1:5432/{name}"


# What a test's own environment may hold that must not reach a Django process
# it starts: such a process is configured by its test alone.
NOT_INHERITED = frozenset({
    "DEBUG", "REDIS_URL", "DATABASE_URL", "CHAT_SEND_RATE", "CHAT_SIGNUP_RATE", "CHAT_PRESENCE_TTL",
    "DEV_ORIGINS", "DJANGO_SETTINGS_MODULE", "PYTEST_CURRENT_TEST",
})


def django_env(var_dir: str | Path, *, secret: str, **settings: str) -> dict[str, str]:
    """The environment of a Django process a test starts: this process's, less
    NOT_INHERITED, with production's settings but a fast password hasher
    (config.settings_test), a var dir and secret key of its own, and `settings`."""
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    env.update(DJANGO_SETTINGS_MODULE="config.settings_test", DJANGO_SECRET_KEY=f"{secret}-{secrets.token_urlsafe(16)}",
               CHAT_VAR_DIR=str(var_dir), PYTHONPATH=str(BACKEND_DIR), PYTHONUNBUFFERED="1")
    env.update(settings)
    return env


def migrate(database_url: str) -> None:
    """Runs every migration on `database_url` in a process of its own."""
    with tempfile.TemporaryDirectory(prefix="chat-migrate-") as var_dir:
        done = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "--skip-checks"],
                              cwd=BACKEND_DIR, env=django_env(var_dir, secret="migrate", DATABASE_URL=database_url),
                              capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        raise RuntimeError(f"migrate failed:\n{done.stdout}\n{done.stderr}")


def _pg_admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(statement)


@functools.cache
def _postgres_template() -> str:
    """This process's migrated PostgreSQL template, made on first use."""
    template = f"chat_template_{secrets.token_hex(6)}"
    _pg_admin(f'CREATE DATABASE "{template}"')
    atexit.register(drop_postgres, template)
    migrate(PG_URL.format(name=template))
    return template


@functools.cache
def _sqlite_template() -> Path:
    """This process's migrated SQLite file, made on first use."""
    folder = tempfile.mkdtemp(prefix="chat-template-")
    atexit.register(shutil.rmtree, folder, True)
    template = Path(folder) / "template.sqlite3"
    migrate(f"sqlite:///{template}")
    return template


def create_postgres(name: str) -> str:
    """A new PostgreSQL database `name` with every migration applied; its URL."""
    _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{_postgres_template()}"')
    return PG_URL.format(name=name)


def drop_postgres(name: str) -> None:
    # FORCE: a server killed by a test may still hold a connection.
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_sqlite(path: Path) -> str:
    """A new SQLite file at `path` with every migration applied; its URL."""
    shutil.copyfile(_sqlite_template(), path)
    return f"sqlite:///{path}"
