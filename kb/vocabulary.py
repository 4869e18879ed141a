"""Read the editable vocabularies: synonyms.yml (abbreviations), concepts.yml (everyday wording)
and places.yml (province names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from indexer import Thesaurus, fold_accents, normalize_text, syllables

from .entries import InvalidEntry, Problem, load_fields, load_yaml

__all__ = ["VOCABULARY_FILES", "Concept", "Vocabulary", "load_vocabulary", "unused_terms", "vocabulary_errors"]


@dataclass(frozen=True)
class Concept:
    """One group of concepts.yml: the knowledge base's terms and the everyday ways of saying them."""

    terms: tuple[str, ...]
    everyday: tuple[str, ...]
    line: int


@dataclass
class Vocabulary:
    """The query thesaurus, today's name of every province name, and what was wrong in the files."""

    thesaurus: Thesaurus = field(default_factory=Thesaurus)
    regions: dict[str, str] = field(default_factory=dict)  # any known name -> today's province
    former: dict[str, list[str]] = field(default_factory=dict)  # today's province -> former names
    concepts: list[Concept] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def region(self, province: str | None) -> str | None:
        """Return the province as named today (the name itself if unknown)."""
        if not province:
            return None
        return self.regions.get(province, province)


def _clean(value: object) -> str:
    """Normalise one name from a vocabulary file."""
    return " ".join(normalize_text(str(value)).split())


def _is_word(value: object) -> bool:
    """Return True for a value a vocabulary may hold: text or a number, never yes/no."""
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def _read_yaml(path: Path, problems: list[Problem]) -> object:
    """Load a YAML file, recording a problem instead of raising."""
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(Problem(str(path), mark.line + 1 if mark else 1, f"YAML không hợp lệ: {exc}"))
        return None


