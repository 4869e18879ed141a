# Size: one proposal, step by step (title, summary, unit and province, fields, year and source,
# body); each step is short, and apart they would all share and export the text helpers.
"""A new entry drafted from a document: a report (DOCX, PDF, text) or a pasted news article.

Every value is a proposal for the editor to check, never a decision: `propose` returns a Draft
for the ordinary edit form, which values were proposed and why, and which could not be.

- title: a quoted name beside a word like "mô hình" (“Tủ thuốc biên cương”), else the document's
  heading or a text's headline, else the subject of its first sentence;
- summary: the first sentences that speak of the model, within the form's limit;
- unit and province: underthesea's named entities (organisations, locations) and the patterns
  "Đồn Biên phòng X", "BĐBP tỉnh Y", "Bộ đội Biên phòng tỉnh Y", checked against places.yml
  (former names → today's) and the units the knowledge base already has;
- fields: those of the existing entries most like the document (the search index's answer);
- year, source title, date and address;
- body: the text under the recommended sections where its headings say which, else all under
  the first section ("Bối cảnh"); a guidance sentence of the form is never copied in.

No Flask here: the knowledge base's side (units, provinces, fields, similar entries) comes in a
`Knowledge`, so tests and the evaluation (tests/eval/drafting.py) call this module directly.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from indexer import normalize_text

from .dates import DateError, parse_date
from .drafts import Draft
from .entries import SUMMARY_MAX
from .extract import Block, Extracted
from .sections import SECTIONS, leftover_guidance

__all__ = ["FIELD_LABELS", "Knowledge", "Proposal", "gather", "propose"]

NER_CHARS = 3_000  # the opening of a document, where it names its unit and place: NER takes ~0.25 ms a character
UNIT_CHARS = 50_000  # what the unit patterns are looked for in (the rest of a long report adds time, not units)
TITLE_WORDS = 24  # syllables: "Diễn tập liên hợp ngăn chặn … Việt Nam – Lào" has 22
TITLE_CHARS = 200  # the form's limit
BODY_MAX = 200_000  # the form's limit
CUT_NOTE = "*(Phần sau của tài liệu quá dài nên không được đưa vào đây; xem tài liệu gốc.)*"
MAX_FIELDS = 3
FIELD_LABELS = {
    "title": "tên mô hình", "summary": "tóm tắt", "unit": "đơn vị", "province": "tỉnh, thành phố",
    "fields": "lĩnh vực", "year": "năm", "source_title": "tên nguồn", "source_date": "ngày của nguồn",
    "source_url": "địa chỉ nguồn", "body": "nội dung",
}  # fmt: skip


@dataclass
class Knowledge:
    """What the knowledge base tells about a new document: its vocabularies and its entries."""

    regions: dict[str, str] = field(default_factory=dict)  # any province name -> today's (places.yml)
    units: Sequence[tuple[str, str]] = ()  # (unit, province) of the entries, most used first
    fields: Sequence[str] = ()  # content/fields.yml
    # text -> (fields, score) of the entries most like it, best first (the search index), or None
    similar: Callable[[str], list[tuple[tuple[str, ...], float]]] | None = None


@dataclass
class Proposal:
    """A drafted entry: the form's values, which of them were proposed (and why) and which not."""

    draft: Draft
    proposed: dict[str, str] = field(default_factory=dict)  # form field -> where the value came from
    missing: list[str] = field(default_factory=list)  # form fields no value could be proposed for


