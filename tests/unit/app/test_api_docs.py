"""The API's docs page (/docs) loads Swagger UI from the package: nothing from the internet
(a control room's browser may have no way out), and the vendored files are the ones named
in their README."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hotline.app.api import DOCS_DIR, DOCS_FILES, SWAGGER_UI_VERSION, create_app
from hotline.config.settings import Settings
from tests.helpers.auth_tokens import bearer
from tests.helpers.workorders_env import migrated_engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = migrated_engine(tmp_path)
    yield engine
    engine.dispose()


@pytest.fixture
def client(tmp_path: Path, engine: Engine) -> TestClient:
    app = create_app(Settings(var_dir=tmp_path), engine)
    return TestClient(app, headers=bearer(engine, "li", "auditor"))


def test_docs_page_names_no_other_host_and_its_files_answer(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200, page.text
    elsewhere = re.findall(r"(?:https?:)?//[^\s\"'<>)]+", page.text)
    assert elsewhere == [], elsewhere
    assert '"validatorUrl": null' in page.text  # no badge fetched from validator.swagger.io
    urls = re.findall(r"(?:src|href)=[\"']([^\"']+)[\"']", page.text)
    assert {"/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"} <= set(urls)
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.content == (DOCS_DIR / url.rsplit("/", 1)[1]).read_bytes()
    assert client.get("/docs/swagger-ui.css").headers["content-type"].startswith("text/css")
    assert client.get("/docs/index.html").status_code == 404
    assert client.get("/docs/..%2Fapi.py").status_code == 404
    assert client.get("/openapi.json").json()["info"]["title"] == "12345 hotline"


def test_docs_and_their_files_need_a_login(tmp_path: Path, engine: Engine) -> None:
    anonymous = TestClient(create_app(Settings(var_dir=tmp_path), engine))
    for path in ("/docs", "/docs/swagger-ui-bundle.js"):
        r = anonymous.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_redoc_is_not_served(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404


def test_vendored_files_match_their_readme() -> None:
    readme = (DOCS_DIR / "README.md").read_text()
    assert f"`swagger-ui-dist` {SWAGGER_UI_VERSION}" in readme
    for name in DOCS_FILES:
        digest = hashlib.sha256((DOCS_DIR / name).read_bytes()).hexdigest()
        assert f"`{name}` {digest}" in readme, name
