"""The production shape cannot run here (no Docker engine); check what can be checked."""

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from dockerfile_parse import DockerfileParser

from config.settings import REPO_DIR

COMPOSE = REPO_DIR / "docker-compose.yml"
DOCKERFILE = REPO_DIR / "Dockerfile"
ENV_EXAMPLE = REPO_DIR / ".env.example"


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


def test_compose_runs_the_hourly_clean_up_beside_the_replicas():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    cleanup = services["cleanup"]
    assert cleanup["image"] == services["app"]["image"]
    script = " ".join(cleanup["command"])
    # A loop: the job, then an hour's sleep, and a failed run does not end the loop.
    assert "while true" in script and "python manage.py chat_cleanup ||" in script and "sleep 3600" in script
    assert cleanup["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert cleanup["init"] is True, "PID 1 must pass SIGTERM on to the shell's sleep"
    assert cleanup["environment"] == services["app"]["environment"]


def test_uploads_are_one_volume_for_every_replica_the_clean_up_and_nginx():
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert "uploads" in compose["volumes"]
    upload_dir = services["app"]["environment"]["CHAT_UPLOAD_DIR"]
    for name in ("app", "cleanup"):
        assert f"uploads:{upload_dir}" in services[name]["volumes"], name
    (proxy_mount,) = [v for v in services["proxy"]["volumes"] if v.startswith("uploads:")]
    assert proxy_mount.endswith(":ro"), "nginx only reads the files"
    # The image makes the directory as its user, so a new volume starts writable by it.
    assert f"mkdir -p {upload_dir}" in DOCKERFILE.read_text()
    # Bodies: 1 MiB everywhere but the upload endpoint.
    nginx = compose["configs"]["nginx"]["content"]
    assert re.search(r"server \{\n\s*listen 80;\n\s*client_max_body_size 1m;", nginx)
    upload = re.search(r"location = /api/uploads \{(.*?)\}", nginx, re.S).group(1)
    size = int(re.search(r"client_max_body_size (\d+)m;", upload).group(1))
    assert size * 1024 * 1024 > 25 * 1024 * 1024, "room for the largest upload and its multipart envelope"


def interpolated_variables(text: str) -> set[str]:
    """${NAME...} in the compose file; $$ is a literal dollar (nginx's variables)."""
    return set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", text))


def test_env_example_lists_every_variable_the_compose_file_reads():
    names = interpolated_variables(COMPOSE.read_text())
    assert {"DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "REDIS_URLS"} <= names
    assert "http_upgrade" not in names
    listed = {line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text().splitlines() if re.match(r"^[A-Z_]+=", line)}
    assert names - listed == set(), ".env.example misses these"
    # The secret is never shipped: the example leaves it empty and compose refuses an empty one.
    assert "DJANGO_SECRET_KEY=\n" in ENV_EXAMPLE.read_text()
    assert "${DJANGO_SECRET_KEY:?" in COMPOSE.read_text()
    assert ".env" in (REPO_DIR / ".dockerignore").read_text().split()


def test_the_app_services_read_the_env_file_when_there_is_one():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    for name in ("migrate", "app", "cleanup"):
        assert services[name]["env_file"] == [{"path": ".env", "required": False}], name


def seconds(nginx: str, directive: str) -> int:
    (value,) = re.findall(rf"{directive} (\d+)s;", nginx)
    return int(value)


def test_socket_timeouts_outlast_two_heartbeats_of_either_side():
    """nginx closes a socket when the upstream says nothing for proxy_read_timeout:
    it must outlast two of Daphne's pings and two of the app's `ping` frames, so
    one lost beat never cuts a healthy socket, and stay near a minute so a dead
    one does not linger."""
    from daphne.cli import CommandLineInterface

    from chat.serve import arguments

    timing = (REPO_DIR / "frontend" / "src" / "lib" / "timing.ts").read_text()
    client_beat = int(re.search(r"HEARTBEAT_INTERVAL_MS = ([\d_]+)", timing).group(1).replace("_", "")) / 1000
    args = CommandLineInterface().parser.parse_args(arguments(["--port", "8000"]))
    server_beat = args.ping_interval
    nginx = yaml.safe_load(COMPOSE.read_text())["configs"]["nginx"]["content"]
    ws = re.search(r"location /ws/ \{(.*?)\n    \}", nginx, re.S).group(1)
    read, send = seconds(ws, "proxy_read_timeout"), seconds(ws, "proxy_send_timeout")
    assert (client_beat, server_beat) == (25, 20), "the numbers the config's comment and docs/deploy.md quote"
    assert read >= 2 * max(client_beat, server_beat) and send == read
    assert read <= 120


def test_redis_urls_shard_the_channel_layer_and_keep_redis_url_for_the_rest():
    code = (
        "from config import settings as s; "
        "print([h['address'] for h in s.CHANNEL_LAYERS['default']['CONFIG']['hosts']]); print(s.REDIS_URL)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDIS_URLS")}
    env.update(DJANGO_SECRET_KEY="x", REDIS_URLS="redis://a:6379/0, redis://b:6379/0")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO_DIR / "backend", capture_output=True,
                         text=True, timeout=60, check=True).stdout.splitlines()
    assert out == ["['redis://a:6379/0', 'redis://b:6379/0']", "redis://a:6379/0"]
    env.update(REDIS_URL="redis://c:6379/1")
    env.pop("REDIS_URLS")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO_DIR / "backend", capture_output=True,
                         text=True, timeout=60, check=True).stdout.splitlines()
    assert out == ["['redis://c:6379/1']", "redis://c:6379/1"]


def test_nginx_and_the_replicas_have_descriptors_for_many_sockets():
    compose = yaml.safe_load(COMPOSE.read_text())
    main = compose["configs"]["nginx_main"]["content"]
    workers = int(re.search(r"worker_connections (\d+);", main).group(1))
    files = int(re.search(r"worker_rlimit_nofile (\d+);", main).group(1))
    # 10,000 sockets a worker, at two connections each, within its descriptors.
    assert workers >= 20_000 and files >= workers
    assert "include /etc/nginx/conf.d/*.conf;" in main
    targets = {c["source"]: c["target"] for c in compose["services"]["proxy"]["configs"]}
    assert targets == {"nginx_main": "/etc/nginx/nginx.conf", "nginx": "/etc/nginx/conf.d/default.conf"}
    for name in ("proxy", "app"):
        assert compose["services"][name]["ulimits"]["nofile"] >= files, name


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
