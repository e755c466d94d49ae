"""The same files in every domain package (issue 18), so that a reader who knows one
package knows where everything is in the others: tables in `models.py`, decisions in
`service.py` (no FastAPI, no Typer), routes in `http.py`, long-running tasks in
`worker.py`, each with `run()` and `status()`.

The exceptions are listed here, each with its reason; one that is no longer needed fails
too, so that the lists stay true."""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOTLINE = REPO / "hotline"
DOMAIN = ("agi", "acd", "speech", "crm_bridge", "recordings", "workorders", "calls", "auth")
WEB = ("fastapi", "starlette", "typer")
NO_WEB = ("service.py", "models.py", "settings.py", "worker.py")
# Besides the http.py files, the modules that declare routes.
ROUTES_ELSEWHERE = {
    "hotline/app/api.py": "the app itself, which includes every package's router",
    "hotline/acd/agent_page.py": "the agent page's router, included by acd/http.py",
    "hotline/acd/live_api.py": "the live numbers' and wallboard's router, included by acd/http.py",
    "hotline/crm_bridge/upstream/receiver.py": "the platform's reference receiver, its own app",
}
ROUTE_METHODS = {
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "head",
    "options",
    "api_route",
    "websocket",
}
ROUTE_CALLS = {"APIRouter", "add_api_route", "add_api_websocket_route", "add_route"}
# Classes with a run() of their own that are not a long-running task of their package.
NOT_TASKS = {
    "hotline.acd.live_service.MqttPublisher": "a part of LiveService, whose status shows it",
}


def rel(path: Path) -> str:
    return str(path.relative_to(REPO))


def module_of(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts)


def product() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(HOTLINE.rglob("*.py")):
        if "migrations" not in path.relative_to(HOTLINE).parts:
            yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def domain_files(name: str) -> list[Path]:
    return sorted(p for pkg in DOMAIN for p in (HOTLINE / pkg).rglob(name))


def is_table(node: ast.ClassDef) -> bool:
    return any(
        k.arg == "table" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in node.keywords
    )


def route_lines(tree: ast.Module) -> list[int]:
    """Where the module makes a router or declares a route."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = (
                f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            )
            if name in ROUTE_CALLS:
                lines.append(node.lineno)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for d in node.decorator_list:
                f = d.func if isinstance(d, ast.Call) else d
                if isinstance(f, ast.Attribute) and f.attr in ROUTE_METHODS:
                    lines.append(d.lineno)
    return lines


def imported_modules(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module


def task_classes(tree: ast.Module) -> Iterator[str]:
    """Classes with a `run(self)`: a long-running task (a run that takes arguments, like
    the recognisers' pool's, runs one call)."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if (
                    isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                    and item.name == "run"
                    and len(item.args.args) == 1
                ):
                    yield node.name


def offered(worker_module: str) -> dict[str, type]:
    """The classes a worker.py offers: those it defines and those it names in __all__."""
    mod = importlib.import_module(worker_module)
    names = set(getattr(mod, "__all__", ()))
    return {
        name: obj
        for name, obj in vars(mod).items()
        if inspect.isclass(obj) and (obj.__module__ == worker_module or name in names)
    }


def test_every_table_is_in_a_models_py() -> None:
    wrong = [
        f"{rel(path)}:{node.lineno} {node.name}"
        for path, tree in product()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and is_table(node) and path.name != "models.py"
    ]
    assert wrong == [], "a table=True class outside a models.py:\n" + "\n".join(wrong)


def test_decisions_tables_settings_and_workers_import_no_web_framework() -> None:
    wrong = [
        f"{rel(path)}:{line} imports {module}"
        for name in NO_WEB
        for path in domain_files(name)
        for line, module in imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        if module.split(".")[0] in WEB
    ]
    assert wrong == [], (
        "service.py, models.py, settings.py and worker.py know no FastAPI, Starlette or "
        "Typer (routes go to http.py, commands to the CLI):\n" + "\n".join(wrong)
    )


def test_routes_are_declared_in_http_py() -> None:
    declaring = {rel(path): lines for path, tree in product() if (lines := route_lines(tree))}
    wrong = [
        f"{path}:{lines[0]}"
        for path, lines in declaring.items()
        if Path(path).name != "http.py" and path not in ROUTES_ELSEWHERE
    ]
    assert wrong == [], "routes are declared in http.py:\n" + "\n".join(wrong)
    stale = sorted(set(ROUTES_ELSEWHERE) - set(declaring))
    assert stale == [], f"listed in ROUTES_ELSEWHERE but declares no route: {stale}"


def test_every_task_of_a_worker_py_has_run_and_status() -> None:
    workers = domain_files("worker.py")
    assert workers, "no worker.py found"
    wrong = []
    for path in workers:
        for name, cls in offered(module_of(path)).items():
            if callable(getattr(cls, "run", None)) and not callable(getattr(cls, "status", None)):
                wrong.append(f"{rel(path)}: {name} has run() but no status()")
    assert wrong == [], "\n".join(wrong)


def test_long_running_tasks_are_found_in_their_package_worker_py() -> None:
    wrong, exempt = [], set()
    for path, tree in product():
        package = path.parent.relative_to(HOTLINE).parts
        if not package or package[0] not in DOMAIN:
            continue
        for name in task_classes(tree):
            qualified = f"{module_of(path)}.{name}"
            if qualified in NOT_TASKS:
                exempt.add(qualified)
                continue
            worker = path.parent / "worker.py"
            if not worker.is_file() or name not in offered(module_of(worker)):
                wrong.append(f"{rel(path)}: {name} is not in {rel(worker)}")
    assert wrong == [], "a long-running task is named by its package's worker.py:\n" + "\n".join(
        wrong
    )
    assert exempt == set(NOT_TASKS), f"stale NOT_TASKS: {sorted(set(NOT_TASKS) - exempt)}"
