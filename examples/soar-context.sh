#!/usr/bin/env bash
# What a SOAR playbook asks ScoutQL: "what is this indicator, what surrounds it, did anything fire?" in one call
# (GET /api/context/{indicator}; the answer's shape and verdict are documented in docs/soar.md and /api/openapi.json).
# Usage: soar-context.sh INDICATOR [FROM] [TO]   (IP or CIDR, access key id, ARN, user name, bucket, domain…)
# SCOUTQL_API_KEY, when set, is sent as X-API-Key (servers with auth on).
set -euo pipefail
indicator=${1:?usage: soar-context.sh INDICATOR [FROM] [TO]}
from=${2:-2026-11-02T00:00:00Z}
to=${3:-2026-11-05T00:00:00Z}
base=${SCOUTQL_BASE_URL:-http://127.0.0.1:4000}
auth=()
if [[ -n ${SCOUTQL_API_KEY:-} ]]; then auth=(-H "x-api-key: ${SCOUTQL_API_KEY}"); fi
# curl encodes the indicator and the window into the URL (never pasted into a query).
curl -sS --fail-with-body -G "${auth[@]}" \
  --data-urlencode "from=${from}" --data-urlencode "to=${to}" \
  "${base}/api/context/$(node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$indicator")"
echo
