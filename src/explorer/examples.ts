/** Hunting queries preloaded in the explorer, one tab each. Windows are filled in per lake. */
export interface ExampleQuery {
  title: string;
  query: string;
  variables: Record<string, unknown>;
}

const window = { from: '2026-03-01T00:00:00Z', to: '2026-03-08T00:00:00Z' };

export const EXAMPLE_QUERIES: ExampleQuery[] = [
  {
    title: 'Who deleted the bucket, and how did they get there',
    query: `# Who deleted the bucket, through which role chain, and from which IPs
query WhoDeleted($bucket: String!, $window: TimeWindow!) {
  resource(id: $bucket, window: $window) {
    arn
    actors(action: "DeleteBucket") {
      edges { relation lastSeen node { identityId kind } }
    }
    sessions(action: "DeleteBucket") {
      edges {
        node {
          accessKeyId
          chain {
            accessKeyId
            identity { identityId }
            issuedBy { action sourceIpAddress mfa identity { identityId } }
          }
        }
      }
    }
  }
}`,
    variables: { bucket: 'prod-backups', window },
  },
  {
    title: 'Everything an IP touched',
    query: `query WhatDidThisIpDo($ip: String!, $window: TimeWindow!) {
  ip(address: $ip, window: $window) {
    address isPrivate eventCount firstSeen lastSeen
    identities { totalCount edges { eventCount node { identityId kind } } }
    issuedSessions { edges { node { accessKeyId identity { identityId } } } }
    peers { edges { relation node { address } } }
  }
}`,
    variables: { ip: '203.0.113.66', window },
  },
  {
    title: 'Context for an indicator (SOAR)',
    query: `query Enrich($indicator: String!, $window: TimeWindow!) {
  contextFor(indicator: $indicator, window: $window) {
    kind found firstSeen lastSeen eventCount
    identities(first: 10) { edges { node { identityId } } }
    ips(first: 10) { edges { node { address isPrivate } } }
    recentEvents(first: 5) { time activity outcome actorId sourceIpAddress }
  }
}`,
    variables: { indicator: '203.0.113.66', window },
  },
  {
    title: 'Failed calls, timeline',
    query: `query Failures($window: TimeWindow!) {
  events(filter: { outcome: FAILURE }, window: $window, first: 50) {
    totalCount
    edges { node { time class activity errorCode actorId sourceIpAddress } }
    pageInfo { hasNextPage endCursor }
  }
}`,
    variables: { window },
  },
];
