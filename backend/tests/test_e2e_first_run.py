"""The first run: `make run`'s own install step, run into a fresh virtualenv,
gives an environment that serves the app and has none of the test tools; the
server says where it listens, once, when it does."""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from .databases import django_env
from .harness import BACKEND_DIR, PYTHON, REPO_DIR, STARTUP_DEADLINE

pytestmark = pytest.mark.e2e

# Distributions only `make test` installs (pyproject's [test] extra).
TEST_ONLY = ["pytest", "pytest-django", "hypothesis", "check-jsonschema", "websockets", "httpx"]
READY = "Chat is running at http://{host}:{port}/"


def make(*args: str, venv: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", f"VENV={venv}", *args], cwd=REPO_DIR,
                          capture_output=True, text=True, timeout=600)


def installed(python: Path, distribution: str) -> bool:
    probe = f"import importlib.metadata as m\ntry: m.distribution({distribution!r})\nexcept m.PackageNotFoundError: raise SystemExit(1)"
    return subprocess.run([str(python), "-c", probe]).returncode == 0


@pytest.fixture(scope="module")
def run_venv(tmp_path_factory):
    """A virtualenv made by the recipe `make run` depends on, and nothing else."""
    venv = tmp_path_factory.mktemp("first-run") / "venv"
    done = make(f"{venv}/.installed-run", venv=venv)
    assert done.returncode == 0, done.stdout + done.stderr
    yield venv
    shutil.rmtree(venv, ignore_errors=True)


def start(python: Path, var_dir: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([str(python), "-m", "chat.serve", *args], cwd=BACKEND_DIR,
                            env=django_env(var_dir, secret="first-run"), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)


def read_stdout_line(proc: subprocess.Popen, deadline: float) -> str:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            return proc.stdout.readline()
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
    raise TimeoutError("no line on stdout")


def stop(proc: subprocess.Popen) -> str:
    """Stops the server and returns what else it wrote to stdout."""
    proc.send_signal(signal.SIGTERM)
    try:
        rest, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        rest, _ = proc.communicate(timeout=5)
    return rest


def test_make_runs_install_has_what_running_needs_and_no_test_tools(run_venv):
    python = run_venv / "bin" / "python"
    for distribution in ["django", "daphne", "channels", "whitenoise"]:
        assert installed(python, distribution), distribution
    for distribution in TEST_ONLY:
        assert not installed(python, distribution), f"{distribution} is in make run's environment"


def test_the_install_stamps_are_not_redone_needlessly(run_venv):
    # Up to date after the install: a second `make run` installs nothing.
    assert make("-q", f"{run_venv}/.installed-run", venv=run_venv).returncode == 0
    # `make test` adds the extra on top; after it (its stamp newer), run's is still up to date.
    plan = make("-n", f"{run_venv}/.installed-test", venv=run_venv).stdout
    assert "pip install --quiet -e '.[test]'" in plan and plan.count("pip install") == 1, plan
    (run_venv / ".installed-test").touch()
    assert make("-q", f"{run_venv}/.installed-run", venv=run_venv).returncode == 0
    assert make("-q", f"{run_venv}/.installed-test", venv=run_venv).returncode == 0
    # A change to pyproject.toml redoes both, run's first.
    os.utime(run_venv / ".installed-run", (0, 0))
    plan = make("-n", f"{run_venv}/.installed-test", venv=run_venv).stdout
    assert plan.index("pip install --quiet -e .\n") < plan.index("pip install --quiet -e '.[test]'"), plan


def test_the_run_environment_serves_the_app_and_says_where(run_venv, tmp_path):
    python = run_venv / "bin" / "python"
    migrate = subprocess.run([str(python), "manage.py", "migrate", "--noinput"], cwd=BACKEND_DIR,
                             env=django_env(tmp_path, secret="first-run"), capture_output=True, text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr
    proc = start(python, tmp_path, "--bind", "127.0.0.1", "--port", "0")
    try:
        line = read_stdout_line(proc, STARTUP_DEADLINE)
        port = int(line.rsplit(":", 1)[1].rstrip("/\n"))
        assert line == READY.format(host="127.0.0.1", port=port) + "\n"
        # Printed once the port listens: the page answers at once.
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200 and '<div id="root"></div>' in page.text
    finally:
        rest = stop(proc)
    assert "Chat is running" not in rest


def test_the_ready_line_names_the_address_as_bound(tmp_path):
    # The test environment's server, on IPv6 loopback when the machine has it.
    host = "::1" if subprocess.run(["python3", "-c", "import socket; socket.socket(socket.AF_INET6).bind(('::1', 0))"]
                                   ).returncode == 0 else "127.0.0.1"
    proc = start(PYTHON, tmp_path, "--bind", host, "--port", "0")
    try:
        line = read_stdout_line(proc, STARTUP_DEADLINE)
        port = int(line.rsplit(":", 1)[1].rstrip("/\n"))
        shown = f"[{host}]" if ":" in host else host
        assert line == READY.format(host=shown, port=port) + "\n"
        assert httpx.get(f"http://{shown}:{port}/healthz", timeout=10).status_code in {200, 503}
    finally:
        rest = stop(proc)
    assert "Chat is running" not in rest
