"""Rewrite an entry's front matter key by key, keeping the author's text for every key left alone.

A save from the browser changes a few values; the file is the author's, so every top-level key
whose value did not change keeps its lines byte for byte (quotes, folded text, comments, odd
spacing), and so do the comments and blank lines between keys. A changed key is rewritten by
ruamel.yaml from its own old lines, so its style (quotes, `>-`, a flow list, its comments) stays
too. The result is always read back with PyYAML, the loader `kb check` uses, before it is kept.
"""

from __future__ import annotations

import difflib
import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    ScalarString,
    SingleQuotedScalarString,
)
from ruamel.yaml.util import load_yaml_guess_indent

__all__ = ["MISSING", "dump_keys", "update_front_matter"]

MISSING = object()  # a key to remove, or that the file did not have
_STR = "tag:yaml.org,2002:str"
_RESOLVER = yaml.resolver.Resolver()  # PyYAML's (YAML 1.1), the one `kb check` reads with
# Layout of a key a file did not have: block lists indented under their key, as people write them.
_DEFAULT_INDENT = (2, 4, 2)  # mapping, sequence, offset of the dash


def update_front_matter(
    old: str,
    values: Mapping[str, Any],
    *,
    order: Sequence[str],
    same: Callable[[str, Any], bool],
) -> str | None:
    """Return front matter text with values applied, or None if old cannot be edited in place.

    values maps each key the caller owns to its new value: MISSING removes the key, a mapping
    sets those keys of a nested mapping (MISSING removes one) and keeps its others. same(key,
    old value) says whether the file's value already means the new one: then its lines stay as
    they are. A new key goes after the last key before it in order that the file has.
    """
    try:
        node = yaml.compose(old, Loader=yaml.SafeLoader)
        parsed = yaml.safe_load(old) if node is not None else {}
    except yaml.YAMLError:
        return None
    if node is None:
        return dump_keys(values)
    if not isinstance(node, yaml.MappingNode) or node.flow_style or not isinstance(parsed, dict):
        return None
    spans: dict[str, tuple[int, int]] = {}
    for key_node, value_node in node.value:
        if key_node.tag != _STR or key_node.start_mark.column != 0 or key_node.value in spans:
            return None
        spans[key_node.value] = (key_node.start_mark.index, _line_end(old, value_node.end_mark.index))
    replaced: dict[str, str] = {}
    for key, value in values.items():
        if same(key, parsed.get(key)):  # also a key absent that means its default (no status: published)
            continue
        if key in spans:
            start, end = spans[key]
            replaced[key] = "" if value is MISSING else _rewrite(old[start:end], key, value)
        elif _present(value):
            replaced[key] = dump_keys({key: value}, indent=_guess_indent(old))
    if not replaced:
        return old
    return _splice(old, spans, replaced, order)


def _present(value: Any) -> bool:
    """Say whether a new value writes anything (a nested mapping with at least one key)."""
    if isinstance(value, Mapping):
        return any(v is not MISSING for v in value.values())
    return value is not MISSING


def _line_end(text: str, index: int) -> int:
    """Return the index just past the line holding the last character before index (its comment too)."""
    while index > 0 and text[index - 1] in " \t\n":
        index -= 1
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def _splice(old: str, spans: dict[str, tuple[int, int]], replaced: dict[str, str], order: Sequence[str]) -> str:
    """Return old with the replaced keys' lines swapped and new keys inserted after their neighbours."""
    new_keys = [k for k in replaced if k not in spans]
    after: dict[str | None, list[str]] = {}
    for key in new_keys:
        earlier = [k for k in order[: order.index(key)] if k in spans] if key in order else list(spans)
        after.setdefault(earlier[-1] if earlier else None, []).append(key)
    pieces, cursor = [], 0
    for i, (key, (start, end)) in enumerate(spans.items()):
        pieces.append(old[cursor:start])
        if i == 0:
            pieces.extend(replaced[k] for k in after.get(None, []))
        pieces.append(replaced.get(key, old[start:end]))
        pieces.extend(replaced[k] for k in after.get(key, []))
        cursor = end
    pieces.append(old[cursor:])
    text = "".join(pieces)
    return text if text.endswith("\n") or not text else text + "\n"


def _yaml(indent: tuple[int, int, int]) -> YAML:
    """Return ruamel.yaml's round-trip reader and writer, set to write the way the file is written."""
    writer = YAML(typ="rt")
    writer.preserve_quotes = True
    writer.width = 1_000_000  # never fold a long line the author did not fold
    writer.allow_unicode = True
    writer.indent(mapping=indent[0], sequence=indent[1], offset=indent[2])
    return writer


def _guess_indent(text: str) -> tuple[int, int, int]:
    """Return the (mapping, sequence, dash offset) indentation text uses, or the default."""
    try:
        _data, width, dash = load_yaml_guess_indent(text)
    except Exception:  # ruamel refuses some YAML PyYAML reads: keep the default layout
        return _DEFAULT_INDENT
    if width is None:
        return _DEFAULT_INDENT
    if dash is None:  # a nested mapping only: lists as the default, under it
        return (width, _DEFAULT_INDENT[1], _DEFAULT_INDENT[2])
    return (width, width, dash)


