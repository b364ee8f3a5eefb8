"""How the bureau's figures read on screen: not reported is said, never shown as 0; names and ids are plain text."""
from __future__ import annotations

import time

from rich.text import Text

from domain.identifiers import escaped

NOT_REPORTED = "未报 —"
COLUMNS = (  # key, label (both languages, short: the table must fit 120 columns)
    ("school_id", "学校 School"), ("name", "名称 Name"), ("stations", "报/应 Gates"),
    ("last_sync", "最后同步 Sync"),
    ("screened", "检 Seen"), ("confirmed_fevers", "发热 Fever"), ("no_mask_refusals", "无口罩 Mask"),
    ("unscreened", "未检 Unseen"), ("open_cases", "追踪 Cases"), ("clusters", "聚集 Clust."),
    ("zero_report", "零报告 Zero"), ("late", "迟报 Late"), ("trend", "7天 Trend"))
BARS = "▁▂▃▄▅▆▇█"


def plain(value) -> Text:
    """A name or id as it was written: never read as markup (a school named '[/] [' or '[b]x[/b]' shows as such),
    and what a terminal would obey (ESC, OSC, a bidi override a station's role wrote into a school's name) shown as
    its escape, as the CLI's table shows it (domain.identifiers.escaped)."""
    return Text(escaped(str(value)))


def cell(key: str, row) -> "str | Text":
    if key in ("school_id", "name"):
        return plain(getattr(row, key))
    if key == "stations":
        return f"{row.stations_reported}/{row.expected_stations}"
    if key == "trend":
        return ""
    value = getattr(row, key)
    if key == "zero_report" and value is None and getattr(row, "provisional", False):
        return "临时 prov."  # a gate has not reported yet: undecided, not "not reported"
    if value is None:
        return "从未 never" if key == "last_sync" else NOT_REPORTED
    if key == "last_sync":
        return time.strftime("%m-%d %H:%M", time.localtime(value))
    if key == "late":
        return "⚠ 迟报 LATE" if value else "—"
    if key == "zero_report":
        return "是 yes" if value else "否 no"
    return str(value)


def sparkline(days: list[dict]) -> str:
    """Seven days of screened counts as bars; a day without a report is a dot."""
    top = max((d["screened"] for d in days), default=0) or 1
    return "".join(BARS[min(7, round(d["screened"] / top * 7))] if d["reported"] or d["screened"] else "·"
                   for d in days)


def sort_key(key: str):
    """Sort by a column with not reported last, whatever the direction is."""
    def key_of(row):
        if key == "stations":
            return (0, row.stations_reported - row.expected_stations)
        value = getattr(row, key, None)
        return (1, 0) if value is None else (0, value)
    return key_of


def clock_time(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))


def read_failed(read_at: float | None, failed_at: float, why: str) -> str:
    """What a failed read leaves on screen: the figures shown are stale since ``read_at`` (None: nothing of this day
    or school was ever read, and an empty table would read as "nobody late"), when the read failed and why."""
    since = f"⚠ 数据已过时,自 {clock_time(read_at)} 起 stale since {clock_time(read_at)}" if read_at else \
        "⚠ 尚无数据 no data yet"
    return f"{since} · 刷新失败 refresh failed at {clock_time(failed_at)}: {why}"


def failure_cause(exc: BaseException) -> str:
    """The database's own words for a failed read, on one line."""
    cause = getattr(exc, "orig", None) or exc
    return " ".join(str(cause).split())[:160] or type(cause).__name__

