"""GraphQL answers as pandas DataFrames: dotted column names, UTC timestamps."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Optional

import pandas as pd

# The API's DateTime scalar: ISO 8601 in UTC (2026-11-02T02:12:45.000Z). Offsets are accepted too.
_ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$")


def parse_instant(text: str) -> datetime:
    """One ISO 8601 time as a timezone-aware UTC datetime."""
    value = text[:-1] + "+00:00" if text.endswith("Z") else text
    # fromisoformat takes at most microseconds: cut longer fractions.
    value = re.sub(r"(\.\d{6})\d+", r"\1", value)
    parsed = datetime.fromisoformat(value)
    # A time without a zone is taken as UTC, the API's zone.
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def _is_instant_column(values: pd.Series) -> bool:
    present = values.dropna()
    if present.empty:
        return False
    return all(isinstance(v, str) and _ISO_INSTANT.match(v) for v in present)


def with_utc_times(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns whose every value is an ISO 8601 instant become `datetime64[ns, UTC]`."""
    for column in frame.columns:
        if frame[column].dtype == object and _is_instant_column(frame[column]):
            frame[column] = pd.to_datetime(
                [parse_instant(v) if isinstance(v, str) else None for v in frame[column]], utc=True
            )
    return frame


def records_frame(records: Iterable[Mapping[str, Any]], columns: Optional[list] = None) -> pd.DataFrame:
    """Rows of nested dicts as one frame: nested fields become dotted columns (`actor.identityId`)."""
    rows = list(records)
    if not rows:
        return pd.DataFrame(columns=columns or [])
    frame = pd.DataFrame([_flat(row) for row in rows])
    # An object that is null in some rows and present in others: keep its dotted columns only.
    parents = [c for c in frame.columns if frame[c].isna().all() and any(o.startswith(f"{c}.") for o in frame.columns)]
    return with_utc_times(frame.drop(columns=parents))


def _flat(row: Mapping[str, Any], prefix: str = "") -> dict:
    """Nested objects as dotted keys (`actor.identityId`); lists stay lists."""
    out: dict = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(_flat(value, f"{name}."))
        else:
            out[name] = value
    return out


def edge_record(edge: Mapping[str, Any]) -> Mapping[str, Any]:
    """One connection edge as a row: the node's fields, with the link's own (relation, counts) beside them."""
    fields = {k: v for k, v in edge.items() if k != "cursor"}
    if set(fields) == {"node"} and isinstance(fields["node"], Mapping):
        return fields["node"]
    return fields


def is_connection(value: Any) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("edges"), list)


def to_frame(data: Any, path: Optional[str] = None) -> pd.DataFrame:
    """
    A GraphQL `data` answer (or the part of it at the dotted `path`) as a DataFrame:
    a connection gives one row per edge, a list one row per item, an object one row.
    With no path, single-field objects are walked down (`{ip {identities {…}}}` gives the identities).
    """
    value = at_path(data, path) if path else data
    # No path: walk down through objects with a single field (`ip` → `identities`) to what holds rows.
    while not path and isinstance(value, Mapping) and len(value) == 1 and not is_connection(value):
        value = next(iter(value.values()))
    if value is None:
        return pd.DataFrame()
    if is_connection(value):
        return records_frame(edge_record(e) for e in value["edges"])
    if isinstance(value, list):
        if value and not isinstance(value[0], Mapping):
            return with_utc_times(pd.DataFrame({"value": value}))
        return records_frame(value)
    if isinstance(value, Mapping):
        return records_frame([value])
    return with_utc_times(pd.DataFrame({"value": [value]}))


def at_path(data: Any, path: str) -> Any:
    """The value at a dotted path (`identity.events`); None when an entity on the way is null."""
    value = data
    for i, part in enumerate(path.split(".")):
        if value is None:
            return None
        if not isinstance(value, Mapping) or part not in value:
            walked = ".".join(path.split(".")[:i]) or "data"
            raise KeyError(f"path '{path}': '{walked}' has no field '{part}' (select it in the document)")
        value = value[part]
    return value