def _line_of(path: Path, needle: str) -> int:
    """Return the first line of path that contains needle (1 if none)."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    return 1


def _load_synonyms(path: Path, vocab: Vocabulary) -> None:
    """Add each group of synonyms.yml (a list of lists) to the thesaurus."""
    data = _read_yaml(path, vocab.problems)
    if data is None:
        return
    if not isinstance(data, list):
        vocab.problems.append(
            Problem(str(path), 1, "phải là danh sách các nhóm, mỗi dòng '- [BĐBP, Bộ đội Biên phòng]'")
        )
        return
    for group in data:
        if not isinstance(group, list) or len(group) < 2 or not all(_is_word(v) for v in group):
            line = _line_of(path, str(group[0] if isinstance(group, list) and group else group))
            vocab.problems.append(
                Problem(str(path), line, f"nhóm {group!r} phải là danh sách từ hai cách viết trở lên")
            )
            continue
        vocab.thesaurus.add_group(_clean(v) for v in group)


def _load_concepts(path: Path, vocab: Vocabulary) -> None:
    """Make each everyday phrase of concepts.yml also find the terms of its group (one way)."""
    data = _read_yaml(path, vocab.problems)
    if data is None:
        return
    shape = "phải là danh sách nhóm, mỗi nhóm '- terms: [tảo hôn]' và 'everyday: [cưới sớm, lấy chồng sớm]'"
    if not isinstance(data, list):
        vocab.problems.append(Problem(str(path), 1, shape))
        return
    # Where each group starts, for messages (the file already loaded, so composing cannot fail).
    lines = [node.start_mark.line + 1 for node in yaml.compose(path.read_text(encoding="utf-8"), yaml.SafeLoader).value]
    for group, line in zip(data, lines, strict=True):
        forms = {}
        for key in ("terms", "everyday"):
            values = group.get(key) if isinstance(group, dict) else None
            if _is_word(values):
                values = [values]
            if isinstance(values, list) and all(_is_word(v) for v in values):
                forms[key] = tuple(dict.fromkeys(c for c in (_clean(v) for v in values) if c))
            if not forms.get(key):
                vocab.problems.append(Problem(str(path), line, f"nhóm {group!r}: {shape}"))
                break
        else:
            if extra := sorted(set(group) - {"terms", "everyday"}, key=str):
                message = f"khóa lạ {', '.join(map(str, extra))} (chỉ có 'terms' và 'everyday'): bị bỏ qua"
                vocab.problems.append(Problem(str(path), line, message, warning=True))
            folded_terms = {fold_accents(t).lower() for t in forms["terms"]}
            same = [e for e in forms["everyday"] if fold_accents(e).lower() in folded_terms]
            if same:
                vocab.problems.append(
                    Problem(str(path), line, f"'{same[0]}' vừa là thuật ngữ vừa là cách nói thường ngày", warning=True)
                )
            concept = Concept(forms["terms"], forms["everyday"], line)
            vocab.concepts.append(concept)
            for phrase in concept.everyday:
                vocab.thesaurus.add_expansion(phrase, concept.terms)


def unused_terms(vocab: Vocabulary, texts: list[str], path: str = "concepts.yml") -> list[Problem]:
    """Return a warning for each term of concepts.yml that no entry uses: its group finds nothing."""
    haystack = "\n".join(" " + " ".join(s.folded for s in syllables(t)) + " " for t in texts)
    problems = []
    for concept in vocab.concepts:
        for term in concept.terms:
            if f" {' '.join(s.folded for s in syllables(term))} " not in haystack:
                message = f"thuật ngữ '{term}' không có trong mục nào: các cách nói của nhóm này không tìm được gì"
                problems.append(Problem(path, concept.line, message, warning=True))
    return problems


def _load_places(path: Path, vocab: Vocabulary) -> None:
    """Add province names before and after the 2025 merger, both ways."""
    data = _read_yaml(path, vocab.problems)
    if data is None:
        return
    if not isinstance(data, dict) or not isinstance(data.get("merged", {}), dict):
        vocab.problems.append(Problem(str(path), 1, "phải có khóa 'merged: {tên mới: [tên cũ, …]}'"))
        return
    for new, olds in (data.get("merged") or {}).items():
        new = _clean(new)
        if not isinstance(olds, list):
            vocab.problems.append(Problem(str(path), _line_of(path, str(new)), f"'{new}' phải có danh sách tên cũ"))
            continue
        former = [_clean(o) for o in olds if _clean(o) != new]
        vocab.former[new] = former
        vocab.regions[new] = new
        # Today's name finds entries under the former ones; a former name finds today's province.
        vocab.thesaurus.add_expansion(new, former)
        for old in former:
            vocab.regions[old] = new
            vocab.thesaurus.add_expansion(old, [new])
    for name in data.get("unchanged") or []:
        vocab.regions.setdefault(_clean(name), _clean(name))
    for alias, name in (data.get("aliases") or {}).items():
        alias, name = _clean(alias), _clean(name)
        vocab.thesaurus.add_group([alias, name])
        vocab.regions[alias] = vocab.regions.get(name, name)


def load_vocabulary(content_dir: Path) -> Vocabulary:
    """Read synonyms.yml, concepts.yml and places.yml from content_dir; problems are kept, never raised."""
    vocab = Vocabulary()
    _load_synonyms(content_dir / "synonyms.yml", vocab)
    _load_concepts(content_dir / "concepts.yml", vocab)
    _load_places(content_dir / "places.yml", vocab)
    return vocab


VOCABULARY_FILES = ("fields.yml", "places.yml", "synonyms.yml", "concepts.yml")


def vocabulary_errors(content_dir: Path) -> list[Problem]:
    """Return the errors (not warnings) of the vocabulary files, with paths relative to content_dir."""
    problems = [p for p in load_vocabulary(content_dir).problems if not p.warning]
    try:
        load_fields(content_dir / "fields.yml")
    except InvalidEntry as exc:
        problems += exc.problems
    root = str(content_dir) + "/"
    return [Problem(p.path.removeprefix(root), p.line, p.message) for p in problems]
