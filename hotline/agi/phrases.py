"""Check the phrase lists (hotline/config/ivr.yaml speech.phrases, emergency.lines.*.keywords)
against the installed model's vocabulary: a word the model does not know is silently
dropped from the grammar by Vosk, so its phrase could never be heard."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hotline.agi.menu import menu_file
from hotline.agi.settings import AgiConfig
from hotline.agi.tree import IvrConfig, MenuNode, load_ivr

if TYPE_CHECKING:
    import vosk


@dataclass(frozen=True)
class PhraseList:
    where: str  # the place in the config, e.g. trees.main.nodes.main_menu.speech.phrases."3"
    phrases: tuple[str, ...]


def phrase_lists(ivr: IvrConfig, settings: AgiConfig) -> Iterator[PhraseList]:
    for tname, tree in ivr.trees.items():
        for nname, node in tree.nodes.items():
            if isinstance(node, MenuNode) and node.speech is not None:
                for key, phrases in node.speech.phrases.items():
                    where = f'ivr: trees.{tname}.nodes.{nname}.speech.phrases."{key}"'
                    yield PhraseList(where, tuple(phrases))
    for line, words in settings.emergency.keywords().items():
        yield PhraseList(f'settings: emergency.lines."{line}".keywords', tuple(words))


def missing_words(model: vosk.Model, phrase: str) -> list[str]:
    """The phrase's words (split at spaces) that are not in the model's vocabulary."""
    return [w for w in phrase.split() if model.vosk_model_find_word(w) < 0]


def check_phrases(model: vosk.Model, lists: list[PhraseList]) -> list[str]:
    """One line per phrase the model cannot hear: where, the phrase, the unknown words."""
    problems = []
    for pl in lists:
        for phrase in pl.phrases:
            missing = missing_words(model, phrase)
            if missing:
                problems.append(
                    f"{pl.where}: {phrase!r}: not in the model's vocabulary: {', '.join(missing)}"
                    " (write the model's words separated by spaces, or choose another phrase)"
                )
    return problems


def menu_phrase_check(settings: AgiConfig) -> Callable[[vosk.Model], list[str]]:
    """The check the speech service runs once its model is loaded: the menu file's phrase
    lists against the model (a broken menu file is reported by the FastAGI server itself)."""

    def check(model: vosk.Model) -> list[str]:
        try:
            ivr = load_ivr(menu_file(), settings.queue_names())
        except Exception as exc:
            return [f"phrase lists not checked: {exc}"]
        return check_phrases(model, list(phrase_lists(ivr, settings)))

    return check
