"""A hunt from a notebook: identities behind an address, then each one's sessions.

Standard library only, so it runs in any Jupyter kernel. Start the API first (`npm start`).
"""
import json
import urllib.request

ENDPOINT = "http://127.0.0.1:4000/graphql"
WINDOW = {"from": "2026-11-02T00:00:00Z", "to": "2026-11-05T00:00:00Z"}


def graphql(query: str, **variables) -> dict:
    request = urllib.request.Request(
        ENDPOINT,
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        body = json.load(response)
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


data = graphql(
    """query($ip: String!, $window: TimeWindow!) {
      ip(address: $ip, window: $window) {
        identities(first: 50) { edges { eventCount node { identityId kind
          sessions(first: 10) { edges { node { accessKeyId firstSeen lastSeen } } } } } }
      }
    }""",
    ip="192.0.2.45",
    window=WINDOW,
)

for edge in (data["ip"] or {"identities": {"edges": []}})["identities"]["edges"]:
    identity = edge["node"]
    keys = [s["node"]["accessKeyId"] for s in identity["sessions"]["edges"]]
    print(f'{identity["identityId"]:70} {edge["eventCount"]:6} events  sessions: {", ".join(keys) or "-"}')
