/** Every statement src/queries can build is Athena (Trino) SQL with as many `?` as parameters. */
import { TABLE_NAMES } from '../../src/core/tables';
import { countPlaceholders } from '../../src/engine/athena-sql';
import { eventByKey, eventsCount, eventsPage, issuingEvent, type EventPivot } from '../../src/queries/events';
import { PIVOTS, entitiesByKeys, identityCandidates, listEntities, neighbours, type PivotName } from '../../src/queries/graph';
import type { Statement } from '../../src/queries/sql';
import { findDialectViolation } from '../../testkit/athena-local';

const window = { from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-03-08T00:00:00Z') };

function statements(): Statement[] {
  const out: Statement[] = [];
  for (const accounts of ['*', ['012345678901', '210987654321']] as const) {
    out.push(
      entitiesByKeys('Identity', ['a', 'b'], window, accounts),
      listEntities('Identity', window, 'IAMUser', 0, 10, accounts),
      listEntities('Session', window, null, 5, 10, accounts),
    );
    out.push(eventByKey('api_activity', '2026-03-02 03:05:00', 'e1', accounts), issuingEvent('ASIA1', 'e1', '2026-03-02', accounts));
    for (const pivot of ['identity', 'session', 'ip', 'resource', 'none'] as EventPivot[]) {
      for (const descending of [false, true]) {
        const q = {
          pivot,
          keys: ['k1', 'k2'],
          tables: [...TABLE_NAMES],
          window,
          limit: 10,
          descending,
          accounts,
          conditions: {
            identity: 'i',
            session: 's',
            ip: '1.2.3.4',
            resource: 'r',
            action: 'a',
            outcome: 'failure',
            errorCode: 'AccessDenied',
            source: 'cloudtrail',
            account: '1',
            domain: 'x.example',
          },
          after: { timeKey: '2026-03-02 03:05:00', eventId: 'e1', table: 'api_activity' },
        };
        out.push(eventsPage(q), eventsCount(q));
      }
    }
  }
  out.push(identityCandidates('bob', 'arn:aws:iam::1:role/x', window), identityCandidates('bob', null, window));
  for (const pivot of Object.keys(PIVOTS) as PivotName[]) {
    out.push(neighbours(pivot, ['k1'], window, null, 0, 10), neighbours(pivot, ['k1', 'k2', 'k3'], window, 'GetObject', 10, 10));
  }
  return out;
}

test.each(statements().map((s, i) => [`${i} ${s.label}`, s]))('%s', (_name, statement) => {
  expect(findDialectViolation(statement.sql)).toBeNull();
  expect(countPlaceholders(statement.sql)).toBe(statement.params.length);
});