def _rewrite(fragment: str, key: str, value: Any) -> str:
    """Return one key's lines with a new value, written in the style of its old lines."""
    indent = _guess_indent(fragment)
    try:
        data = _yaml(indent).load(fragment)
    except Exception:  # a construct ruamel will not read back: write the key afresh
        return dump_keys({key: value}, indent=indent)
    data[key] = _restyle(data[key], value)
    if data[key] is MISSING:  # a nested mapping left empty
        return ""
    return _dump(data, {key: value}, indent)


def _restyle(old: Any, new: Any) -> Any:
    """Return new in the style of old: the same quotes or folding, a list or mapping edited in place."""
    if isinstance(new, Mapping):
        return _merge(old, new)
    if isinstance(new, str):
        if isinstance(old, (FoldedScalarString, LiteralScalarString)):
            return type(old)(new + ("\n" if old.endswith("\n") and not new.endswith("\n") else ""))
        if isinstance(old, ScalarString):
            return type(old)(new)
        return new
    if isinstance(new, list) and any(isinstance(item, Mapping) for item in new):
        return new  # a list of mappings (attachments) is written afresh
    if isinstance(new, list) and isinstance(old, CommentedSeq):
        # Edit the list where it changed: an item left alone keeps its quotes and its comment.
        kept = {str(item): item for item in old}  # an item moved keeps its quotes
        matcher = difflib.SequenceMatcher(None, [str(item) for item in old], new, autojunk=False)
        for tag, i1, i2, j1, j2 in reversed(matcher.get_opcodes()):
            if tag != "equal":
                for index in range(i2 - 1, i1 - 1, -1):
                    del old[index]
                for offset, item in enumerate(new[j1:j2]):
                    old.insert(i1 + offset, kept.get(item, item))
        return old
    return new


def _merge(old: Any, new: Mapping[str, Any]) -> Any:
    """Set some keys of a nested mapping, keep its others; a lone title stays a plain string."""
    wanted = {k: v for k, v in new.items() if v is not MISSING}
    if isinstance(old, str) and set(wanted) <= {"title"}:  # source: "Báo X" stays a string
        return _restyle(old, wanted["title"]) if wanted else MISSING
    merged = old if isinstance(old, CommentedMap) else CommentedMap()
    for position, (key, value) in enumerate(new.items()):
        if value is MISSING:
            merged.pop(key, None)
        elif key in merged:
            merged[key] = _restyle(merged[key], value)
        else:
            merged.insert(min(position, len(merged)), key, value)
    return merged if merged else MISSING


def _dump(data: CommentedMap, intended: Mapping[str, Any], indent) -> str:
    """Write data, quoting a plain string PyYAML would read as something else (yes, 2022, null…)."""
    for key in list(data):
        data[key] = _quoted(data[key])
    text = _write(data, indent)
    if not _reads_as(text, intended):  # never write what `kb check` would read otherwise
        raise ValueError(f"không ghi được khóa {', '.join(intended)}")
    return text


def _write(data: Any, indent) -> str:
    out = io.StringIO()
    _yaml(indent).dump(data, out)
    return out.getvalue()


def _quoted(value: Any) -> Any:
    """Return value with each plain string that YAML 1.1 would not read as a string quoted."""
    if isinstance(value, str) and not isinstance(value, ScalarString):
        if "\n" in value:
            return DoubleQuotedScalarString(value)
        if _RESOLVER.resolve(yaml.ScalarNode, value, (True, False)) != _STR:
            return SingleQuotedScalarString(value)
        return value
    if isinstance(value, list):
        for index, item in enumerate(value):
            quoted = _quoted(item)
            if quoted is not item:  # in place: the list keeps its comments
                value[index] = quoted
    elif isinstance(value, dict):
        for k in list(value):
            value[k] = _quoted(value[k])
    return value


def _reads_as(text: str, intended: Mapping[str, Any]) -> bool:
    """Say whether PyYAML, the loader of `kb check`, reads text back as the intended values."""
    try:
        back = yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    if not isinstance(back, dict):
        return False
    for key, value in intended.items():
        got = back.get(key, MISSING)
        if isinstance(value, Mapping):
            wanted = {k: v for k, v in value.items() if v is not MISSING}
            if isinstance(got, str):
                if set(wanted) != {"title"} or got != wanted["title"]:
                    return False
            elif got is not MISSING and (
                not isinstance(got, dict) or any(got.get(k, MISSING) != v for k, v in value.items())
            ):
                return False
        elif got != value:
            return False
    return True


def dump_keys(values: Mapping[str, Any], *, indent: tuple[int, int, int] = _DEFAULT_INDENT) -> str:
    """Return keys written afresh in the standard layout (block lists indented under their key)."""
    data = CommentedMap()
    for key, value in values.items():
        if isinstance(value, Mapping):
            value = {k: v for k, v in value.items() if v is not MISSING}
        if value is not MISSING and value != {}:
            data[key] = value
    if not data:
        return ""
    return _dump(data, {k: values[k] for k in data}, indent)
