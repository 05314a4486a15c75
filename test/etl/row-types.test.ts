/**
 * Sources are held to the lake contract at compile time: `npm run typecheck` fails unless each
 * `@ts-expect-error` below marks a real error (a missing column, a misspelt one, a wrong type, a
 * table the source does not write). The runtime assertions only keep the rows in use.
 */
import { quarantine, type ParsedItem, type RowIn } from '../../etl/sources/types';
import type { RowOf } from '../../src/core/tables';

const time = new Date('2026-01-01T00:00:00Z');
const dns: RowOf<'dns_activity'> = {
  time,
  event_id: 'e1',
  class_uid: 4003,
  activity: 'Query',
  service: null,
  outcome: 'success',
  error_code: null,
  error_message: null,
  actor_id: null,
  actor_type: null,
  actor_name: null,
  actor_arn: null,
  actor_account: null,
  session_id: null,
  src_ip: '10.0.0.1',
  user_agent: null,
  resources: [],
  raw: null,
  account: '111122223333',
  region: 'us-east-1',
  query_name: 'example.com',
  query_type: 'A',
  rcode: 'NOERROR',
  answers: ['192.0.2.1'],
  vpc_id: null,
  instance_id: null,
  src_port: 53,
};

test('a complete row of its table compiles and is what the writer receives', () => {
  const item: ParsedItem<'dns_activity'> = { kind: 'rows', rows: [{ table: 'dns_activity', row: dns }] };
  expect(item.kind === 'rows' && item.rows[0].row.query_name).toBe('example.com');
});

test('wrong or missing columns, wrong types and foreign tables do not compile', () => {
  const { src_port: _dropped, ...missing } = dns;
  // @ts-expect-error a missing column (src_port) is a compile error
  const withoutPort: RowOf<'dns_activity'> = missing;
  // @ts-expect-error a misspelt column is a compile error
  const misspelt: RowOf<'dns_activity'> = { ...dns, query_nmae: 'x' };
  // @ts-expect-error a string where the column is an INTEGER
  const wrongType: RowOf<'dns_activity'> = { ...dns, src_port: '53' };
  // @ts-expect-error the class_uid is the table's own
  const wrongClass: RowOf<'dns_activity'> = { ...dns, class_uid: 6003 };
  // @ts-expect-error a source that writes dns_activity cannot yield an api_activity row
  const foreign: RowIn<'dns_activity'> = { table: 'api_activity', row: dns };
  const set: ParsedItem<'dns_activity'> = quarantine('line 1', 'bad', 'x');
  expect([withoutPort, misspelt, wrongType, wrongClass, foreign].length).toBe(5);
  expect(set.kind).toBe('quarantine');
});
