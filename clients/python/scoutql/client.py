"""The ScoutQL API from Python: GraphQL over HTTP, answers as pandas DataFrames."""
from __future__ import annotations

import ipaddress
import re
import warnings
from datetime import date, datetime
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import httpx
import pandas as pd

from .frames import at_path, edge_record, is_connection, parse_instant, records_frame, to_frame
from .windows import Window, as_variable, chunks, instant, iso, window as make_window

DEFAULT_URL = "http://127.0.0.1:4000/graphql"


class ScoutQLError(Exception):
    """The API refused or failed a request. `codes` are the GraphQL error codes (WINDOW_TOO_LARGE…)."""

    def __init__(self, message: str, codes: Sequence[str] = (), errors: Sequence[Mapping[str, Any]] = (), status: Optional[int] = None):
        super().__init__(message)
        self.codes: List[str] = list(codes)
        self.errors: List[Mapping[str, Any]] = list(errors)
        self.status = status


class TruncatedResultWarning(UserWarning):
    """A paged result stopped at `max_rows` while the server had more rows."""


# What a timeline row shows: the event's own columns only. Fields that resolve entities
# (session, actor, sourceIp) cost the server one more query per page; ask for them with `query`.
EVENT_FIELDS = """
  time class source account region activity service outcome errorCode errorMessage
  actorId actorType actorName sourceIpAddress userAgent resourceIds eventId
"""

# What a findings row shows (the finding's own fields; its entities and evidence cost more queries).
FINDING_FIELDS = """
  findingId product ruleId ruleKind title level severity productSeverity techniques tactics
  firstSeen lastSeen time createdAt account region identityId sessionId sourceIpAddress resourceIds evidenceCount
"""

# The API's AggregateDimension values and the AggregateGroup field each fills.
_DIMENSIONS = {
    "ACTION": "action",
    "SERVICE": "service",
    "ERROR_CODE": "errorCode",
    "OUTCOME": "outcome",
    "ACTOR": "actor",
    "SESSION": "session",
    "SOURCE_IP": "sourceIp",
    "REGION": "region",
    "ACCOUNT": "account",
    "USER_AGENT": "userAgent",
    "RESOURCE": "resource",
    "CLASS": "class",
    "SOURCE": "source",
}
_ORDERS = ("COUNT_DESC", "COUNT_ASC", "TIME")
_BUCKETS = ("MINUTE", "HOUR", "DAY")

# Entity kinds a timeline can start from: the root field, its argument and the events field under it.
_TIMELINE_ROOTS = {
    "identity": ("identity", "id", "events"),
    "session": ("session", "id", "events"),
    "ip": ("ip", "address", "events"),
    "resource": ("resource", "id", "events"),
}

_ACCESS_KEY = re.compile(r"^(AKIA|ASIA)[A-Z0-9]{12,}$")
_IDENTITY_ARN = re.compile(r"^arn:aws[\w-]*:(iam|sts)::\d{12}:(user|role|assumed-role|root|federated-user)\b")


