"""Fast static checks of the container files (Dockerfile, compose.yaml, .env.example, ...); no container is built.

The image itself is built and smoke-tested by scripts/container (run by .ci/run after the tests).
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERIGNORE = ROOT / ".dockerignore"
BUILD_ARGS = ROOT / ".ci" / "docker-build-args"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
SCRIPT = ROOT / "scripts" / "container"
README = ROOT / "README.md"


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined, current = [], ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        joined.append(current + line)
        current = ""
    if current:
        joined.append(current)
    out = []
    for line in joined:
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def compose_service() -> dict:
    """The keyholder service of compose.yaml."""
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]["keyholder"]


def setting_env_names() -> dict[str, list[str]]:
    """Each Settings field and the environment variable names that set it."""
    prefix = Settings.model_config.get("env_prefix", "")
    names = {}
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        if choices:
            names[name] = [str(c) for c in choices]
        elif isinstance(alias, str):
            names[name] = [alias]
        else:
            names[name] = [f"{prefix}{name}".upper()]
    return names


# --- Dockerfile ------------------------------------------------------------------------------------


def test_every_stage_is_debian_bookworm_slim_by_tag_not_digest():
    froms = [args for ins, args in instructions() if ins == "FROM"]
    assert len(froms) >= 2, "the Dockerfile should be multi-stage (builder + runtime)"
    for args in froms:
        image = args.split()[0]
        assert image == "debian:bookworm-slim", f"FROM {args}: use debian:bookworm-slim, not pinned by digest"


def test_runtime_user_is_not_root():
    users = [args for ins, args in instructions() if ins == "USER"]
    assert users, "no USER instruction: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), f"the final USER is {users[-1]}"
    assert user.isdigit(), "a numeric uid lets Kubernetes' runAsNonRoot verify it"


def test_stopsignal_healthcheck_entrypoint_and_default_command():
    ins = dict(instructions())  # last of each kind
    assert ins["STOPSIGNAL"] == "SIGTERM"
    assert re.search(r'CMD \["keyholder", "health"\]', ins["HEALTHCHECK"]), ins["HEALTHCHECK"]
    assert "--start-period=" in ins["HEALTHCHECK"], "the model needs a start period before health counts"
    assert "/usr/local/bin/keyholder-entrypoint" in ins["ENTRYPOINT"]
    assert ins["CMD"] == '["run"]'


def test_no_heredocs_because_podman_4_3_cannot_build_them():
    for ins, args in instructions():
        if ins == "RUN":
            assert "<<" not in args, f"RUN with a heredoc: {args[:80]}"


def test_torch_is_cpu_only_by_default():
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu" in text
    assert re.search(r"^ARG TORCH_VERSION=2\.13\.0$", text, re.M)
    assert 'torch==$TORCH_VERSION' in text
    # The build refuses a CUDA torch or nvidia-* packages instead of silently shipping them.
    assert "torch.version.cuda" in text and "^nvidia-" in text
    assert not re.search(r"cu\d{3}|whl/cu", text), "a CUDA wheel index is named in the Dockerfile"


def test_every_build_arg_in_ci_file_is_declared_and_lines_are_well_formed():
    declared = {args.split("=")[0] for ins, args in instructions() if ins == "ARG"}
    lines = [ln.strip() for ln in BUILD_ARGS.read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.strip().startswith("#")]
    assert lines
    for line in lines:
        if line.startswith("--build-arg "):
            key, sep, _ = line.removeprefix("--build-arg ").partition("=")
            assert sep and key in declared, f"{line}: {key} is not an ARG of the Dockerfile"
        else:
            assert re.fullmatch(r"-v \S+:\S+", line), f"{line}: must be '--build-arg K=V' or '-v SRC:DST'"


def test_runtime_layout_is_read_only_friendly():
    env = " ".join(args for ins, args in instructions() if ins == "ENV")
    for expected in ("KEYHOLDER_KNOWLEDGE_DIR=/app/knowledge", "KEYHOLDER_INDEX_DIR=/app/index",
                     "KEYHOLDER_DATA_DIR=/data", "HF_HUB_OFFLINE=1", "KEYHOLDER_HEALTH_PORT=8080"):
        assert expected in env
    runs = " ".join(args for ins, args in instructions() if ins == "RUN")
    assert "keyholder index build" in runs and "keyholder index check" in runs, "the index must be baked in"


def test_every_copied_path_is_in_the_build_context():
    patterns = [ln.strip() for ln in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
                if ln.strip() and not ln.startswith("#")]
    assert patterns[0] == "*", ".dockerignore should be an allow-list"
    allowed = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    for ins, args in instructions():
        if ins == "COPY" and "--from=" not in args:
            for src in shlex.split(args)[:-1]:
                top = src.split("/")[0]
                assert top in allowed, f"COPY {src}: {top} is excluded by .dockerignore"
    for secret in (".env", ".git", ".venv", "data", "index", "secrets"):
        assert secret not in allowed


# --- entrypoint ------------------------------------------------------------------------------------


@pytest.fixture
def fake_keyholder(tmp_path: Path) -> dict[str, str]:
    """A PATH whose `keyholder` just prints its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kh = bin_dir / "keyholder"
    kh.write_text('#!/bin/sh\necho "keyholder $*"\n', encoding="utf-8")
    kh.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}"}


