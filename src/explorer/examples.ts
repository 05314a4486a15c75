/**
 * Hunting queries preloaded in the explorer, one tab each. They name the fixed actors of
 * `scoutql sample` (the public bucket, the brute-forcing address, the role chain), so they answer
 * on the demo lake; the window is the server's default (the latest days of data).
 */
export interface ExampleQuery {
  title: string;
  query: string;
  variables: Record<string, unknown>;
}

export function exampleQueries(window: { from: string; to: string }): ExampleQuery[] {
  return [
    {
      title: 'Public bucket: who opened it, who read it from outside',
      query: `# Who changed the bucket's policy, and who read it from outside the known ranges?
query PublicBucket($bucket: String!, $known: [String!], $window: TimeWindow!) {
  resource(id: $bucket, window: $window) {
    arn
    changes: actors(action: "PutBucketPolicy") {
      edges { lastSeen node { identityId kind } }
    }
    readersOutside: sourceIps(outside: $known, first: 50) {
      totalCount
      edges {
        relation eventCount
        node { address isPrivate identities { edges { node { identityId } } } }
      }
    }
  }
}`,
      variables: { bucket: 'acme-prod-customer-exports', known: ['10.0.0.0/8', '203.0.113.10/32', '203.0.113.74/32', '198.51.100.23/32'], window },
    },
    {
      title: 'Brute-forcing address: every identity it used',
      query: `query WhoUsedThisIp($ip: String!, $window: TimeWindow!) {
  ip(address: $ip, window: $window) {
    address isPrivate eventCount firstSeen lastSeen
    identities { totalCount edges { eventCount node { identityId kind } } }
    sessions { edges { node { accessKeyId identity { identityId } } } }
    failedSignIns: events(filter: { outcome: FAILURE, classes: [AUTHENTICATION] }, first: 5) {
      totalCount edges { node { time actorId activity } }
    }
  }
}`,
      variables: { ip: '192.0.2.45', window },
    },
    {
      title: 'Role chain behind a session',
      query: `# Sessions of a role, each with the chain of AssumeRole calls that produced it
query RoleChain($role: String!, $window: TimeWindow!) {
  identity(id: $role, window: $window) {
    identityId
    sessions(first: 10) {
      edges {
        node {
          accessKeyId
          chain {
            accessKeyId
            identity { identityId }
            issuedBy { action time sourceIpAddress mfa identity { identityId } }
          }
          resources(first: 10) { edges { relation node { resourceId } } }
        }
      }
    }
  }
}`,
      variables: { role: 'BreakGlassAdmin', window },
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
      variables: { indicator: '192.0.2.45', window },
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
}
