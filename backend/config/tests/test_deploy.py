"""The production shape cannot run here (no Docker engine); check what can be checked."""

import subprocess
import sys
from pathlib import Path

import yaml
from dockerfile_parse import DockerfileParser

from config.settings import REPO_DIR

COMPOSE = REPO_DIR / "docker-compose.yml"
DOCKERFILE = REPO_DIR / "Dockerfile"


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
    assert services["migrate"]["build"]["dockerfile"] == "Dockerfile"
    assert services["app"]["image"] == services["migrate"]["image"]
    nginx = compose["configs"]["nginx"]["content"]
    assert "proxy_set_header Upgrade $$http_upgrade" in nginx
    # Host with its port: the socket's origin check compares whole origins.
    assert "proxy_set_header Host $$http_host" in nginx and "Host $$host;" not in nginx


# ---- the Dockerfile --------------------------------------------------------------


def instructions(stage: int | None = None) -> list[tuple[str, str]]:
    """(INSTRUCTION, value) of the Dockerfile, or of one stage (0-based)."""
    structure = DockerfileParser(str(DOCKERFILE)).structure
    stages: list[list[tuple[str, str]]] = []
    for item in structure:
        if item["instruction"] == "FROM":
            stages.append([])
        if item["instruction"] != "COMMENT" and stages:
            stages[-1].append((item["instruction"], item["value"]))
    return [pair for s in stages for pair in s] if stage is None else stages[stage]


def test_dockerfile_builds_in_stages_and_runs_the_server_unprivileged():
    stages = [value for instruction, value in instructions() if instruction == "FROM"]
    assert len(stages) >= 2, "a build stage apart from the runtime"
    runtime = instructions(len(stages) - 1)
    users = [value for instruction, value in runtime if instruction == "USER"]
    assert users and users[-1] not in ("root", "0"), "the server does not run as root"
    # No compiler or npm in what runs: the runtime copies results from the stages.
    assert not any(instruction == "RUN" and ("npm" in value or "pip install" in value) for instruction, value in runtime)
    (cmd,) = [value for instruction, value in runtime if instruction == "CMD"]
    # The server's own entry point (our Daphne subclass: flow control, close
    # codes), trusting the proxy's headers for the client's address.
    assert '"python", "-m", "chat.serve"' in cmd and '"--proxy-headers"' in cmd
    (health,) = [value for instruction, value in runtime if instruction == "HEALTHCHECK"]
    assert "/healthz" in health


def test_dockerfile_copies_only_what_the_repository_has():
    for instruction, value in instructions():
        if instruction != "COPY" or value.startswith("--from="):
            continue
        *sources, _target = value.split()
        for source in sources:
            assert (REPO_DIR / source).exists(), f"COPY {source}: not in the repository"
