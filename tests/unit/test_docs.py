"""The docs stay true to the code: the generated reference pages are fresh, every `hotline`
command and option the README and the docs name exists, the README stays a one-page map
(under 200 lines) and its relative links lead somewhere."""

from __future__ import annotations

import importlib.util
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import typer

from hotline.app.cli import app

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = sorted([README, *(ROOT / "docs").rglob("*.md")])
README_MAX_LINES = 200


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_pages_are_fresh() -> None:
    stale = generator().stale()
    assert not stale, f"stale: {', '.join(stale)}; run `python docs/generate.py` and commit them"


# --- `hotline …` named in the pages -------------------------------------------------------


def code_texts(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of each line of a fenced block and each inline code span."""
    lines = path.read_text(encoding="utf-8").splitlines()
    fenced = False
    paragraph: list[tuple[int, str]] = []

    def spans() -> Iterator[tuple[int, str]]:
        if not paragraph:
            return
        first = paragraph[0][0]
        text = "\n".join(line for _, line in paragraph)
        for m in re.finditer(r"(`+)(.+?)\1", text, re.S):
            yield first + text.count("\n", 0, m.start()), " ".join(m.group(2).split())

    for number, line in enumerate(lines, start=1):
        if line.lstrip().startswith(("```", "~~~")):
            yield from spans()
            paragraph = []
            fenced = not fenced
        elif fenced:
            yield number, line
        elif not line.strip():
            yield from spans()
            paragraph = []
        else:
            paragraph.append((number, line))
    yield from spans()


def invocations(text: str) -> Iterator[list[str]]:
    """The words after each `hotline` (or `.venv/bin/hotline`) of a shell-ish text."""
    text = text.replace("\\|", "|")
    for part in re.split(r";|&&|\$\(", text):
        try:
            words = shlex.split(part, comments=True)
        except ValueError:  # an apostrophe in prose
            words = part.split()
        for i, word in enumerate(words):
            if word == "hotline" or word.endswith("/bin/hotline"):
                yield words[i + 1 :]


def is_group(cmd: Any) -> bool:
    return hasattr(cmd, "commands")


def options(cmd: Any) -> set[str]:
    names = {"--help"}
    for param in cmd.params:
        if param.param_type_name == "option":
            names.update(param.opts, param.secondary_opts)
    return names


def placeholder(word: str) -> bool:
    bare = word.strip("[](){}.…")
    return word.startswith(("<", "[", "{")) or "…" in word or "..." in word or bare.isupper()


def unknown(root: Any, words: list[str]) -> list[str]:
    """What in `hotline <words>` the CLI does not have ("" when all exists)."""
    current, path, parent = [root], ["hotline"], None
    found = []
    i = 0
    while i < len(words):
        raw = words[i]
        word = raw.strip("[](),.'\"`:")
        i += 1
        if raw == "|":  # alternatives (`login | logout`, `--a | --b`), or a shell pipe
            following = words[i].strip("[]()") if i < len(words) else ""
            if following.startswith("-"):
                continue
            if parent is not None and following in parent.commands:
                current, path = [parent.commands[following]], [*path[:-1], following]
                i += 1
                continue
            break
        if not word:
            continue
        if word.startswith("-"):
            name = word.split("=", 1)[0]
            if re.fullmatch(r"-+\d.*|-+", name):
                continue
            if not any(name in options(c) for c in current):
                found.append(f"`{' '.join(path)}` has no option {name}")
            continue
        groups = [c for c in current if is_group(c)]
        if not groups:
            continue  # an argument of a command
        group = groups[0]
        choices = word.split("|")
        if all(c in group.commands for c in choices):
            parent, current = group, [group.commands[c] for c in choices]
            path = [*path, word]
            continue
        if not placeholder(raw):
            found.append(f"`{' '.join(path)}` has no command {word}")
        break
    return found


def cli_mentions() -> Iterator[tuple[str, int, list[str]]]:
    for page in PAGES:
        for line, text in code_texts(page):
            for words in invocations(text):
                yield str(page.relative_to(ROOT)), line, words


def test_every_command_and_option_named_in_the_docs_exists() -> None:
    root = typer.main.get_command(app)
    problems = [
        f"{page}:{line}: {problem} (`hotline {' '.join(words)}`)"
        for page, line, words in cli_mentions()
        for problem in unknown(root, words)
    ]
    assert not problems, "\n".join(problems)


def test_the_pages_name_many_commands() -> None:
    """The scan above finds what it should (a broken parser would pass every page)."""
    mentions = {" ".join(words[:2]) for _, _, words in cli_mentions()}
    assert {"up", "call 3", "agent add", "orders dispatch", "users add"} <= mentions


@pytest.mark.parametrize(
    ("words", "problem"),
    [
        ("up --detach", None),
        ("agent login|logout|unpause 1001", None),
        ("agent add ID [--password PW | --contact URI]", None),
        ("recordings hold --call <id> | --work-order <number>", None),
        ("orders overdue | coordination | revisits", None),
        ("users passwd li [--generate | --password-stdin]", None),
        ("serve NAME", None),
        ("up --detatch", "`hotline up` has no option --detatch"),
        ("agent logn 1001", "`hotline agent` has no command logn"),
        ("orders overdue | coordinaton", None),  # a word after a pipe: another program
        ("agent login|logn 1001", "`hotline agent` has no command login|logn"),
    ],
)
def test_the_scan(words: str, problem: str | None) -> None:
    root = typer.main.get_command(app)
    found = unknown(root, shlex.split(words))
    assert found == ([problem] if problem else [])


# --- The README --------------------------------------------------------------------------


def test_the_readme_is_a_one_page_map() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) < README_MAX_LINES, (
        f"README.md has {len(lines)} lines; keep it under {README_MAX_LINES} and move the "
        "detail into docs/"
    )


def relative_links(path: Path) -> Iterator[tuple[int, str]]:
    fenced = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if fenced:
            continue
        for target in re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", line):
            if not re.match(r"[a-z][a-z0-9+.-]*:|#", target):
                yield number, target


def test_every_relative_link_of_the_readme_leads_to_a_file() -> None:
    links = list(relative_links(README))
    assert len(links) > 10
    broken = [
        f"README.md:{number}: {target}"
        for number, target in links
        if not (README.parent / target.split("#", 1)[0]).exists()
    ]
    assert not broken, "links to nothing:\n" + "\n".join(broken)
