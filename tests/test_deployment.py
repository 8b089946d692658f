"""docker-compose.yml describes the production shape; its commands are the ones the project really has.

No Docker engine runs on the CI machines, so the file is parsed and checked instead of started.
"""

import re
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _make_recipe(target: str) -> str:
    text = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert match, f"Makefile has no {target} target"
    return match.group(1)


def test_services_present():
    services = _compose()["services"]
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:")
        volumes = " ".join(services[name]["volumes"])
        assert "media:" in volumes and "private:" in volumes


def test_commands_match_the_makefile():
    services = _compose()["services"]
    web = shlex.split(services["web"]["command"])
    worker = shlex.split(services["worker"]["command"])
    beat = shlex.split(services["beat"]["command"])
    assert web[:2] == ["gunicorn", "consortium.wsgi:application"]
    assert worker[:4] == ["celery", "-A", "consortium", "worker"]
    assert beat[:4] == ["celery", "-A", "consortium", "beat"]
    assert "gunicorn consortium.wsgi:application" in _make_recipe("web")
    assert "celery -A consortium worker" in _make_recipe("worker")
    assert "celery -A consortium beat" in _make_recipe("beat")


def test_the_commands_point_at_real_modules():
    import importlib

    wsgi = importlib.import_module("consortium.wsgi")
    assert callable(wsgi.application)
    celery_module = importlib.import_module("consortium.celery")
    assert celery_module.app.main == "jointcred"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme_top = "\n".join((ROOT / "README.md").read_text().splitlines()[:40])
    assert "make test" in ci and "make test" in readme_top and "make run" in readme_top
    assert "DATABASE_URL" in ci and "REDIS_URL" in ci
