"""The table of what each package brings (app/plugins.py) against what the CLI, the API app
and the supervisor run."""

from __future__ import annotations

import importlib
from collections import Counter
from pathlib import Path

from fastapi import APIRouter
from typer.testing import CliRunner

from hotline.app.cli import app
from hotline.app.plugins import PLUGINS
from hotline.app.serve import Services
from hotline.config.settings import Settings
from hotline.kernel.service_names import ALL_SERVICES


def test_every_service_belongs_to_one_package_and_has_a_starter(tmp_path: Path) -> None:
    owners = Counter(name for p in PLUGINS.values() for name in p.services)
    assert set(owners) == set(ALL_SERVICES)
    assert all(n == 1 for n in owners.values()), owners
    starters = Services(Settings(var_dir=tmp_path), ALL_SERVICES).starters()
    assert set(starters) == set(ALL_SERVICES) - {"asterisk"}


def test_every_route_module_has_a_router() -> None:
    modules = [m for p in PLUGINS.values() for m in p.routes]
    assert len(modules) == len(set(modules))
    for module in modules:
        assert isinstance(importlib.import_module(module).router, APIRouter), module


def test_every_group_and_command_is_in_the_help() -> None:
    out = CliRunner().invoke(app, ["--help"]).output
    for plugin in PLUGINS.values():
        for name in [*plugin.groups, *plugin.commands]:
            assert f" {name} " in out, name
