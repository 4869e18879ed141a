"""The replication ledger as files: content/replications/<slug>.yml, one per model.

The ledger travels with the content (over git, between sites), so that adoption counts and
evidence levels agree everywhere; the database keeps a copy derived from these files. Each
record carries a random id, so records added on two sites never collide, and a file edited on
two sites merges record by record (merge below), not line by line.

A file is a YAML list, newest records last:

    - id: 3f9a2c1e7b4d
      unit: Đồn Biên phòng A
      province: Lạng Sơn
      start_date: '2024-03-15'
      status: đang triển khai
      created_by: Nguyễn Văn A
      created_at: '2026-12-03T08:00:00+00:00'
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from pathlib import Path

import yaml

from .dates import DateError, parse_date
from .entries import InvalidEntry, Problem, load_yaml
from .slugs import SLUG_RE

__all__ = [
    "FIELDS",
    "LEDGER_DIR",
    "check_ledger",
    "dump_ledger",
    "ledger_files",
    "ledger_rel",
    "merge_ledgers",
    "new_key",
    "read_ledger",
]

LEDGER_DIR = "replications"
STATUSES = ("dự kiến", "đang triển khai", "đã hoàn thành", "tạm dừng")
FIELDS = ("id", "unit", "province", "start_date", "status", "adapted", "result", "contact",
          "created_by", "created_at", "updated_by", "updated_at")  # fmt: skip
KEY_RE = re.compile(r"^[0-9a-f]{8,32}$")
MAX_BYTES = 2 * 1024 * 1024  # thousands of records; anything bigger is a mistake (or an attack)
_HEADER = "# Sổ nhân rộng của mô hình {slug}: mỗi mục là một đơn vị đã áp dụng (ghi từ trang của mô hình).\n"


def new_key() -> str:
    """Return a new record id: random, so that two sites never make the same one."""
    return secrets.token_hex(6)


def ledger_rel(slug: str) -> str:
    """Return a model's ledger file, relative to the content folder."""
    return f"{LEDGER_DIR}/{slug}.yml"


def ledger_files(content_dir: Path) -> dict[str, Path]:
    """Return the ledger files of the content folder by relative path (links leading out left out)."""
    folder = content_dir / LEDGER_DIR
    if not folder.is_dir():
        return {}
    root = content_dir.resolve()
    found = {}
    for path in sorted(folder.glob("*.yml")):
        if path.name.startswith(".") or not path.is_file() or not path.resolve().is_relative_to(root):
            continue
        found[f"{LEDGER_DIR}/{path.name}"] = path
    return found