def propose(
    doc: Extracted,
    knowledge: Knowledge,
    source_url: str = "",
    name: str = "",
    recognise: Callable[[str], list[tuple[str, str]]] | None = None,
) -> Proposal:
    """Return a proposed draft for a document; nothing is stored (recognise: named entities, underthesea's)."""
    blocks = _reflow([Block(" ".join(b.text.split()), b.level) for b in doc.blocks if b.text.strip()])
    text = "\n".join(b.text for b in blocks)
    found = Proposal(Draft())
    draft = found.draft

    def put(key: str, value, why: str) -> None:
        if value:
            setattr(draft, key, value)
            found.proposed[key] = why

    title, why, found_in = _title(blocks, doc.title)
    # The line a title was read from (a heading, a headline) is neither summary nor body.
    title_block = found_in if found_in >= 0 and _is_title_line(blocks[found_in]) else -1
    put("title", title, why)
    put("summary", _summary(blocks, title_block), "những câu đầu tiên nói về mô hình")
    entities = (recognise or _entities)(text[:NER_CHARS])
    unit, unit_why, unit_province = _unit(text[:UNIT_CHARS], entities, knowledge)
    put("unit", unit, unit_why)
    province, province_why = _province(text[:UNIT_CHARS], entities, knowledge, unit, unit_province)
    put("province", province, province_why)
    fields, fields_why = _fields(text, knowledge)
    put("fields", fields, fields_why)
    year = _year(text)
    put("year", year, "năm được nhắc nhiều nhất trong tài liệu")
    put("source_title", _source_title(blocks, doc.title, name, source_url), "tên của tài liệu")
    put("source_date", _source_date(text), "ngày ghi trong tài liệu")
    if source_url:
        put("source_url", source_url, "địa chỉ bạn đã nhập")
    body, arranged = _body(blocks, title_block)
    put("body", body, "các phần theo tiêu đề của tài liệu" if arranged else "toàn văn, đặt dưới “Bối cảnh”")
    found.missing = [k for k in ("title", "summary", "unit", "province", "fields", "year") if k not in found.proposed]
    return found


# ---- text helpers ---------------------------------------------------------------------------

LINE_WIDTH = 75  # a PDF's line this long that ends without a full stop goes on in the next line


def _reflow(blocks: list[Block]) -> list[Block]:
    """Return paragraphs whole again where a PDF gave them line by line (a line goes on in the next
    when that one starts in lower case, or, in a text cut into lines, when it is long and ends
    without punctuation: a long headline of an article stays a line of its own)."""
    long = [b for b in blocks if b.level == 0 and len(b.text) >= 40]
    wrapped = len(long) >= 4 and sum(not b.text.endswith(_STOPS) for b in long) >= 0.5 * len(long)
    out: list[Block] = []
    for block in blocks:
        prev = out[-1] if out else None
        goes_on = prev is not None and prev.level == 0 and block.level == 0 and not prev.text.endswith(_STOPS)
        cut = wrapped and prev is not None and len(prev.text) >= LINE_WIDTH and not _is_heading(block)
        if goes_on and (block.text[:1].islower() or cut):
            out[-1] = Block(f"{prev.text} {block.text}")
        else:
            out.append(block)
    return out


_STOPS = (".", "!", "?", "…", ":", ";", "”.", '".')


def fold(text: str) -> str:
    """Return text compared loosely: normalised, one space, no case, no surrounding punctuation."""
    return " ".join(normalize_text(text).split()).casefold().strip(" .,;:!?\"'“”‘’()-–")


