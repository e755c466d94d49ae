"""`pip install .` installs one top-level name of ours, `hotline`, with the files it reads."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_wheel_holds_one_top_level_name_and_its_data(tmp_path: Path) -> None:
    build = ["wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path)]
    subprocess.run(
        [sys.executable, "-m", "pip", *build, str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("hotline12345-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if ".dist-info/" not in n}
    assert top == {"hotline"}
    for needed in (
        "hotline/asterisk/templates/extensions.conf.j2",
        "hotline/config/hotline.yaml",
        "hotline/migrations/env.py",
        "hotline/migrations/versions/0001_baseline.py",
        "hotline/app/static/swagger-ui/swagger-ui-bundle.js",
        "hotline/app/sipp/caller.xml",
        "hotline/acd/wallboard/index.html",
        "hotline/auth/login.html",
    ):
        assert needed in names, needed
