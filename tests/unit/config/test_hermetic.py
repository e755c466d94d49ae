"""The tests' own var directory and configuration, and the guard on the checkout's var/."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from hotline.config.settings import Settings, load_settings
from tests.helpers.var_guard import CHECKOUT_VAR, CheckoutVarTouched, touched


def test_the_session_has_its_own_var_and_config() -> None:
    s = load_settings()
    cfg = Path(os.environ["HOTLINE_CONFIG_FILE"])
    assert s.var_dir == cfg.parent / "var" and s.var_dir.is_dir()
    assert not str(s.var_dir.resolve()).startswith(CHECKOUT_VAR)
    assert s.db_url == f"sqlite:///{s.var_dir / 'hotline.db'}"
    kept = {"HOTLINE_CONFIG_FILE", "HOTLINE_CACHE_DIR"}  # ours, and where the root is cached
    assert {n for n in os.environ if n.startswith("HOTLINE_") and "_TEST_" not in n} <= kept


@pytest.mark.parametrize(
    "reach",
    [
        lambda: open(Path(CHECKOUT_VAR) / "agents.yaml", "a"),  # noqa: SIM115
        lambda: (Path(CHECKOUT_VAR) / "agents.yaml").read_text(),
        lambda: os.listdir(CHECKOUT_VAR),
        lambda: sqlite3.connect(Path(CHECKOUT_VAR) / "hotline.db"),
        lambda: (Path(CHECKOUT_VAR) / "new-dir").mkdir(),
    ],
)
def test_reaching_the_checkout_var_fails_the_test(reach: object) -> None:
    before = len(touched)
    with pytest.raises(CheckoutVarTouched, match="checkout's own var/"):
        reach()  # type: ignore[operator]
    assert len(touched) == before + 1
    del touched[before:]  # this test wanted it; any other test fails on it


def test_a_relative_path_is_resolved_before_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(CHECKOUT_VAR).parent)
    before = len(touched)
    with pytest.raises(CheckoutVarTouched):
        open("var/never-made-by-tests.txt", "w")  # noqa: SIM115
    del touched[before:]


def test_elsewhere_is_free(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "agents.yaml").write_text("[]\n")
    assert os.listdir(tmp_path / "var") == ["agents.yaml"]


def test_namespace_follows_the_install() -> None:
    a = Settings(var_dir=Path("/srv/hotline-a/var"))
    b = Settings(var_dir=Path("/srv/hotline-b/var"))
    assert a.live_namespace.startswith("nanning-") and b.live_namespace.startswith("nanning-")
    assert a.live_namespace != b.live_namespace
    assert a.live_namespace == Settings(var_dir=Path("/srv/hotline-a/var")).live_namespace
    assert Settings(var_dir=Path("/srv/x"), namespace="nanning").live_namespace == "nanning"


def test_two_installs_keep_apart_in_redis_and_mqtt() -> None:
    from hotline.acd import live_keys
    from hotline.kernel.alarms import alarm_topic

    a = Settings(var_dir=Path("/srv/hotline-a/var"))
    b = Settings(var_dir=Path("/srv/hotline-b/var"))
    assert live_keys.agents_key(a.live_namespace) != live_keys.agents_key(b.live_namespace)
    assert alarm_topic(a) == f"hotline/{a.live_namespace}/alarm" != alarm_topic(b)


def test_a_bad_namespace_is_refused() -> None:
    with pytest.raises(ValueError, match="namespace"):
        Settings(namespace="Has Spaces")