def _text(value: object) -> str | None:
    """Return a value as text (YAML reads unquoted dates as dates), or None if it is not text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return None


def read_ledger(raw: bytes, rel: str) -> list[dict]:
    """Return a ledger file's records (every field as text); raise InvalidEntry with every problem.

    The checks are `kb check`'s, and those a file from another site must pass before its records
    replace the ones this site serves.
    """
    records, problems = check_ledger(raw, rel)
    if any(not p.warning for p in problems):
        raise InvalidEntry(problems)
    return records


def check_ledger(raw: bytes, rel: str) -> tuple[list[dict], list[Problem]]:
    """Return a ledger file's records and its problems (errors and warnings)."""
    slug = Path(rel).stem
    if not SLUG_RE.match(slug):
        return [], [Problem(rel, 1, "tên tệp phải là slug của mô hình (chữ thường không dấu, số, gạch nối)")]
    if len(raw) > MAX_BYTES:
        return [], [Problem(rel, 1, f"tệp lớn quá {MAX_BYTES // (1024 * 1024)} MB")]
    try:
        text = raw.decode("utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = load_yaml(text)
    except UnicodeDecodeError:
        return [], [Problem(rel, 1, "tệp không phải UTF-8; hãy lưu lại với bảng mã UTF-8")]
    except yaml.YAMLError as exc:
        line = exc.problem_mark.line + 1 if getattr(exc, "problem_mark", None) else 1
        return [], [Problem(rel, line, f"YAML không hợp lệ: {exc}")]
    if data is None:
        return [], []
    if not isinstance(data, list):
        return [], [Problem(rel, 1, "phải là một danh sách YAML các đơn vị đã áp dụng (mỗi mục bắt đầu '- id:')")]
    problems: list[Problem] = []
    records: list[dict] = []
    seen: set[str] = set()
    for i, item in enumerate(data):
        line = node.value[i].start_mark.line + 1
        if not isinstance(item, dict):
            problems.append(Problem(rel, line, "mỗi mục phải là một bản ghi (các dòng 'khóa: giá trị')"))
            continue
        record, bad = {}, []
        for name in FIELDS:
            value = _text(item.get(name))
            if value is None:
                bad.append(name)
            record[name] = (value or "").strip()
        problems += [Problem(rel, line, f"'{name}' phải là chữ (đặt trong dấu nháy)") for name in bad]
        unknown = sorted(str(k) for k in item if k not in FIELDS)
        if unknown:
            problems.append(Problem(rel, line, f"khóa không dùng: {', '.join(unknown)}", warning=True))
        if not KEY_RE.match(record["id"]):
            problems.append(Problem(rel, line, "'id' phải là 8–32 chữ số hệ 16 (0-9, a-f)"))
        elif record["id"] in seen:
            problems.append(Problem(rel, line, f"'id' {record['id']} trùng với một bản ghi ở trên"))
        seen.add(record["id"])
        if not record["unit"]:
            problems.append(Problem(rel, line, "thiếu 'unit' (tên đơn vị áp dụng)"))
        if record["status"] not in STATUSES:
            problems.append(Problem(rel, line, "'status' phải là một trong: " + ", ".join(STATUSES)))
        if record["start_date"]:
            try:
                if parse_date(record["start_date"], latest_year=dt.date.today().year + 5) != record["start_date"]:
                    problems.append(Problem(rel, line, "'start_date' phải viết dạng 2024-03-15, 2024-03 hoặc 2024"))
            except DateError as exc:
                problems.append(Problem(rel, line, f"'start_date': {exc}"))
        records.append(record)
    return records, problems


class _Dumper(yaml.SafeDumper):
    """Write several lines of text as a block, as a person would."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _str)


def dump_ledger(slug: str, records: list[dict]) -> bytes:
    """Return a ledger file's bytes: fields in a fixed order, empty ones left out."""
    items = [{name: record[name] for name in FIELDS if record.get(name)} for record in records]
    body = yaml.dump(items, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000) if items else "[]\n"
    return (_HEADER.format(slug=slug) + body).encode("utf-8")


def merge_ledgers(rel: str, base: bytes | None, ours: bytes | None, theirs: bytes | None) -> tuple[bytes, list[str]]:
    """Merge two sites' versions of a ledger file record by record; return the file and the ids both changed.

    A record added on either side is kept; one changed or removed on one side only takes that
    change; one changed on one side and removed on the other stays, changed. Changed differently
    on both: the remote's (theirs) is kept, like an entry's, and this site's stays in git's
    history. Raise InvalidEntry if a side cannot be read (git's own resolution applies then).
    """
    sides = [{r["id"]: r for r in read_ledger(raw, rel)} if raw is not None else {} for raw in (base, ours, theirs)]
    b, o, t = sides
    order = list(t) + [key for key in o if key not in t]
    merged, clashed = [], []
    for key in order:
        mine, remote, old = o.get(key), t.get(key), b.get(key)
        if mine == remote:
            chosen = mine
        elif mine == old:
            chosen = remote  # changed (or removed) there only
        elif remote == old:
            chosen = mine  # changed (or removed) here only
        else:
            chosen = remote or mine  # both changed it: the remote's; removed on one side: the other's change
            if remote and mine:
                clashed.append(key)
        if chosen:
            merged.append(chosen)
    return dump_ledger(Path(rel).stem, merged), clashed
