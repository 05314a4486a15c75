"""Time windows: [from, to) in UTC, and their split into chunks the server accepts."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any, List, Mapping, Tuple, Union

from .frames import parse_instant

Instant = Union[str, datetime, date, Any]  # Any: pandas.Timestamp and friends (they are datetimes)
Window = Tuple[datetime, datetime]


def instant(value: Instant) -> datetime:
    """A point in time as an aware UTC datetime; naive values and dates are taken as UTC."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:  # a bare day: 2026-11-02
            text += "T00:00:00Z"
        try:
            parsed = parse_instant(text)
        except ValueError:
            raise ValueError(f"'{value}' is not an ISO 8601 time (2026-11-02T00:00:00Z)") from None
        return instant(parsed)
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    to_pydatetime = getattr(value, "to_pydatetime", None)
    if callable(to_pydatetime):
        return instant(to_pydatetime())
    raise TypeError(f"expected a time (ISO text, datetime, date or pandas Timestamp), got {type(value).__name__}")


def window(value: Any, end: Any = None) -> Window:
    """
    A window from (start, end), {"from": …, "to": …} or start and end given apart.
    The end is exclusive, as the API reads it.
    """
    if end is not None:
        start = value
    elif isinstance(value, Mapping):
        if "from" not in value or "to" not in value:
            raise ValueError("a window dict needs 'from' and 'to'")
        start, end = value["from"], value["to"]
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        start, end = value
    else:
        raise TypeError("a window is (start, end), {'from': start, 'to': end}, or start and end")
    lo, hi = instant(start), instant(end)
    if hi <= lo:
        raise ValueError(f"window ends ({iso(hi)}) before it starts ({iso(lo)})")
    return lo, hi


def iso(value: datetime) -> str:
    """The API's DateTime text: UTC with a Z."""
    text = value.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def as_variable(w: Window) -> dict:
    return {"from": iso(w[0]), "to": iso(w[1])}


def chunks(w: Window, max_days: float) -> List[Window]:
    """[from, to) cut into consecutive windows of at most `max_days`, oldest first, none overlapping."""
    if max_days <= 0:
        raise ValueError("max_window_days must be positive")
    step = timedelta(days=max_days)
    out: List[Window] = []
    lo, hi = w
    while lo < hi:
        out.append((lo, min(lo + step, hi)))
        lo += step
    return out
