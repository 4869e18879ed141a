"""The sections an entry's body is written in, with what goes in each: guidance, never content.

A new entry starts with the headings only; the guidance is shown beside the body field. A line
that still holds a guidance sentence (a draft written from the old template, a sentence copied
from the help) is found by `leftover_guidance`, so it is never submitted for review or published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer import normalize_text

__all__ = ["BODY_TEMPLATE", "SECTIONS", "Section", "leftover_guidance"]


@dataclass(frozen=True)
class Section:
    """One recommended section of an entry's body: its heading and what to write in it."""

    heading: str
    guidance: str


# The order the README documents and every shipped entry follows.
SECTIONS = (
    Section("Bối cảnh", "Đơn vị, địa bàn và vấn đề mà mô hình giải quyết."),
    Section("Cách làm", "Các bước triển khai, ai tham gia, nguồn lực và kinh phí."),
    Section("Kết quả", "Kết quả đã ghi nhận (chỉ nêu số liệu có nguồn)."),
    Section("Điều kiện nhân rộng", "Đơn vị khác cần những gì để áp dụng."),
    Section("Bài học kinh nghiệm", "Điều gì giúp mô hình thành công, điều gì cần tránh."),
)

# The headings, each followed by an empty line to write in.
BODY_TEMPLATE = "".join(f"## {s.heading}\n\n\n" for s in SECTIONS).rstrip("\n") + "\n"

_MARKUP = re.compile(r"^(?:[-*+>]\s+|\d+[.)]\s+)*[*_]*")


def _plain(text: str) -> str:
    """Return text compared the way a reader sees it: normalised, one space, no case, no list mark."""
    return " ".join(normalize_text(_MARKUP.sub("", text.strip())).split()).casefold()


_GUIDANCE = [(_plain(s.guidance), s) for s in SECTIONS]


def leftover_guidance(body: str) -> list[tuple[int, Section]]:
    """Return (line number in body, section) of every line that begins with a guidance sentence."""
    found = []
    for number, line in enumerate(body.replace("\r\n", "\n").split("\n"), 1):
        plain = _plain(line)
        for guidance, section in _GUIDANCE:
            if plain.startswith(guidance):
                found.append((number, section))
                break
    return found
