"""
The Python client against a real `scoutql serve` over a sample lake.

Run by test/clients/python-client.test.ts, which builds the lake and starts two servers:
SCOUTQL_TEST_URL (default limits) and SCOUTQL_TEST_NARROW_URL (`--max-window-days 1`), and
points SCOUTQL_TEST_LOGS at the sample's folder (stories.json, sample.json). By hand:
start them yourself and set the three variables, then `python3 -m unittest discover clients/python/tests`.
"""
import json
import os
import threading
import unittest
import warnings
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer

import pandas as pd

from scoutql import Client, ScoutQLError, TruncatedResultWarning, chunks, to_frame, window

URL = os.environ.get("SCOUTQL_TEST_URL")
NARROW_URL = os.environ.get("SCOUTQL_TEST_NARROW_URL")
LOGS = os.environ.get("SCOUTQL_TEST_LOGS")

EVENTS_DOC = """query($window: TimeWindow!, $filter: EventFilter, $first: Int, $after: String) {
  events(filter: $filter, window: $window, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { class eventId time activity actor { identityId } } }
  }
}"""


def setUpModule():
    missing = [n for n, v in [("SCOUTQL_TEST_URL", URL), ("SCOUTQL_TEST_NARROW_URL", NARROW_URL), ("SCOUTQL_TEST_LOGS", LOGS)] if not v]
    if missing:
        raise RuntimeError(f"set {', '.join(missing)} (npx jest test/clients starts the servers and sets them)")
    global STORY, WINDOW, client, narrow
    with open(os.path.join(LOGS, "stories.json")) as f:
        STORY = next(s for s in json.load(f) if s["id"] == "console-brute-force")
    with open(os.path.join(LOGS, "sample.json")) as f:
        sample = json.load(f)
    start = datetime.fromisoformat(sample["start"]).replace(tzinfo=timezone.utc)
    WINDOW = (start, start + timedelta(days=sample["days"]))
    client = Client(URL)
    narrow = Client(NARROW_URL, max_window_days=1)


def tearDownModule():
    client.close()
    narrow.close()


class QueryTest(unittest.TestCase):
    def test_query_returns_data_and_the_servers_stats(self):
        self.assertEqual(client.query("{ __typename }"), {"__typename": "Query"})
        self.assertEqual(client.last_extensions["stats"]["engine"], "duckdb")

    def test_graphql_errors_raise_with_their_codes(self):
        with self.assertRaises(ScoutQLError) as caught:
            client.query('{ events(window: {from: "2026-01-01T00:00:00Z", to: "2026-06-01T00:00:00Z"}) { totalCount } }')
        self.assertEqual(caught.exception.codes, ["WINDOW_TOO_LARGE"])
        self.assertIn("WINDOW_TOO_LARGE", str(caught.exception))
        self.assertIn("31 days", str(caught.exception))
        with self.assertRaises(ScoutQLError) as caught:
            client.query("{ noSuchField }")
        self.assertEqual(caught.exception.codes, ["GRAPHQL_VALIDATION_FAILED"])
        with self.assertRaises(ScoutQLError) as caught:
            client.query(EVENTS_DOC, {"window": _window(WINDOW), "first": 501})
        self.assertEqual(caught.exception.codes, ["PAGE_TOO_LARGE"])

    def test_an_unreachable_server_is_a_clear_error(self):
        with HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as idle:
            port = idle.server_address[1]
        with Client(f"http://127.0.0.1:{port}/graphql", timeout=5) as gone:
            with self.assertRaises(ScoutQLError) as caught:
                gone.query("{ __typename }")
        self.assertIn(f"cannot reach the ScoutQL API at http://127.0.0.1:{port}/graphql", str(caught.exception))

    def test_path_gives_a_frame_with_dotted_columns_and_utc_times(self):
        frame = client.query(
            """query($ip: String!, $w: TimeWindow!) { ip(address: $ip, window: $w) {
                 identities { edges { relation eventCount node { identityId firstSeen } } } } }""",
            {"ip": STORY["expect"]["attackerIp"], "w": _window(WINDOW)},
            path="ip.identities",
        )
        self.assertEqual(frame["node.identityId"].tolist(), [STORY["expect"]["targetUser"]])
        self.assertEqual(frame["eventCount"].tolist(), [STORY["expect"]["failedLogins"]])
        self.assertEqual(str(frame["node.firstSeen"].dtype), "datetime64[ns, UTC]")
        self.assertEqual(frame["node.firstSeen"][0], pd.Timestamp(STORY["start"]))


