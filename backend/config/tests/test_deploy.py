"""The production shape cannot run here (no Docker engine); check what can be checked."""

import subprocess
import sys
from pathlib import Path

import yaml

from config.settings import REPO_DIR

COMPOSE = REPO_DIR / "docker-compose.yml"


def test_compose_file_is_valid_against_the_compose_spec():
    checker = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_the_scale_out_shape():
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert services["app"]["deploy"]["replicas"] >= 2
    env = services["app"]["environment"]
    assert env["REDIS_URL"].startswith("redis://redis:")
    assert env["DATABASE_URL"].startswith("postgres://")
    # The server's own entry point (our Daphne subclass: flow control, close codes),
    # trusting the proxy's headers for the client's address.
    recipe = services["migrate"]["build"]["dockerfile_inline"]
    assert '"python", "-m", "chat.serve"' in recipe and '"--proxy-headers"' in recipe
    nginx = compose["configs"]["nginx"]["content"]
    assert "proxy_set_header Upgrade $$http_upgrade" in nginx
    # Host with its port: the socket's origin check compares whole origins.
    assert "proxy_set_header Host $$http_host" in nginx and "Host $$host;" not in nginx