_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)]?\s+(?=[\"“‘(]?[A-ZÀ-Ỹ0-9Đ])")


def sentences(text: str) -> list[str]:
    """Return a paragraph's sentences (split after . ! ? before a capital letter)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _sentence_case(text: str) -> str:
    """Return a heading written in capitals as a sentence (MÔ HÌNH TỦ THUỐC → Mô hình tủ thuốc)."""
    letters = [c for c in text if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) > 0.8 * len(letters):
        text = text.lower()
    return text[:1].upper() + text[1:]


# A dateline or byline that opens a news article: "(Baonghean.vn) - ", "NA - ", "date 2022-09 ".
_LEAD_IN = re.compile(r"^\s*(?:date\s+\S+\s*)?(?:\([^)]{2,40}\)\s*[-–—:]\s*|[A-ZĐ]{2,6}\s*[-–—]\s+)")

# ---- title ------------------------------------------------------------------------------------

_QUOTED = re.compile(r"[“\"«]([^“”\"«»\n]{3,120})[”\"»]")
_MODEL_WORDS = (
    "mô hình",
    "cách làm",
    "công trình",
    "phong trào",
    "chương trình",
    "sáng kiến",
    "câu lạc bộ",
    "diễn tập",
    "hội thi",
    "cuộc thi",
)
# A name's kind written before its quotes belongs to the name: tổ “Tàu thuyền đoàn kết”.
_KIND_BEFORE = re.compile(
    r"(?:^|\s)((?:tổ|đội|câu lạc bộ|clb|nhóm|điểm|nhà|quỹ|bếp|lớp)(?:\s+[A-Z][\w]*)?)\s*$", re.IGNORECASE
)
_TITLE_PREFIX = re.compile(
    r"^(?:báo cáo|tham luận|giới thiệu|kết quả|sơ kết|tổng kết)?\s*(?:thực hiện|triển khai|xây dựng|về)?\s*"
    r"(?:mô hình|cách làm hay|cách làm)\s*[:\-–]?\s*",
    re.IGNORECASE,
)
HEADLINE_CHARS = 150
# "Bộ đội Biên phòng Bình Thuận: …", "Nghệ An: …": the place or unit a headline opens with.
_HEADLINE_PREFIX = re.compile(r"^[^:]{2,60}:\s+(?=\S)")
_GENERIC_HEADINGS = ("báo cáo", "tham luận", "cộng hòa xã hội chủ nghĩa", "độc lập - tự do", "bộ quốc phòng")


def _title(blocks: list[Block], doc_title: str) -> tuple[str, str, int]:
    """Return (title, why, index of the block it is, or -1 if it stays in the body)."""
    head = blocks[:40]
    for i, block in enumerate(head):  # a name in quotes next to a word like "mô hình"
        for match in _QUOTED.finditer(block.text):
            # The words around it: "mô hình “X”", or "“X”, mô hình giúp…" / "“X” là mô hình…".
            before = block.text[max(0, match.start() - 60) : match.start()].lower()
            before += " " + block.text[match.end() : match.end() + 20].lower()
            name = match.group(1).strip(" .,;:")
            headline = i == 0 and match.start() < 80  # a name in quotes in the first line is its subject
            if (headline or any(w in before for w in _MODEL_WORDS)) and 1 < len(name.split()) <= TITLE_WORDS:
                kind = _KIND_BEFORE.search(block.text[: match.start()])
                if kind and kind.group(1).lower() not in name.lower():
                    name = f"{kind.group(1)} {name}"
                why = "tên trong ngoặc kép ở dòng đầu" if headline else "tên trong ngoặc kép, cạnh chữ “mô hình”"
                return _sentence_case(name), why, i
    for i, block in enumerate(head):  # the document's heading
        if block.level and _section_of(block.text) is None and not fold(block.text).startswith(_GENERIC_HEADINGS):
            name = _clean_title(block.text)
            if name:
                return name, "tiêu đề của tài liệu", i
    if doc_title and _clean_title(doc_title):
        return _clean_title(doc_title), "tiêu đề ghi trong thuộc tính của tệp", -1
    styled = any(b.level for b in blocks)
    for i, block in enumerate(head[:2] if not styled else ()):  # a text's headline: short, no full stop
        text = block.text
        if fold(text).startswith(_GENERIC_HEADINGS) or not _is_title_line(block) or len(text) > HEADLINE_CHARS:
            continue
        if _section_of(text, styled=False) is None and (name := _clean_title(_HEADLINE_PREFIX.sub("", text))):
            return name, "dòng tiêu đề của văn bản", i
        break
    speaks_of_model = any(w in " ".join(b.text for b in head).lower() for w in _MODEL_WORDS)
    for block in head if speaks_of_model else ():  # the subject of the first sentence
        if block.level == 0 and len(block.text) > 40:
            first = _LEAD_IN.sub("", sentences(block.text)[0])
            if ":" in first and "mô hình" in first.split(":", 1)[0].lower():  # "Các mô hình … kể đến: X"
                first = first.split(":", 1)[1].strip()
            name = _subject(first)
            if name:
                return name, "chủ ngữ của câu đầu tiên", -1
    return "", "", -1


def _is_title_line(block: Block) -> bool:
    """Return whether a block is a heading or a headline (short, without a full stop), not a paragraph."""
    return bool(block.level) or (len(block.text) <= 200 and not block.text.endswith((".", "!", "?", "…")))


def _clean_title(text: str) -> str:
    """Return a heading as an entry's title: no "Báo cáo mô hình" before it, no quotes, not too long."""
    text = _sentence_case(text.strip())
    name = _TITLE_PREFIX.sub("", text).strip(' .:"“”')  # "Giới thiệu mô hình" alone names nothing
    if len(name.split()) > TITLE_WORDS or len(name) > TITLE_CHARS:
        return ""
    return name[:1].upper() + name[1:]


_SUBJECT_END = re.compile(
    r"\s(?:của|do|được|là|đã|đang|giúp|góp phần|tại|ở|với|nhằm|từ|trên|có|vừa|sẽ|mang lại)\s|[,;:(]"
)


def _subject(sentence: str) -> str:
    """Return the words a sentence opens with, up to its first verb-like word (a rough subject)."""
    head = _SUBJECT_END.split(sentence, maxsplit=1)[0].strip(' ."“”')
    head = re.sub(r"^(?:mô hình|cách làm)\s+", "", head, flags=re.IGNORECASE).strip(' "“”')
    head = re.sub(r"^\d[\d.,]*\s+", "", head)  # a count before the name: "63 cụm dân cư…"
    words = head.split()
    if not 2 <= len(words) <= 10:
        return ""
    return head[:1].upper() + head[1:]


# ---- summary ----------------------------------------------------------------------------------


def _summary(blocks: list[Block], title_block: int) -> str:
    """Return the first sentences that describe the model, at most SUMMARY_MAX characters."""
    texts = [b.text for i, b in enumerate(blocks) if b.level == 0 and i != title_block and len(b.text) > 30]
    texts = [t for t in texts if "|" not in t]  # a table's row is no summary
    start = next((i for i, t in enumerate(texts) if "mô hình" in t.lower()), 0)
    out = ""
    for paragraph in texts[start : start + 3]:
        for sentence in sentences(_LEAD_IN.sub("", paragraph)):
            joined = f"{out} {sentence}".strip()
            if len(joined) > SUMMARY_MAX:
                return out or _shorten(sentence)
            out = joined
            if len(out) > SUMMARY_MAX // 2:
                return out
    return out


def _shorten(sentence: str) -> str:
    """Return a long sentence cut at a word, within SUMMARY_MAX characters."""
    return sentence[: SUMMARY_MAX - 1].rsplit(" ", 1)[0] + "…"


# ---- unit and province -------------------------------------------------------------------------

_NAME = r"(?:[A-ZÀ-ỸĐ0-9][\wÀ-ỹ'’-]*)(?:[ \t]+[A-ZÀ-ỸĐ0-9][\wÀ-ỹ'’-]*){0,4}"
_BDBP = r"(?:Bộ đội Biên phòng|BĐBP|Biên phòng)"
_COMMAND = re.compile(rf"\b(?:Bộ Chỉ huy|Bộ chỉ huy|BCH)\s+{_BDBP}\s+(?:(?:tỉnh|thành phố|TP\.?)\s+)?({_NAME})")
_PROVINCE_UNIT = re.compile(rf"\b{_BDBP}\s+(tỉnh|thành phố|TP\.?)\s+({_NAME})")
_STATION = re.compile(
    rf"\b(Đồn|Trạm|Hải đội|Đội|Tiểu đoàn|Hải đoàn)[ \t]+(?:{_BDBP}|Kiểm soát|Cơ động|Huấn luyện)?"
    rf"[ \t]*((?:Cửa khẩu[ \t]+)?(?:Quốc tế[ \t]+)?{_NAME})"
)
_CITIES = {"Hà Nội", "Hải Phòng", "Huế", "Đà Nẵng", "Hồ Chí Minh", "Cần Thơ"}


def _entities(text: str) -> list[tuple[str, str]]:
    """Return (kind, words) of the organisations and locations underthesea finds in text."""
    from underthesea import ner  # imported here: loading its model takes a second, once

    found: list[tuple[str, str]] = []
    for line in text.split("\n"):
        for sentence in sentences(line):
            kind, words = "", []
            for token in ner(sentence[:1000]):
                word, tag = token[0], token[-1]
                if tag.startswith("B-") or (tag.startswith("I-") and tag[2:] != kind):
                    if words:
                        found.append((kind, " ".join(words)))
                    kind, words = tag[2:], [word]
                elif tag.startswith("I-"):
                    words.append(word)
                else:
                    if words:
                        found.append((kind, " ".join(words)))
                    kind, words = "", []
            if words:
                found.append((kind, " ".join(words)))
    return found


def _place(name: str, regions: dict[str, str]) -> str | None:
    """Return the known province name (places.yml, any period) a name starts with, the longest, or None."""
    folded = fold(name)
    for key, known in _folded_places(tuple(regions)):
        if folded == key or folded.startswith(key + " "):
            return known
    return None


@lru_cache(maxsize=4)
def _folded_places(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Return (folded, name) of the province names, the longest first."""
    return tuple(sorted(((fold(n), n) for n in names), key=lambda pair: -len(pair[0])))


def _province_unit(province: str) -> str:
    """Return the name of a province's Border Guard command as the entries write it."""
    kind = "thành phố" if province in _CITIES else "tỉnh"
    return f"Bộ đội Biên phòng {kind} {province}"


def _candidates(text: str, entities: list[tuple[str, str]], regions: dict[str, str]) -> list[tuple[str, str]]:
    """Return (unit, province or "") for every unit the text names, in order of appearance."""
    found: list[tuple[int, str, str]] = []
    for match in _COMMAND.finditer(text):
        if place := _place(match.group(1), regions):
            found.append((match.start(), _province_unit(place), place))
    for match in _PROVINCE_UNIT.finditer(text):
        if place := _place(match.group(2), regions):
            found.append((match.start(), _province_unit(place), place))
    for match in _STATION.finditer(text):
        kind, name = match.group(1), match.group(2).strip()
        if name.split()[0].lower() in ("biên", "bộ", "tỉnh", "thành", "huyện", "xã") or not name:
            continue
        label = f"{kind} Biên phòng {name}" if kind in ("Đồn", "Trạm", "Hải đội") and "Biên phòng" not in name else (
            match.group(0).strip())  # fmt: skip
        found.append((match.start(), label, ""))
    for kind, words in entities:
        if kind in ("ORG", "LOC") and len(words.split()) >= 3 and re.match(rf"^(?:Đồn|{_BDBP}|Hải đội)\b", words):
            position = text.find(words)
            tail = re.sub(rf"^{_BDBP}\s+(?:tỉnh|thành phố|TP\.?)?\s*", "", words)
            place = _place(tail, regions) if tail != words else None
            unit = _province_unit(place) if place else words
            found.append((position if position >= 0 else len(text), unit, place or ""))
    found.sort(key=lambda item: item[0])
    return [(unit, place) for _pos, unit, place in found]


def _unit(text: str, entities: list[tuple[str, str]], knowledge: Knowledge) -> tuple[str, str, str]:
    """Return (unit, why, its province) for the unit the document speaks of most."""
    found = _candidates(text, entities, knowledge.regions)
    if not found:
        return "", "", ""
    counts = Counter(unit for unit, _p in found)
    first = {unit: i for i, (unit, _p) in reversed(list(enumerate(found)))}
    # A station (Đồn) is the unit a model belongs to when the report names one; else the province command.
    specific = [u for u in counts if not u.startswith("Bộ đội Biên phòng")]
    pool = specific or list(counts)
    unit = max(pool, key=lambda u: (counts[u], -first[u]))
    province = next((p for u, p in found if u == unit and p), "")
    known = {fold(u): (u, p) for u, p in knowledge.units}
    if fold(unit) in known:
        unit, known_province = known[fold(unit)]
        return unit, "đơn vị đã có trong kho, được nhắc trong tài liệu", province or known_province
    return unit, "đơn vị được nhắc nhiều nhất trong tài liệu", province


def _province(
    text: str, entities: list[tuple[str, str]], knowledge: Knowledge, unit: str, unit_province: str
) -> tuple[str, str]:
    """Return (province as named today, why): the unit's, else the one the text names most."""
    regions = knowledge.regions
    if unit_province:
        return _today(unit_province, regions), "tỉnh trong tên đơn vị"
    counts: Counter[str] = Counter()
    for kind, words in entities:
        if kind == "LOC":
            tail = re.sub(r"^(?:tỉnh|thành phố|TP\.?)\s+", "", words)
            if place := _place(tail, regions):
                counts[place] += 1
    for match in re.finditer(rf"\b(?:tỉnh|thành phố)\s+({_NAME})", text):
        if place := _place(match.group(1), regions):
            counts[place] += 1
    if counts:
        place = counts.most_common(1)[0][0]
        return _today(place, regions), "tỉnh được nhắc nhiều nhất trong tài liệu"
    return "", ""


def _today(place: str, regions: dict[str, str]) -> str:
    """Return a province's name today (a former name's province after the 2025 merger)."""
    return regions.get(place, place)


# ---- fields, year, source ----------------------------------------------------------------------


def _fields(text: str, knowledge: Knowledge) -> tuple[list[str], str]:
    """Return up to MAX_FIELDS fields, and why: those of the entries most like the text (among the
    allowed ones), weighed by how alike they are, and those whose own words the text uses."""
    allowed = {fold(f): f for f in knowledge.fields}
    weights: Counter[str] = Counter()
    alike = knowledge.similar(text)[:5] if knowledge.similar is not None else []
    top = max((score for _fields, score in alike), default=0.0)
    for fields, score in alike:
        if top <= 0 or score < SIMILAR_SHARE * top:
            continue  # an entry much less alike than the best says little
        for position, name in enumerate(fields):
            if fold(name) in allowed:  # the more alike an entry, and the earlier a field in its list, the more
                weights[allowed[fold(name)]] += (score / top) / (1 + 0.25 * position)
    from_entries = set(weights)
    folded = fold(text)
    for name in knowledge.fields:
        if any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", folded) for word in _field_words(name)):
            weights[name] += NAMED_FIELD  # the document says the field's own words
    if not weights:
        return [], ""
    best = weights.most_common(1)[0][1]
    chosen = [name for name, weight in weights.most_common(MAX_FIELDS) if weight >= 0.5 * best]
    if set(chosen) <= from_entries:
        return chosen, "lĩnh vực của các mô hình giống nhất trong kho"
    if not set(chosen) & from_entries:
        return chosen, "lĩnh vực có tên được nhắc trong tài liệu"
    return chosen, "lĩnh vực của các mô hình giống nhất trong kho và lĩnh vực được nhắc trong tài liệu"


SIMILAR_SHARE = 0.5  # an entry counts when it is at least half as alike as the most alike one
NAMED_FIELD = 0.8  # a field whose words the document uses weighs almost as much as the most alike entry's
_WEAK_PARTS = {"phòng", "chống", "quản lý", "xã hội", "bảo vệ"}


def _field_words(name: str) -> list[str]:
    """Return the telling parts of a field's name, folded: "Phòng, chống tội phạm" → ["tội phạm"]."""
    parts = [fold(p) for p in re.split(r"[,\-–]", name)]
    parts = [re.sub(r"^(?:phòng |chống |quản lý )+", "", p) for p in parts]
    return [p for p in parts if p and p not in _WEAK_PARTS and len(p.split()) >= 2]


_YEAR = re.compile(r"(?<![\d.-])((?:19[89]|20[0-4])\d)(?![\d-])")


def _year(text: str) -> int | None:
    """Return the year a document speaks of most (ties: the later one), or None; only years the form takes."""
    latest = dt.date.today().year + 1
    counts = Counter(int(y) for y in _YEAR.findall(text) if int(y) <= latest)
    if not counts:
        return None
    return max(counts, key=lambda y: (counts[y], y))


_DATE = re.compile(r"(?<!\d)(\d{1,2})[/.-](\d{1,2})[/.-]((?:19|20)\d\d)(?!\d)")
_ISO_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)-(\d\d)(?:-(\d\d))?(?![\d-])")


def _source_date(text: str) -> str:
    """Return the first date in the document's opening, as ISO (2022-09-20 or 2022-09), or ""."""
    head = text[:800]
    dated = [(m.start(), f"{m.group(3)}-{int(m.group(2)):02d}-{int(m.group(1)):02d}") for m in _DATE.finditer(head)
             if 1 <= int(m.group(1)) <= 31 and 1 <= int(m.group(2)) <= 12]  # fmt: skip
    dated += [(m.start(), "-".join(g for g in m.groups() if g)) for m in _ISO_DATE.finditer(head)
              if 1 <= int(m.group(2)) <= 12]  # fmt: skip
    for _position, iso in sorted(dated):  # only a date the form takes: 31/02/2024 is no proposal
        try:
            return parse_date(iso)
        except DateError:
            continue
    return ""


def _source_title(blocks: list[Block], doc_title: str, name: str, url: str) -> str:
    """Return the source's title: the document's heading or title property, a pasted article's headline."""
    for block in blocks[:3]:
        if block.level and not fold(block.text).startswith(_GENERIC_HEADINGS[2:]):
            return _sentence_case(block.text)[:300]
    if doc_title:
        return doc_title.strip()[:300]
    first = blocks[0].text if blocks else ""
    if first and len(first) <= 200 and not first.rstrip().endswith((".", ":", ";")):
        return first  # a headline: short, no full stop
    if url:
        return re.sub(r"^https?://(?:www\.)?([^/]+).*$", r"\1", url)[:300]
    return name.rsplit(".", 1)[0][:300] if name else ""


# ---- body -------------------------------------------------------------------------------------

# Words of a report's headings, folded, and the section they open (the first that matches wins).
_HEADING_WORDS = (
    ("bài học", 4), ("kinh nghiệm", 4), ("rút ra", 4),
    ("nhân rộng", 3), ("điều kiện", 3), ("khả năng áp dụng", 3), ("kiến nghị", 3), ("đề xuất", 3),
    ("kết quả", 2), ("hiệu quả", 2),
    ("cách làm", 1), ("cách thức", 1), ("triển khai", 1), ("thực hiện", 1), ("biện pháp", 1), ("giải pháp", 1),
    ("quy trình", 1), ("nội dung", 1), ("tổ chức", 1), ("các bước", 1),
    ("bối cảnh", 0), ("đặt vấn đề", 0), ("tình hình", 0), ("sự cần thiết", 0), ("thực trạng", 0), ("lý do", 0),
    ("giới thiệu", 0), ("mục đích", 0), ("đặc điểm", 0),
)  # fmt: skip
_NUMBERING = re.compile(r"^(?:[IVX]+|\d+|[a-zđ])(?:\.\d+)*[.)/]?\s+|^[-•*]\s+", re.IGNORECASE)


def _section_of(heading: str, styled: bool = True) -> int | None:
    """Return the index in SECTIONS of the section a report's heading opens, or None.

    A line not styled as a heading must be short and begin with the words ("Kết quả đạt được"),
    so that a title such as "Kết quả diễn tập … năm 2025" opens no section.
    """
    words = fold(_NUMBERING.sub("", heading))
    if len(words.split()) > (12 if styled else 6):
        return None
    return next((index for key, index in _HEADING_WORDS if (key in words if styled else words.startswith(key))), None)


def _is_heading(block: Block) -> bool:
    """Return whether a block reads as a heading: styled so, or a short line without a full stop."""
    if block.level:
        return True
    text = block.text.strip()
    return len(text) <= 80 and not text.endswith((".", ",", ";")) and _section_of(text, styled=False) is not None


def _markdown_line(text: str) -> str:
    """Return a paragraph as a Markdown line: list marks kept, nothing read as a heading or HTML."""
    text = re.sub(r"^[•●▪◦·]\s*", "- ", text)
    text = re.sub(r"^([#>])", r"\\\1", text)
    return text.replace("<", "&lt;")


def _body(blocks: list[Block], title_block: int) -> tuple[str, bool]:
    """Return (the body in the recommended sections, whether the document's headings placed any text)."""
    parts: list[list[str]] = [[] for _ in SECTIONS]
    current, arranged = 0, False
    for i, block in enumerate(blocks):
        if i == title_block:
            continue
        if _is_heading(block):
            section = _section_of(block.text, styled=bool(block.level))
            if section is not None:
                current, arranged = section, arranged or section > 0
                continue
            parts[current].append(f"**{block.text.strip(' *')}**")
            continue
        parts[current].append(_markdown_line(block.text))
    body = "".join(f"## {s.heading}\n\n" + "".join(p + "\n\n" for p in part) + ("\n" if not part else "")
                   for s, part in zip(SECTIONS, parts, strict=True))  # fmt: skip
    lines = body.split("\n")
    for line, _section in reversed(leftover_guidance(body)):  # never a guidance sentence of the form
        del lines[line - 1]
    body = "\n".join(lines).rstrip("\n") + "\n"
    if len(body) > BODY_MAX:  # a body the form would refuse: the opening, and where the rest is
        body = body[: BODY_MAX - len(CUT_NOTE) - 2].rsplit("\n\n", 1)[0] + "\n\n" + CUT_NOTE + "\n"
    return body, arranged


def gather(content_dir, db, index, regions: dict[str, str] | None = None, leave_out: str = "") -> Knowledge:
    """Return what the knowledge base knows for drafting: places, units, fields, similar entries.

    leave_out names an entry to ignore (the evaluation drafts shipped entries from their source).
    """
    from indexer import IndexMissing

    from .entries import InvalidEntry, load_fields
    from .store import known_units
    from .vocabulary import load_vocabulary

    try:
        fields = load_fields(content_dir / "fields.yml")
    except InvalidEntry:
        fields = ()
    units = known_units(db, leave_out)

    def similar(text: str) -> list[tuple[str, ...]]:
        try:
            hits = index.like_text(text, limit=6)
        except IndexMissing:
            return []
        return [(tuple(hit.fields), hit.score) for hit in hits if hit.slug != leave_out]

    if regions is None:
        regions = load_vocabulary(content_dir).regions
    return Knowledge(regions, units, fields, similar if index is not None else None)


DOCUMENT_KINDS = ("docx", "pdf", "txt")
PASTE_MAX = 200_000  # characters of a pasted article


def read_document(data: bytes, name: str, limits) -> tuple[Extracted, str]:
    """Return a document's text and its kind (docx, pdf, txt), told by its content; raise FileRefused."""
    from .extract import extract
    from .uploads import FileRefused, display_name, sniff

    accepted = "Chỉ nhận Word (DOCX), PDF hoặc văn bản thuần."
    try:
        ext = sniff(data, name, limits, allow_text=True)
    except FileRefused as exc:  # say what this page takes, not every kind an attachment may be
        raise FileRefused(str(exc).split(" Chỉ nhận ")[0] + " " + accepted) from exc
    if ext not in DOCUMENT_KINDS:
        shown = display_name(name)
        raise FileRefused(f"Tệp “{shown}” không phải tài liệu. {accepted}")
    found = extract(data, ext, name, limits)
    if not found.text.strip():
        raise FileRefused(
            f"Không tìm thấy chữ nào trong tệp “{display_name(name)}”: có thể đó là ảnh chụp hoặc bản quét. "
            "Hãy dùng tệp có chữ (Word, PDF xuất từ Word), hoặc dán nội dung vào ô dưới đây."
        )
    return found, ext