class HeadersTest(unittest.TestCase):
    """What the client puts on the wire, seen by a real HTTP server on loopback."""

    def setUp(self):
        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                seen.append((dict((k.lower(), v) for k, v in self.headers.items()), body))
                status, text = (502, "<html>bad gateway</html>") if "broken" in body["query"] else (200, '{"data": {"ok": true}}')
                self.send_response(status)
                self.send_header("content-type", "application/json" if status == 200 else "text/html")
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/graphql"

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()

    def test_api_key_and_bearer_token_are_sent_with_the_variables(self):
        with Client(self.url, api_key="k-123") as keyed, Client(self.url, token="t-456") as bearer, Client(self.url) as anonymous:
            keyed.query("query($a: Int) { ok }", {"a": 1})
            bearer.query("{ ok }")
            anonymous.query("{ ok }")
        (h1, b1), (h2, _), (h3, _) = self.seen
        self.assertEqual(h1["x-api-key"], "k-123")
        self.assertNotIn("authorization", h1)
        self.assertEqual(b1, {"query": "query($a: Int) { ok }", "variables": {"a": 1}})
        self.assertEqual(h2["authorization"], "Bearer t-456")
        self.assertNotIn("x-api-key", h2)
        self.assertFalse({"authorization", "x-api-key"} & set(h3))

    def test_a_non_json_answer_is_an_error_with_its_status(self):
        with Client(self.url) as c:
            with self.assertRaises(ScoutQLError) as caught:
                c.query("{ broken }")
        self.assertEqual(caught.exception.status, 502)
        self.assertIn("HTTP 502 without JSON", str(caught.exception))


class ContextTest(unittest.TestCase):
    def test_context_of_the_attackers_ip_names_the_target_user(self):
        e = STORY["expect"]
        frame = client.context([e["attackerIp"], e["targetUser"], "no-such-thing.invalid"], WINDOW)
        self.assertEqual(frame["indicator"].tolist(), [e["attackerIp"], e["targetUser"], "no-such-thing.invalid"])
        # A dotted name is tried as a user name first (dana.whitfield is one); found nowhere, it keeps that first kind.
        self.assertEqual(frame["kind"].tolist(), ["IP_ADDRESS", "ARN", "USER_NAME"])
        self.assertEqual(frame["found"].tolist(), [True, True, False])
        attacker = frame.iloc[0]
        self.assertEqual(attacker["eventCount"], e["failedLogins"])
        self.assertEqual(attacker["identities"], [e["targetUser"]])
        self.assertEqual(attacker["identities.totalCount"], 1)
        self.assertEqual(attacker["ip.address"], e["attackerIp"])
        self.assertEqual(attacker["firstSeen"], pd.Timestamp(STORY["start"]))
        self.assertEqual(str(frame["firstSeen"].dtype), "datetime64[ns, UTC]")
        # The same columns for every row, whatever each indicator named.
        self.assertEqual(frame["identity.identityId"].tolist(), [None, e["targetUser"], None])
        self.assertEqual(frame["ip.address"].tolist(), [e["attackerIp"], None, None])

    def test_a_long_window_is_asked_a_day_at_a_time_when_the_server_allows_one_day(self):
        e = STORY["expect"]
        with self.assertRaises(ScoutQLError) as caught:
            narrow.query("query($w: TimeWindow!) { contextFor(indicator: \"x\", window: $w) { found } }", {"w": _window(WINDOW)})
        self.assertEqual(caught.exception.codes, ["WINDOW_TOO_LARGE"])
        frame = narrow.context(e["attackerIp"], WINDOW)
        days = (WINDOW[1] - WINDOW[0]).days
        self.assertEqual(len(frame), days)
        self.assertEqual(frame["window.from"].iloc[0], pd.Timestamp(WINDOW[0]))
        self.assertEqual(frame["window.to"].iloc[-1], pd.Timestamp(WINDOW[1]))
        self.assertTrue((frame["window.from"].iloc[1:].values == frame["window.to"].iloc[:-1].values).all())
        self.assertEqual(frame["eventCount"].sum(), e["failedLogins"])


