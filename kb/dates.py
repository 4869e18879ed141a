"""Dates and times the Vietnamese way: shown in Vietnam's time as dd/mm/yyyy, typed in many forms, kept as ISO.

Files, the database and the API keep ISO 8601 (times in UTC); only what people read and type
changes: times are shown in Asia/Ho_Chi_Minh, dates as 15/06/2024, and a typed date may be
15/06/2024, 06/2024, 2024 or ISO.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["VIETNAM", "DateError", "parse_date", "show_date", "show_time", "start_of"]

try:  # the system's zone data, else the tzdata package from the lock
    VIETNAM: dt.tzinfo = ZoneInfo("Asia/Ho_Chi_Minh")
except ZoneInfoNotFoundError:  # pragma: no cover - tzdata is installed
    VIETNAM = dt.timezone(dt.timedelta(hours=7), "+07")  # Vietnam keeps no summer time

FIRST_YEAR = 1945
HINT = "Hãy nhập ngày/tháng/năm, tháng/năm hoặc năm: 15/06/2024, 06/2024, 2024."
_DAY_FIRST = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_MONTH_FIRST = re.compile(r"(\d{1,2})[/.\-](\d{4})")
_ISO = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


class DateError(ValueError):
    """A typed date that is not a date, with a message in Vietnamese."""


def _timestamp(value: str) -> dt.datetime | None:
    """Return an ISO timestamp (with a time) as an aware datetime in UTC if no zone is given; else None."""
    if len(value) <= 10 or ("T" not in value and " " not in value):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def show_time(value: str | None, part: str = "datetime") -> str:
    """Return an ISO time or date for people: '15/06/2024 09:56' in Vietnam's time, '15/06/2024', '06/2024', '2024'.

    part='date' keeps only the (Vietnamese) day of a timestamp. Text that is no date comes back as it was.
    """
    if not value:
        return ""
    value = str(value).strip()
    moment = _timestamp(value)
    if moment is not None:
        local = moment.astimezone(VIETNAM)
        return local.strftime("%d/%m/%Y" if part == "date" else "%d/%m/%Y %H:%M")
    return show_date(value)


def show_date(value: str | None) -> str:
    """Return an ISO date (2024-06-15, 2024-06 or 2024) as 15/06/2024, 06/2024 or 2024; other text unchanged."""
    if not value:
        return ""
    match = _ISO.fullmatch(str(value).strip())
    if not match:
        return str(value)
    year, month, day = match.groups()
    if day:
        return f"{int(day):02d}/{int(month):02d}/{year}"
    return f"{int(month):02d}/{year}" if month else year


def parse_date(text: str, latest_year: int | None = None) -> str:
    """Read a typed date (15/06/2024, 06/2024, 2024, 2024-06-15, 2024-06) and return it as ISO; raise DateError."""
    text = (text or "").strip()
    latest_year = latest_year or dt.date.today().year + 1
    if match := _DAY_FIRST.fullmatch(text):
        day, month, year = (int(g) for g in match.groups())
    elif match := _MONTH_FIRST.fullmatch(text):
        day, (month, year) = None, (int(g) for g in match.groups())
    elif match := _ISO.fullmatch(text):
        year, month, day = (int(g) if g else None for g in match.groups())
    else:
        raise DateError(f"“{text}” không phải một ngày. {HINT}")
    if not FIRST_YEAR <= year <= latest_year:
        raise DateError(f"Năm {year} không hợp lệ: năm phải từ {FIRST_YEAR} đến {latest_year}.")
    if month is not None and not 1 <= month <= 12:
        raise DateError(f"Tháng {month} không có thật: tháng chỉ từ 1 đến 12.")
    if day is None:
        return f"{year}-{month:02d}" if month else str(year)
    try:
        dt.date(year, month, day)
    except ValueError:
        last = _last_day(year, month)
        raise DateError(
            f"Ngày {day:02d}/{month:02d}/{year} không có thật: tháng {month} năm {year} chỉ có {last} ngày."
        ) from None
    return f"{year}-{month:02d}-{day:02d}"


def _last_day(year: int, month: int) -> int:
    """Return the number of days in a month."""
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return (following - dt.timedelta(days=1)).day


def start_of(value: str | None) -> str | None:
    """Return an ISO date or timestamp as a UTC timestamp (a date starts at midnight in Vietnam), else None."""
    if not value:
        return None
    value = str(value).strip()
    moment = _timestamp(value)
    if moment is None:
        match = _ISO.fullmatch(value)
        if not match:
            return None
        year, month, day = (int(g) if g else 1 for g in match.groups())
        try:
            moment = dt.datetime(year, month, day, tzinfo=VIETNAM)
        except ValueError:
            return None
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat()
