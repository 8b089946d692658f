"""The curl examples in docs/integration.md run, in order, against a live server with the demo data."""

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from consortium import policy
from consortium.models import Institution
from consortium.services import apitoken_create

DOC = Path(__file__).resolve().parents[2] / "docs" / "integration.md"
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)

pytestmark = pytest.mark.django_db(transaction=True)


def examples() -> list[str]:
    return BLOCK.findall(DOC.read_text(encoding="utf-8"))


def test_the_guide_has_examples():
    assert len(examples()) >= 4


def test_every_example_in_the_integration_guide_runs(live_server, tmp_path):
    if not (shutil.which("curl") and shutil.which("jq")):
        message = "curl and jq are installed by `make system-deps` (.ci/system-deps)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    call_command("seed_demo", stdout=io.StringIO())
    uned = Institution.objects.get(short_name="UNED")
    _token, key = apitoken_create(actor=None, institution=uned, name="docs examples", scopes=policy.api_scopes(),
                                  check_policy=False)
    blocks = examples()
    script = ["set -euo pipefail"]
    for number, block in enumerate(blocks, start=1):
        script += [f"echo '>>> example {number}' >&2", block]
    env = {**os.environ, "BASE": live_server.url, "TOKEN": key}
    result = subprocess.run(["bash", "-c", "\n".join(script)], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    ran = result.stderr.count(">>> example")
    assert result.returncode == 0, (
        f"example {ran} of {len(blocks)} failed:\n{blocks[ran - 1] if ran else ''}\n--- output\n"
        f"{result.stdout[-3000:]}\n--- errors\n{result.stderr[-3000:]}"
    )
    assert ran == len(blocks)
    assert "false" not in result.stdout.split(), f"an example printed false:\n{result.stdout}"
