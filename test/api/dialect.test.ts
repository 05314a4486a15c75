/** Every statement src/queries can build is Athena (Trino) SQL with as many `?` as parameters. */
import { TABLE_NAMES } from '../../src/core/tables';
import { countPlaceholders } from '../../src/engine/athena-sql';
import { eventsAggregate, newBehaviour } from '../../src/queries/aggregate';
import { eventByKey, eventsByIds, eventsCount, eventsPage, issuingEvent, type EventPivot } from '../../src/queries/events';
import { lakeCoverage, lakeSources, latestRecords } from '../../src/queries/lake';
import {
  PIVOTS,
  addressesInRange,
  entitiesByKeys,
  identityCandidateEntities,
  identityCandidates,
  listEntities,
  neighbours,
  resourcesByName,
  resourcesBySuffix,
  type PivotName,
} from '../../src/queries/graph';
import { AccountScope } from '../../src/queries/scope';
import type { Statement } from '../../src/queries/sql';
import { findDialectViolation } from '../../testkit/athena-local';

const window = { from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-03-08T00:00:00Z') };

function statements(): Statement[] {
  const out: Statement[] = [];
  // Every account, and a scope of two: the scoped statements add the account filters and sightings.
  for (const scope of [AccountScope.ALL, AccountScope.of(['012345678901', '210987654321'])]) {
    out.push(
      entitiesByKeys(scope, 'Identity', ['a', 'b'], window),
      entitiesByKeys(scope, 'IPAddress', ['192.0.2.1'], window),
      entitiesByKeys(scope, 'UserAgent', ['curl/8'], window),
      listEntities(scope, 'Identity', window, 'IAMUser', 0, 10),
      listEntities(scope, 'Session', window, null, 5, 10),
      listEntities(scope, 'IPAddress', window, 'public', 0, 10),
      resourcesByName(scope, ['bucket-a', 'bucket-b'], window),
    );
    out.push(eventByKey(scope, 'api_activity', '2026-03-02 03:05:00', 'e1'), issuingEvent(scope, 'ASIA1', 'e1', '2026-03-02'));
    for (const pivot of ['identity', 'session', 'ip', 'resource', 'none'] as EventPivot[]) {
      for (const descending of [false, true]) {
        const q = {
          pivot,
          keys: ['k1', 'k2'],
          tables: [...TABLE_NAMES],
          window,
          limit: 10,
          descending,
          conditions: {
            identity: 'i',
            session: 's',
            ip: { exact: ['1.2.3.4'], ranges: [{ low: 167772160, high: 184549375 }] },
            resource: 'r',
            actions: { exact: ['deletetrail'], like: ['delete%', '%policy%'] },
            services: { exact: ['iam'], like: ['iam.%'] },
            outcome: 'failure',
            errorCodes: { exact: [], like: ['accessdenied%'] },
            hasError: true,
            readOnly: false,
            source: 'cloudtrail',
            account: '1',
            region: 'us-east-1',
            text: 'backup',
            userAgent: 'curl/8.5.0',
            domain: 'x.example',
          },
          after: { timeKey: '2026-03-02 03:05:00', eventId: 'e1', table: 'api_activity' },
        };
        out.push(eventsPage(scope, q), eventsCount(scope, q));
        // Aggregates over the same events: grouped, bucketed, distinct (resources flatten apart), every order.
        out.push(
          eventsAggregate(scope, {
            events: q,
            groupBy: ['action', 'source_ip'],
            bucket: 'minute',
            distinct: ['actor'],
            order: 'count_desc',
            top: 5,
          }),
          eventsAggregate(scope, {
            events: q,
            groupBy: ['resource'],
            bucket: null,
            distinct: ['resource', 'session'],
            order: 'count_asc',
            top: 5,
          }),
          eventsAggregate(scope, { events: q, groupBy: [], bucket: 'hour', distinct: [], order: 'time', top: 500 }),
          // New behaviour: the look-back and the window read once, values first seen since the window's start.
          newBehaviour(scope, { events: q, since: new Date('2026-03-04T00:00:00Z'), top: 10 }),
        );
      }
    }
    out.push(
      eventsByIds(scope, 'api_activity', [
        { day: '2026-03-02', eventId: 'e1' },
        { day: '2026-03-03', eventId: 'e2' },
      ]),
    );
    out.push(
      lakeSources(scope),
      lakeCoverage(scope, window, 'hour'),
      lakeCoverage(scope, window, 'day'),
      lakeCoverage(scope, window, 'minute'),
    );
    out.push(latestRecords(scope, window.to), resourcesBySuffix(scope, 'prod/db_1%', window));
    out.push(
      addressesInRange(scope, [{ low: 167772160, high: 184549375 }], true, window, 100),
      addressesInRange(scope, [], false, window, 10),
    );
    out.push(identityCandidates(scope, 'bob', 'arn:aws:iam::1:role/x', window), identityCandidates(scope, 'bob', null, window));
    out.push(
      identityCandidateEntities(identityCandidates(scope, 'bob', 'arn:aws:iam::1:role/x', window)),
      identityCandidateEntities(identityCandidates(scope, 'AROAEXAMPLE:alice', null, window, 'alice')),
    );
    for (const pivot of Object.keys(PIVOTS) as PivotName[]) {
      out.push(
        neighbours(scope, pivot, ['k1'], window, null, 0, 10),
        neighbours(scope, pivot, ['k1', 'k2', 'k3'], window, 'GetObject', 10, 10),
      );
    }
  }
  return out;
}

test.each(statements().map((s, i) => [`${i} ${s.label}`, s]))('%s', (_name, statement) => {
  expect(findDialectViolation(statement.sql)).toBeNull();
  expect(countPlaceholders(statement.sql)).toBe(statement.params.length);
});