class Client:
    """
    A connection to a ScoutQL server.

    `url` is the GraphQL endpoint (…/graphql). `api_key` is sent as `X-API-Key`, `token` as
    `Authorization: Bearer`. Windows longer than `max_window_days` (the server's
    `--max-window-days`, 31 by default) are split into chunks; `page_size` is the `first` each page
    asks for (at most the server's `--max-page-size`, 500 by default).
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        api_key: Optional[str] = None,
        token: Optional[str] = None,
        *,
        max_window_days: float = 31,
        page_size: int = 500,
        timeout: float = 120.0,
        transport: Optional[httpx.BaseTransport] = None,
    ):
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.url = url
        self.max_window_days = max_window_days
        self.page_size = page_size
        headers = {"content-type": "application/json", "accept": "application/json"}
        if api_key:
            headers["x-api-key"] = api_key
        if token:
            headers["authorization"] = f"Bearer {token}"
        self._http = httpx.Client(headers=headers, timeout=timeout, transport=transport)
        #: `extensions` of the last answer (the server's stats: engine, queries, millis, bytes scanned).
        self.last_extensions: Dict[str, Any] = {}

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.url!r})"

    # --- GraphQL ---------------------------------------------------------------------------

    def query(self, doc: str, variables: Optional[Mapping[str, Any]] = None, path: Optional[str] = None) -> Any:
        """
        Runs one GraphQL operation and returns its `data` (a dict); with `path` (dotted, e.g.
        `identity.events`), the part there as a DataFrame. Any GraphQL error raises ScoutQLError.
        Datetimes (and pandas Timestamps) in `variables` are sent as UTC ISO text.
        """
        body = {"query": doc, "variables": _jsonable(dict(variables or {}))}
        try:
            response = self._http.post(self.url, json=body)
        except httpx.HTTPError as e:
            raise ScoutQLError(f"cannot reach the ScoutQL API at {self.url}: {e}") from e
        try:
            answer = response.json()
        except ValueError:
            snippet = response.text[:200]
            raise ScoutQLError(
                f"the server at {self.url} answered HTTP {response.status_code} without JSON: {snippet!r}",
                status=response.status_code,
            ) from None
        errors = answer.get("errors") if isinstance(answer, Mapping) else None
        if errors:
            codes = [str((e.get("extensions") or {}).get("code", "UNKNOWN")) for e in errors]
            messages = "; ".join(f"{e.get('message', '?')} [{c}]" for e, c in zip(errors, codes))
            raise ScoutQLError(f"GraphQL error: {messages}", codes=codes, errors=errors, status=response.status_code)
        if response.status_code != 200 or not isinstance(answer, Mapping) or "data" not in answer:
            raise ScoutQLError(f"the server at {self.url} answered HTTP {response.status_code}", status=response.status_code)
        self.last_extensions = dict(answer.get("extensions") or {})
        data = answer["data"]
        return to_frame(data, path) if path else data

    def paginate(
        self,
        doc: str,
        path: str,
        max_rows: Optional[int] = None,
        variables: Optional[Mapping[str, Any]] = None,
        page_size: Optional[int] = None,
    ) -> pd.DataFrame:
        """
        Every row of the connection at `path` (dotted, e.g. `events` or `identity.events`),
        following `pageInfo.endCursor` while `hasNextPage`. The document must declare `$first: Int`
        and `$after: String` and pass them to that connection, and select `pageInfo { hasNextPage
        endCursor }`. With `max_rows`, stops there and warns (TruncatedResultWarning) if more rows
        were left on the server.
        """
        rows, more, total = self._collect(doc, path, variables, max_rows, page_size)
        if more:
            _warn_truncated(path, max_rows, total)
        return records_frame(rows)

    def _collect(
        self,
        doc: str,
        path: str,
        variables: Optional[Mapping[str, Any]],
        max_rows: Optional[int],
        page_size: Optional[int],
    ) -> Tuple[List[Mapping[str, Any]], bool, Optional[int]]:
        """The rows of the connection at `path`, page after page; whether rows were left behind; totalCount if asked for."""
        for name in ("first", "after"):
            if not re.search(rf"\${name}\s*:", doc):
                raise ValueError(f"paginate: the document must declare ${name} and pass it to the connection at '{path}'")
        if max_rows is not None and max_rows < 0:
            raise ValueError("max_rows must be 0 or more")
        size = page_size or self.page_size
        rows: List[Mapping[str, Any]] = []
        after: Optional[str] = None
        while True:
            want = size if max_rows is None else min(size, max_rows - len(rows))
            # max_rows=0 still asks for one page of nothing, to know whether rows were left behind.
            data = self.query(doc, {**dict(variables or {}), "first": max(want, 0), "after": after})
            connection = at_path(data, path)
            if connection is None:
                return rows, False, None
            if not is_connection(connection) or not isinstance(connection.get("pageInfo"), Mapping):
                raise ValueError(f"paginate: '{path}' is not a connection with edges and pageInfo {{ hasNextPage endCursor }}")
            page = connection["pageInfo"]
            rows.extend(edge_record(e) for e in connection["edges"])
            total = connection.get("totalCount")
            if not page.get("hasNextPage"):
                return rows, False, total
            if max_rows is not None and len(rows) >= max_rows:
                return rows, True, total
            cursor = page.get("endCursor")
            if not cursor or cursor == after:
                raise ScoutQLError(f"{path}: the server said there are more pages but gave no new endCursor")
            after = cursor

    # --- Hunting helpers -------------------------------------------------------------------

    def context(self, indicator: Union[str, Sequence[str]], window: Any, related: int = 10) -> pd.DataFrame:
        """
        What the lake knows of each indicator (IP, access key, ARN, user name, bucket, domain) in
        the window: one row per indicator (and per chunk of a long window), with its kind, whether it
        was found, first / last seen, event count, the entity it names, and the related identities,
        IPs, resources and sessions (up to `related` each, as lists; `….totalCount` counts them all),
        and the verdict: `verdict.score` 0–3, `verdict.label`, `verdict.reasons` (texts), `findingCount`,
        `kindsFound` and `workbenchUrl` (docs/soar.md explains the scoring).
        """
        indicators = [indicator] if isinstance(indicator, str) else list(indicator)
        doc = """query($indicator: String!, $window: TimeWindow!, $related: Int) {
          contextFor(indicator: $indicator, window: $window) {
            indicator kind found firstSeen lastSeen eventCount
            kindsFound findingCount workbenchUrl verdict { score label reasons { text } }
            identity { identityId kind } session { sessionId kind } ip { address isPrivate } resource { resourceId kind }
            identities(first: $related) { totalCount edges { node { identityId } } }
            ips(first: $related) { totalCount edges { node { address } } }
            resources(first: $related) { totalCount edges { node { resourceId } } }
            sessions(first: $related) { totalCount edges { node { sessionId } } }
          }
        }"""
        lists = {"identities": "identityId", "ips": "address", "resources": "resourceId", "sessions": "sessionId"}
        entities = {
            "identity": ("identityId", "kind"),
            "session": ("sessionId", "kind"),
            "ip": ("address", "isPrivate"),
            "resource": ("resourceId", "kind"),
        }
        rows = []
        for part in self._chunks(window):
            for value in indicators:
                found = self.query(doc, {"indicator": value, "window": as_variable(part), "related": related})["contextFor"]
                row = {k: v for k, v in found.items() if k not in lists and k not in entities and k != "verdict"}
                row["verdict.score"] = found["verdict"]["score"]
                row["verdict.label"] = found["verdict"]["label"]
                row["verdict.reasons"] = [r["text"] for r in found["verdict"]["reasons"]]
                for name, keys in entities.items():
                    # The same columns whether or not the indicator named this kind of entity.
                    for key in keys:
                        row[f"{name}.{key}"] = (found[name] or {}).get(key)
                for name, key in lists.items():
                    row[f"{name}.totalCount"] = found[name]["totalCount"]
                    row[name] = [e["node"][key] for e in found[name]["edges"]]
                row["window.from"], row["window.to"] = as_variable(part)["from"], as_variable(part)["to"]
                rows.append(row)
        return records_frame(rows)

    def timeline(
        self,
        entity: str,
        start: Any,
        end: Any = None,
        kind: Optional[str] = None,
        max_rows: Optional[int] = None,
        classes: Optional[Sequence[str]] = None,
        raw: bool = False,
    ) -> pd.DataFrame:
        """
        The events of one entity, oldest first: an identity (ARN, `azuread:…`, user name), a session
        (access key id), an IP address or a resource (ARN, bucket). `kind` (identity, session, ip,
        resource) is guessed when not given: IPs and access keys by their form, identity ARNs by
        theirs, anything else by asking the server (user names, role session names, buckets).
        `start, end` (or a window as `start`) longer than `max_window_days` are read chunk by chunk.
        """
        w = make_window(start, end)
        kind = kind or self._entity_kind(entity, w)
        if kind not in _TIMELINE_ROOTS:
            raise ValueError(f"kind must be one of {', '.join(_TIMELINE_ROOTS)}, not {kind!r}")
        root, argument, field = _TIMELINE_ROOTS[kind]
        doc = f"""query($entity: String!, $window: TimeWindow!, $filter: EventFilter, $first: Int, $after: String) {{
          {root}({argument}: $entity, window: $window) {{
            {field}(filter: $filter, window: $window, first: $first, after: $after) {{
              pageInfo {{ hasNextPage endCursor }}
              edges {{ node {{ {EVENT_FIELDS} {"raw" if raw else ""} }} }}
            }}
          }}
        }}"""
        variables = {"entity": entity, "filter": {"classes": list(classes)} if classes else None}
        return self._chunked_events(doc, f"{root}.{field}", w, variables, max_rows)

    def events(self, start: Any, end: Any = None, max_rows: Optional[int] = None, raw: bool = False, **filter: Any) -> pd.DataFrame:
        """
        Events of every class in the window, oldest first, narrowed by the API's EventFilter fields
        (identity, session, ip, resource, action, outcome, errorCode, source, account, classes).
        """
        doc = f"""query($window: TimeWindow!, $filter: EventFilter, $first: Int, $after: String) {{
          events(filter: $filter, window: $window, first: $first, after: $after) {{
            pageInfo {{ hasNextPage endCursor }}
            edges {{ node {{ {EVENT_FIELDS} {"raw" if raw else ""} }} }}
          }}
        }}"""
        return self._chunked_events(doc, "events", make_window(start, end), {"filter": filter or None}, max_rows)

    def findings(
        self,
        start: Any,
        end: Any = None,
        level: Optional[str] = None,
        technique: Optional[str] = None,
        rule: Optional[str] = None,
        product: Optional[str] = None,
        max_rows: Optional[int] = None,
    ) -> pd.DataFrame:
        """
        Findings (ScoutQL rules, GuardDuty, Security Hub) whose latest version in the window was
        observed in it, newest first. `level` keeps that level and higher (low, medium, high,
        critical); `technique` an ATT&CK technique and its sub-techniques (T1078); `rule` a rule id;
        `product` scoutql, guardduty or securityhub. A long window is read chunk by chunk, and a
        finding seen in several chunks is kept once, in its latest version.
        """
        doc = f"""query($window: TimeWindow!, $level: FindingLevel, $technique: String, $rule: String,
                       $product: FindingProduct, $first: Int, $after: String) {{
          findings(window: $window, level: $level, technique: $technique, rule: $rule, product: $product, first: $first, after: $after) {{
            totalCount pageInfo {{ hasNextPage endCursor }}
            edges {{ node {{ {FINDING_FIELDS} }} }}
          }}
        }}"""
        variables = {
            "level": level.upper() if level else None,
            "technique": technique,
            "rule": rule,
            "product": product.upper() if product else None,
        }
        rows: List[Mapping[str, Any]] = []
        # Newest chunk first, so max_rows keeps the newest findings.
        for part in reversed(chunks(make_window(start, end), self.max_window_days)):
            left = None if max_rows is None else max_rows - len(rows)
            page, more, total = self._collect(doc, "findings", {**variables, "window": as_variable(part)}, left, None)
            rows.extend(page)
            if more:
                _warn_truncated("findings", max_rows, total)
                break
        frame = records_frame(rows)
        if frame.empty:
            return frame
        frame = frame.sort_values(["time", "findingId"], ascending=False, kind="stable")
        return frame.drop_duplicates(["product", "findingId"], keep="first").reset_index(drop=True)

    def aggregate(
        self,
        start: Any,
        end: Any = None,
        group_by: Sequence[str] = (),
        bucket: Optional[str] = None,
        distinct: Sequence[str] = (),
        order: str = "count_desc",
        top: int = 20,
        **filter: Any,
    ) -> pd.DataFrame:
        """
        Counts of the events in the window (narrowed by EventFilter fields, as `events`), computed by
        the server: one row per group of `group_by` dimensions (action, service, error_code, outcome,
        actor, session, source_ip, region, account, user_agent, resource, class, source) and, with
        `bucket` (minute, hour, day), per time bucket; columns: the dimensions, `bucket`, `count`,
        `firstSeen`, `lastSeen`, and `distinct.<dimension>` for each of `distinct`. `order` is
        count_desc (busiest first), count_asc (rarest first) or time; `top` groups are kept.
        `frame.attrs` holds `totalEvents` and `totalGroups`. A window longer than `max_window_days`
        is asked chunk by chunk and the groups' counts summed (then `distinct` cannot be combined and
        is refused); if a chunk had more groups than `top`, the sum may miss some and a
        TruncatedResultWarning says so.
        """
        dims = [_dimension(d) for d in group_by]
        distinct_dims = [_dimension(d) for d in distinct]
        order_value = order.upper()
        if order_value not in _ORDERS:
            raise ValueError(f"order must be one of {', '.join(o.lower() for o in _ORDERS)}, not {order!r}")
        bucket_value = bucket.upper() if bucket else None
        if bucket_value is not None and bucket_value not in _BUCKETS:
            raise ValueError(f"bucket must be one of {', '.join(b.lower() for b in _BUCKETS)}, not {bucket!r}")
        parts = chunks(make_window(start, end), self.max_window_days)
        if distinct_dims and len(parts) > 1:
            raise ValueError("distinct counts cannot be added up over chunks: ask for a window the server allows in one query")
        fields = " ".join(_DIMENSIONS[d] for d in dims)
        doc = f"""query($window: TimeWindow!, $filter: EventFilter, $groupBy: [AggregateDimension!]!, $bucket: TimeBucket,
                       $distinct: [AggregateDimension!], $order: AggregateOrder, $top: Int) {{
          events(filter: $filter, window: $window, first: 0) {{
            aggregate(groupBy: $groupBy, bucket: $bucket, distinct: $distinct, orderBy: $order, top: $top) {{
              totalEvents totalGroups
              groups {{ {"bucket" if bucket_value else ""} {fields} count firstSeen lastSeen distinct {{ dimension count }} }}
            }}
          }}
        }}"""
        keys = (["bucket"] if bucket_value else []) + [_DIMENSIONS[d] for d in dims]
        combined: Dict[Tuple[Any, ...], Dict[str, Any]] = {}
        total_events = 0
        total_groups = 0
        cut = False
        for part in parts:
            variables = {
                "window": as_variable(part),
                "filter": filter or None,
                "groupBy": dims,
                "bucket": bucket_value,
                "distinct": distinct_dims,
                "order": order_value,
                "top": top,
            }
            found = self.query(doc, variables)["events"]["aggregate"]
            total_events += found["totalEvents"]
            total_groups = max(total_groups, found["totalGroups"])
            cut = cut or found["totalGroups"] > len(found["groups"])
            for group in found["groups"]:
                key = tuple(group.get(k) for k in keys)
                row = combined.get(key)
                if row is None:
                    row = combined[key] = {k: group.get(k) for k in keys}
                    row.update(count=0, firstSeen=group["firstSeen"], lastSeen=group["lastSeen"])
                    for d in group["distinct"]:
                        row[f"distinct.{d['dimension']}"] = d["count"]
                row["count"] += group["count"]
                row["firstSeen"] = min(row["firstSeen"], group["firstSeen"], key=parse_instant)
                row["lastSeen"] = max(row["lastSeen"], group["lastSeen"], key=parse_instant)
        if cut and len(parts) > 1:
            warnings.warn(
                f"aggregate: a chunk of the window had more than top={top} groups; the summed counts may miss groups (raise top)",
                TruncatedResultWarning,
                stacklevel=2,
            )
        rows = list(combined.values())
        if order_value == "TIME":
            rows.sort(key=lambda r: tuple("" if r.get(k) is None else str(r.get(k)) for k in keys))
        else:
            rows.sort(key=lambda r: r["count"], reverse=order_value == "COUNT_DESC")
        frame = records_frame(rows[:top], columns=keys + ["count", "firstSeen", "lastSeen"])
        frame.attrs["totalEvents"] = total_events
        frame.attrs["totalGroups"] = total_groups if len(parts) == 1 else len(combined)
        return frame

    # --- internals -------------------------------------------------------------------------

    def _chunks(self, value: Any) -> List[Window]:
        return chunks(make_window(value), self.max_window_days)

    def _chunked_events(self, doc: str, path: str, w: Window, variables: Mapping[str, Any], max_rows: Optional[int]) -> pd.DataFrame:
        rows: List[Mapping[str, Any]] = []
        for part in chunks(w, self.max_window_days):
            left = None if max_rows is None else max_rows - len(rows)
            page, more, _ = self._collect(doc, path, {**variables, "window": as_variable(part)}, left, None)
            rows.extend(page)
            if more:
                _warn_truncated(path, max_rows, None)
                break
        frame = records_frame(rows)
        if not frame.empty:
            frame = frame.sort_values(["time", "eventId", "class"], kind="stable", ignore_index=True)
        return frame

    def _entity_kind(self, entity: str, w: Window) -> str:
        try:
            ipaddress.ip_address(entity)
            return "ip"
        except ValueError:
            pass
        if _ACCESS_KEY.match(entity):
            return "session"
        if _IDENTITY_ARN.match(entity) or entity.startswith(("azuread:", "gcp:", "service:", "saml:")):
            return "identity"
        # Anything else: ask the server, which also knows user names, role session names and buckets.
        doc = """query($e: String!, $w: TimeWindow!) {
          identity(id: $e, window: $w) { identityId } session(id: $e, window: $w) { sessionId } resource(id: $e, window: $w) { resourceId }
        }"""
        for part in reversed(chunks(w, self.max_window_days)):
            found = self.query(doc, {"e": entity, "w": as_variable(part)})
            for kind in ("identity", "session", "resource"):
                if found.get(kind):
                    return kind
        raise ScoutQLError(
            f"'{entity}' names nothing the lake knows in this window; pass kind='identity'|'session'|'ip'|'resource' to look anyway"
        )


def _dimension(name: str) -> str:
    value = name.upper()
    if value not in _DIMENSIONS:
        raise ValueError(f"unknown dimension {name!r}: one of {', '.join(d.lower() for d in _DIMENSIONS)}")
    return value


def _warn_truncated(path: str, max_rows: Optional[int], total: Optional[int]) -> None:
    of = f" of {total}" if isinstance(total, int) else ""
    warnings.warn(
        f"{path}: stopped at max_rows={max_rows}{of} rows; the server has more (raise max_rows to get them)",
        TruncatedResultWarning,
        stacklevel=3,
    )


def _jsonable(value: Any) -> Any:
    """Variables as JSON: datetimes, dates and pandas Timestamps become the API's DateTime text."""
    if isinstance(value, (datetime, date)):
        return iso(instant(value))
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