class VerdictTest(unittest.TestCase):
    def test_context_carries_the_verdict_the_findings_naming_the_address_give(self):
        e = STORY["expect"]
        frame = client.context([e["attackerIp"], "no-such-thing.invalid"], WINDOW)
        attacker, nothing = frame.iloc[0], frame.iloc[1]
        # The same findings through findings(): those whose source address is the attacker's.
        named = client.findings(*WINDOW)
        named = named[named["sourceIpAddress"] == e["attackerIp"]]
        self.assertGreater(len(named), 0)
        levels = set(named["level"])
        expected = 3 if levels & {"HIGH", "CRITICAL"} else 2 if "MEDIUM" in levels else 1
        self.assertEqual(attacker["verdict.score"], expected)
        self.assertEqual(attacker["verdict.label"], {1: "NO_FINDINGS", 2: "SUSPICIOUS", 3: "MALICIOUS"}[expected])
        self.assertEqual(attacker["findingCount"], len(named))
        self.assertTrue(any("seen as IPAddress" in text for text in attacker["verdict.reasons"]))
        self.assertEqual(attacker["kindsFound"], ["IP_ADDRESS"])
        self.assertTrue(attacker["workbenchUrl"].startswith(f"/ui/#/context/{e['attackerIp']}?from="))
        self.assertEqual((nothing["verdict.score"], nothing["verdict.label"]), (0, "UNKNOWN"))
        self.assertEqual(nothing["findingCount"], 0)


class FindingsTest(unittest.TestCase):
    COUNT = "query($w: TimeWindow!, $level: FindingLevel) { findings(window: $w, level: $level, first: 0) { totalCount } }"

    def test_findings_of_the_window_newest_first_and_by_level(self):
        total = client.query(self.COUNT, {"w": _window(WINDOW)})["findings"]["totalCount"]
        self.assertGreater(total, 0)
        frame = client.findings(*WINDOW)
        self.assertEqual(len(frame), total)
        self.assertFalse(frame.duplicated(["product", "findingId"]).any())
        self.assertTrue(frame["time"].is_monotonic_decreasing)
        self.assertEqual(str(frame["time"].dtype), "datetime64[ns, UTC]")
        self.assertIn("techniques", frame.columns)
        high = client.findings(*WINDOW, level="high")
        high_total = client.query(self.COUNT, {"w": _window(WINDOW), "level": "HIGH"})["findings"]["totalCount"]
        self.assertEqual(len(high), high_total)
        self.assertTrue(set(high["level"]) <= {"HIGH", "CRITICAL"})
        self.assertEqual(set(high["findingId"]), set(frame[frame["level"].isin(["HIGH", "CRITICAL"])]["findingId"]))

    def test_chunked_findings_equal_the_one_window_answer(self):
        whole = client.findings(*WINDOW)
        by_day = narrow.findings(*WINDOW)
        self.assertEqual(sorted(zip(by_day["product"], by_day["findingId"])), sorted(zip(whole["product"], whole["findingId"])))

    def test_max_rows_keeps_the_newest_and_warns(self):
        whole = client.findings(*WINDOW)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cut = client.findings(*WINDOW, max_rows=2)
        self.assertEqual(cut["findingId"].tolist(), whole["findingId"].tolist()[:2])
        self.assertEqual([w.category for w in caught], [TruncatedResultWarning])


class AggregateTest(unittest.TestCase):
    def test_counts_by_action_and_outcome_equal_counting_the_events(self):
        e = STORY["expect"]
        frame = client.aggregate(*WINDOW, group_by=["action", "outcome"], top=100, ip=e["attackerIp"])
        events = client.events(*WINDOW, ip=e["attackerIp"])
        counted = events.groupby(["activity", "outcome"]).size().to_dict()
        self.assertEqual(dict(zip(zip(frame["action"], frame["outcome"]), frame["count"])), counted)
        self.assertEqual(counted[("ConsoleLogin", "failure")], e["failedLogins"])
        self.assertEqual(frame.attrs["totalEvents"], len(events))
        self.assertEqual(list(frame.columns), ["action", "outcome", "count", "firstSeen", "lastSeen"])
        self.assertEqual(str(frame["firstSeen"].dtype), "datetime64[ns, UTC]")

    def test_a_daily_histogram_read_a_day_at_a_time_equals_the_one_window_answer(self):
        whole = client.aggregate(*WINDOW, bucket="day", order="time", top=100, classes=["API_ACTIVITY"])
        by_day = narrow.aggregate(*WINDOW, bucket="day", order="time", top=100, classes=["API_ACTIVITY"])
        self.assertEqual(len(whole), (WINDOW[1] - WINDOW[0]).days)
        self.assertEqual(list(zip(by_day["bucket"], by_day["count"])), list(zip(whole["bucket"], whole["count"])))
        self.assertEqual(whole["count"].sum(), whole.attrs["totalEvents"])
        self.assertEqual(by_day.attrs["totalEvents"], whole.attrs["totalEvents"])

    def test_distinct_counts_and_clear_errors(self):
        frame = client.aggregate(*WINDOW, group_by=["source_ip"], distinct=["actor"], top=5, classes=["AUTHENTICATION"])
        self.assertIn("distinct.ACTOR", frame.columns)
        self.assertLessEqual(len(frame), 5)
        with self.assertRaisesRegex(ValueError, "unknown dimension 'planet'"):
            client.aggregate(*WINDOW, group_by=["planet"])
        with self.assertRaisesRegex(ValueError, "cannot be added up over chunks"):
            narrow.aggregate(*WINDOW, group_by=["source_ip"], distinct=["actor"])