@pytest.mark.parametrize(("argv", "expected"), [
    ([], "keyholder run"),
    (["run"], "keyholder run"),
    (["ask", "--json", "Why couldn't Apple comply?"], "keyholder ask --json Why couldn't Apple comply?"),
    (["index", "check"], "keyholder index check"),
    (["case", "apple"], "keyholder case apple"),
    (["eval"], "keyholder eval"),
    (["--help"], "keyholder --help"),
    (["keyholder", "topics"], "keyholder topics"),
    (["no-such-command"], "keyholder no-such-command"),
])
def test_entrypoint_routes_arguments_to_keyholder(fake_keyholder, argv, expected):
    out = subprocess.run(["sh", str(ENTRYPOINT), *argv], env=fake_keyholder, capture_output=True, text=True,
                         timeout=10, check=True)
    assert out.stdout.strip() == expected


def test_entrypoint_runs_other_programs_as_given(fake_keyholder):
    out = subprocess.run(["sh", str(ENTRYPOINT), "echo", "hello"], env=fake_keyholder, capture_output=True,
                         text=True, timeout=10, check=True)
    assert out.stdout.strip() == "hello"


# --- compose ---------------------------------------------------------------------------------------


def test_compose_service_has_what_a_deployment_needs():
    doc = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    svc = compose_service()
    assert svc["build"]["context"] == "."
    assert svc["restart"] in ("unless-stopped", "always")
    env_files = svc["env_file"] if isinstance(svc["env_file"], list) else [svc["env_file"]]
    assert ".env" in [e if isinstance(e, str) else e["path"] for e in env_files]
    assert "keyholder-data:/data" in svc["volumes"] and "keyholder-data" in doc["volumes"]
    assert svc["environment"]["KEYHOLDER_DATA_DIR"] == "/data"
    assert svc["read_only"] is True and any(t.startswith("/tmp") for t in svc["tmpfs"])
    limits = svc["deploy"]["resources"]["limits"]
    assert limits["memory"] and limits["cpus"]
    assert svc["healthcheck"]["test"] == ["CMD", "keyholder", "health"]
    assert svc["stop_signal"] == "SIGTERM"


def test_compose_secret_example_parses_and_sets_the_token_file():
    text = COMPOSE.read_text(encoding="utf-8")
    block = re.search(r"compose\.override\.yaml.*?\n#\n((?:#   [^\n]*\n)+)", text, re.S)
    assert block, "compose.yaml should show the compose.override.yaml for a Docker secret"
    override = yaml.safe_load("\n".join(ln[4:] for ln in block.group(1).splitlines()))
    svc = override["services"]["keyholder"]
    assert svc["environment"]["DISCORD_TOKEN_FILE"] == "/run/secrets/discord_token"
    assert svc["secrets"] == ["discord_token"] and override["secrets"]["discord_token"]["file"]


# --- .env.example ----------------------------------------------------------------------------------


def test_env_example_lists_every_setting():
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.M))
    missing = [names[0] for names in setting_env_names().values() if not listed.intersection(names)]
    assert not missing, f".env.example does not list {missing}"


def test_env_example_values_are_valid_settings(monkeypatch, tmp_path):
    for key in list(os.environ):
        if key.startswith(("KEYHOLDER_", "DISCORD_")):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no stray ./.env
    # As shipped (only DISCORD_TOKEN set, empty) ...
    Settings(_env_file=ENV_EXAMPLE)  # type: ignore[call-arg]
    # ... and with every example line uncommented.
    uncommented = tmp_path / "all.env"
    uncommented.write_text(re.sub(r"^# ([A-Z][A-Z0-9_]+=)", r"\1", ENV_EXAMPLE.read_text(encoding="utf-8"),
                                  flags=re.M), encoding="utf-8")
    settings = Settings(_env_file=uncommented)  # type: ignore[call-arg]
    assert settings.shard_ids == [0, 1]


# --- the CI script and the docs --------------------------------------------------------------------


def test_container_script_is_executable_valid_bash_and_keeps_off_the_host_config():
    assert SCRIPT.stat().st_mode & stat.S_IXUSR
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True, timeout=10)
    text = SCRIPT.read_text(encoding="utf-8")
    assert "CONTAINERS_CONF=" in text and "CONTAINERS_STORAGE_CONF=" in text
    assert not re.search(r">\s*/etc/containers", text), "the script must not write the host's podman config"
    assert "podman push" not in text, "the locally made base image must never be published"
    for check in ("--network none", "--read-only", "index check", "DISCORD_TOKEN", "id -u"):
        assert check in text


@pytest.mark.skipif(sys.platform != "linux", reason="ELF/permissions semantics")
def test_entrypoint_is_posix_sh():
    subprocess.run(["sh", "-n", str(ENTRYPOINT)], check=True, timeout=10)
    assert ENTRYPOINT.read_text(encoding="utf-8").startswith("#!/bin/sh\n")


def test_selfhost_docs_cover_the_issue():
    text = README.read_text(encoding="utf-8")
    for needle in ("docker compose up -d", "applications.commands", "DISCORD_TOKEN_FILE", "401",
                   "--build", "permissions=", "Troubleshooting"):
        assert needle in text, f"the README does not mention {needle!r}"
