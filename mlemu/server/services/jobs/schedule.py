"""Quartz cron schedules, as Databricks job schedules write them
(``"0 0 9 * * ?"``: seconds minutes hours day-of-month month day-of-week [year]).

Supported: ``*``, ``?``, lists, ranges, steps (``0/15``, ``*/5``, ``1-5/2``), month and day
names, ``L`` (last day of the month, or ``5L``: last Thursday), ``#`` (``6#3``: third Friday).
Not emulated: ``W`` and ``LW`` (nearest weekday), refused when the job is saved. Day of week 1
is Sunday, as in Quartz. Fire times are computed in the schedule's ``timezone_id``.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mlemu.server.core.errors import invalid

_MONTHS = {m: i for i, m in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}
_DAYS = {d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)}
_TOKEN = re.compile(r"^[0-9A-Z*?/,#L\-]+$")


@dataclass(frozen=True)
class Cron:
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None       # None: '?'
    last_day: bool                     # 'L' in day-of-month
    months: frozenset[int]
    weekdays: frozenset[int] | None    # Quartz numbering (1 = Sunday); None: '?'
    nth_weekday: tuple[int, int] | None   # (weekday, n) for 'd#n'
    last_weekday: int | None           # 'dL'
    years: frozenset[int] | None

    def matches_day(self, day: dt.date) -> bool:
        if day.month not in self.months or (self.years is not None and day.year not in self.years):
            return False
        last = calendar.monthrange(day.year, day.month)[1]
        if self.days is not None or self.last_day:
            return (self.last_day and day.day == last) or (self.days is not None and day.day in self.days)
        quartz_dow = (day.isoweekday() % 7) + 1  # Sunday -> 1
        if self.nth_weekday is not None:
            weekday, n = self.nth_weekday
            return quartz_dow == weekday and (day.day - 1) // 7 + 1 == n
        if self.last_weekday is not None:
            return quartz_dow == self.last_weekday and day.day + 7 > last
        return self.weekdays is not None and quartz_dow in self.weekdays


def _bad(expr: str, why: str) -> Exception:
    return invalid(f"Invalid quartz_cron_expression '{expr}': {why}.")


def _field(expr: str, text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, _, step_text = part.partition("/")
            if not step_text.isdigit() or int(step_text) < 1:
                raise _bad(expr, f"bad increment in '{text}'")
            step = int(step_text)
            if part in ("*", ""):
                part = f"{low}-{high}"
            elif "-" not in part:
                part = f"{part}-{high}"
        if part == "*":
            start, end = low, high
        elif "-" in part:
            a, _, b = part.partition("-")
            start, end = _value(expr, a, names), _value(expr, b, names)
        else:
            start = end = _value(expr, part, names)
        if not (low <= start <= high and low <= end <= high) or start > end:
            raise _bad(expr, f"'{text}' is out of range {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(expr: str, text: str, names: dict[str, int] | None) -> int:
    if text.isdigit():
        return int(text)
    if names and text in names:
        return names[text]
    raise _bad(expr, f"unknown value '{text}'")


def parse(expr: str) -> Cron:
    """A Quartz expression parsed; INVALID_PARAMETER_VALUE naming what is wrong otherwise."""
    if not isinstance(expr, str):
        raise _bad(str(expr), "expected a string")
    fields = expr.upper().split()
    if len(fields) not in (6, 7) or not all(_TOKEN.match(f) for f in fields):
        raise _bad(expr, "expected 6 or 7 fields: seconds minutes hours day-of-month month day-of-week [year]")
    sec, minute, hour, dom, month, dow = fields[:6]
    if "W" in dom:
        raise _bad(expr, "mlemu does not emulate the 'W' (nearest weekday) character")
    if (dom == "?") == (dow == "?"):
        raise _bad(expr, "Support for specifying both a day-of-week AND a day-of-month parameter is not "
                         "implemented; use '?' in exactly one of them")
    days: frozenset[int] | None = None
    last_day = False
    if dom != "?":
        if dom == "L":
            last_day = True
        else:
            days = _field(expr, dom, 1, 31)
    weekdays: frozenset[int] | None = None
    nth = None
    last_weekday = None
    if dow != "?":
        if "#" in dow:
            d, _, n = dow.partition("#")
            if not n.isdigit() or not 1 <= int(n) <= 5:
                raise _bad(expr, f"bad '#' in '{dow}'")
            nth = (_value(expr, d, _DAYS), int(n))
        elif dow.endswith("L") and len(dow) > 1:
            last_weekday = _value(expr, dow[:-1], _DAYS)
        else:
            weekdays = _field(expr, dow.replace("L", "7"), 1, 7, _DAYS)
    years = _field(expr, fields[6], 1970, 2199) if len(fields) == 7 and fields[6] != "*" else None
    return Cron(_field(expr, sec, 0, 59), _field(expr, minute, 0, 59), _field(expr, hour, 0, 23),
                days, last_day, _field(expr, month, 1, 12, _MONTHS), weekdays, nth, last_weekday, years)


def zone(timezone_id: str) -> ZoneInfo:
    """The schedule's time zone (a Java/IANA id such as ``UTC`` or ``Europe/Berlin``)."""
    try:
        return ZoneInfo(timezone_id)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid(f"Invalid timezone_id '{timezone_id}'.") from None


def fire_times(expr: str, timezone_id: str, after_ms: int, until_ms: int, limit: int) -> list[int]:
    """Epoch milliseconds at which the schedule fires in ``(after_ms, until_ms]``, at most ``limit``."""
    cron, tz = parse(expr), zone(timezone_id)
    out: list[int] = []
    for when in _times(cron, tz, after_ms, until_ms):
        out.append(when)
        if len(out) >= limit:
            break
    return out


def _times(cron: Cron, tz: ZoneInfo, after_ms: int, until_ms: int) -> Iterator[int]:
    start = dt.datetime.fromtimestamp(after_ms / 1000, tz).date()
    end = dt.datetime.fromtimestamp(until_ms / 1000, tz).date()
    day = start
    while day <= end:
        if cron.matches_day(day):
            for h in sorted(cron.hours):
                for m in sorted(cron.minutes):
                    for s in sorted(cron.seconds):
                        local = dt.datetime(day.year, day.month, day.day, h, m, s, tzinfo=tz)
                        when = int(local.timestamp() * 1000)
                        if after_ms < when <= until_ms:
                            yield when
        day += dt.timedelta(days=1)