class TimelineTest(unittest.TestCase):
    def test_the_console_sessions_timeline_is_the_storys_discovery_calls_in_order(self):
        e = STORY["expect"]
        frame = client.timeline(e["consoleSessionKey"], *WINDOW)
        self.assertEqual(frame["activity"].tolist(), e["followUpEventNames"])
        self.assertEqual(set(frame["sourceIpAddress"]), {e["successIp"]})
        self.assertEqual(str(frame["time"].dtype), "datetime64[ns, UTC]")
        self.assertTrue(frame["time"].is_monotonic_increasing)

    def test_a_user_name_is_recognized_by_the_server_and_shows_the_failed_logins(self):
        e = STORY["expect"]
        user_name = e["targetUser"].rsplit("/", 1)[1]
        frame = client.timeline(user_name, *WINDOW, classes=["AUTHENTICATION"])
        failed = frame[(frame["activity"] == "ConsoleLogin") & (frame["outcome"] == "failure")]
        self.assertEqual(len(failed), e["failedLogins"])
        self.assertEqual(set(failed["sourceIpAddress"]), {e["attackerIp"]})
        self.assertIn(e["successEventId"], frame["eventId"].tolist())

    def test_chunked_timeline_equals_the_one_window_answer(self):
        e = STORY["expect"]
        whole = client.timeline(e["targetUser"], *WINDOW)
        by_day = narrow.timeline(e["targetUser"], *WINDOW)
        self.assertGreater(len(whole), e["failedLogins"])
        self.assertEqual(list(zip(by_day["class"], by_day["eventId"])), list(zip(whole["class"], whole["eventId"])))

    def test_max_rows_across_chunks_warns_when_later_days_have_rows(self):
        first_day = narrow.events(WINDOW[0], WINDOW[0] + timedelta(days=1), classes=["API_ACTIVITY"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cut = narrow.events(*WINDOW, classes=["API_ACTIVITY"], max_rows=len(first_day))
        self.assertEqual(cut["eventId"].tolist(), first_day["eventId"].tolist())
        self.assertEqual([w.category for w in caught], [TruncatedResultWarning])
        self.assertIn(f"max_rows={len(first_day)}", str(caught[0].message))

    def test_unknown_entities_and_kinds_are_clear_errors(self):
        with self.assertRaisesRegex(ScoutQLError, "names nothing the lake knows"):
            client.timeline("no-such-thing.invalid", *WINDOW)
        with self.assertRaisesRegex(ValueError, "kind must be one of"):
            client.timeline("x", *WINDOW, kind="planet")
        with self.assertRaisesRegex(ValueError, "ends .* before it starts"):
            client.timeline("x", WINDOW[1], WINDOW[0])


class PaginateTest(unittest.TestCase):
    """A result of over 3,000 rows, paged 500 at a time."""

    @classmethod
    def setUpClass(cls):
        cls.variables = {"window": _window(WINDOW), "filter": {"classes": ["API_ACTIVITY"]}}
        cls.total = client.query(EVENTS_DOC, {**cls.variables, "first": 0})["events"]["totalCount"]

    def test_every_row_arrives_once_in_order(self):
        self.assertGreaterEqual(self.total, 3000)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame = client.paginate(EVENTS_DOC, "events", variables=self.variables)
        self.assertEqual(caught, [])
        self.assertEqual(len(frame), self.total)
        self.assertFalse(frame.duplicated(["class", "eventId"]).any())
        self.assertTrue(frame["time"].is_monotonic_increasing)
        self.assertEqual(set(frame["class"]), {"API_ACTIVITY"})
        self.assertIn("actor.identityId", frame.columns)
        self.assertEqual(str(frame["time"].dtype), "datetime64[ns, UTC]")
        # The same rows as the `events` helper gives.
        helper = client.events(*WINDOW, classes=["API_ACTIVITY"])
        self.assertEqual(sorted(helper["eventId"]), sorted(frame["eventId"]))

    def test_max_rows_cuts_the_result_and_warns(self):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame = client.paginate(EVENTS_DOC, "events", max_rows=1234, variables=self.variables, page_size=500)
        self.assertEqual(len(frame), 1234)
        self.assertEqual([w.category for w in caught], [TruncatedResultWarning])
        self.assertIn(f"max_rows=1234 of {self.total} rows", str(caught[0].message))
        first_page = client.query(EVENTS_DOC, {**self.variables, "first": 500})
        self.assertEqual(frame["eventId"].tolist()[:500], [e["node"]["eventId"] for e in first_page["events"]["edges"]])

    def test_max_rows_of_exactly_the_total_does_not_warn(self):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame = client.paginate(EVENTS_DOC, "events", max_rows=self.total, variables=self.variables)
        self.assertEqual(len(frame), self.total)
        self.assertEqual(caught, [])

    def test_a_document_without_first_and_after_is_refused(self):
        with self.assertRaisesRegex(ValueError, r"must declare \$first"):
            client.paginate("{ events(window: {from: \"2026-11-02T00:00:00Z\", to: \"2026-11-03T00:00:00Z\"}) { totalCount } }", "events")


class MagicTest(unittest.TestCase):
    def test_cell_magic_takes_variables_from_the_notebook_and_returns_a_frame(self):
        from IPython.core.interactiveshell import InteractiveShell

        shell = InteractiveShell.instance()
        shell.run_line_magic("load_ext", "scoutql")
        shell.run_line_magic("scoutql_connect", URL)
        shell.user_ns.update(ip=STORY["expect"]["attackerIp"], window=WINDOW)
        frame = shell.run_cell_magic(
            "scoutql",
            "--out who",
            "query($ip: String!, $window: TimeWindow!) { ip(address: $ip, window: $window) { identities { edges { eventCount node { identityId } } } } }",
        )
        self.assertIs(shell.user_ns["who"], frame)
        self.assertEqual(frame["node.identityId"].tolist(), [STORY["expect"]["targetUser"]])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            paged = shell.run_cell_magic("scoutql", "--paginate events --max-rows 600", EVENTS_DOC)
        self.assertEqual(len(paged), 600)
        self.assertEqual([w.category for w in caught], [TruncatedResultWarning])
        self.assertEqual(to_frame({"a": {"b": [{"t": "2026-11-02T00:00:00Z"}]}})["t"][0], pd.Timestamp("2026-11-02T00:00:00Z"))
        shell.run_line_magic("scoutql_connect", "http://127.0.0.1:9/graphql")  # closes the previous client
        with self.assertRaisesRegex(ScoutQLError, "cannot reach"):
            shell.run_cell_magic("scoutql", "", "{ __typename }")
        with self.assertRaisesRegex(ValueError, "unknown or incomplete option"):
            shell.run_cell_magic("scoutql", "--bogus 1", "{ __typename }")


class WindowTest(unittest.TestCase):
    def test_windows_split_into_consecutive_chunks_in_utc(self):
        parts = chunks(window("2026-11-02T00:00:00+02:00", "2026-11-04T12:00:00Z"), 1)
        self.assertEqual(
            [(a.isoformat(), b.isoformat()) for a, b in parts],
            [
                ("2026-11-01T22:00:00+00:00", "2026-11-02T22:00:00+00:00"),
                ("2026-11-02T22:00:00+00:00", "2026-11-03T22:00:00+00:00"),
                ("2026-11-03T22:00:00+00:00", "2026-11-04T12:00:00+00:00"),
            ],
        )
        self.assertEqual(window({"from": pd.Timestamp("2026-11-02"), "to": "2026-11-03"})[1].tzinfo, timezone.utc)
        with self.assertRaisesRegex(ValueError, "not an ISO 8601 time"):
            window("yesterday", "today")


def _window(w):
    return {"from": w[0].isoformat().replace("+00:00", "Z"), "to": w[1].isoformat().replace("+00:00", "Z")}


if __name__ == "__main__":
    unittest.main()
