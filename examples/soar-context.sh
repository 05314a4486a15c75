#!/usr/bin/env bash
# What a SOAR playbook asks ScoutQL: "what is this indicator, and what surrounds it?" in one call.
# Usage: soar-context.sh INDICATOR [FROM] [TO]   (IP, access key id, ARN, user name, bucket or domain)
set -euo pipefail
indicator=${1:?usage: soar-context.sh INDICATOR [FROM] [TO]}
from=${2:-2026-11-02T00:00:00Z}
to=${3:-2026-11-05T00:00:00Z}
endpoint=${SCOUTQL_URL:-http://127.0.0.1:4000/graphql}

query='query Context($indicator: String!, $window: TimeWindow!) {
  contextFor(indicator: $indicator, window: $window) {
    kind found eventCount firstSeen lastSeen
    identities(first: 10) { edges { node { identityId } } }
    ips(first: 10) { edges { node { address isPrivate } } }
    recentEvents(first: 5) { time activity outcome actorId sourceIpAddress }
  }
}'
# The indicator travels as a GraphQL variable (never pasted into the document); node builds the JSON safely.
body=$(node -e 'process.stdout.write(JSON.stringify({query: process.argv[1], variables: {indicator: process.argv[2], window: {from: process.argv[3], to: process.argv[4]}}}))' \
  "$query" "$indicator" "$from" "$to")
curl -sS --fail-with-body -H 'content-type: application/json' --data "$body" "$endpoint"
echo
