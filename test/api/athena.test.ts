/**
 * The API's SQL is one dialect: the same hunting queries answered through the Athena engine
 * (real SDK, local Athena-protocol server with the dialect guard, over the same lake folder)
 * give exactly what DuckDB gives.
 */
import { startAthenaOverLake, type AthenaOverLake } from '../../testkit/athena-local';
import { ScoutApi } from '../../src/api/server';
import { openStoryApi, type TestApi } from './helpers';
import { ADMIN_KEY, BRUTE_IP, PUBLIC_BUCKET, WINDOW } from './fixtures/story';

let duck: TestApi;
let athena: AthenaOverLake;
let athenaApi: ScoutApi;

beforeAll(async () => {
  duck = await openStoryApi();
  athena = await startAthenaOverLake(duck.lake);
  athenaApi = new ScoutApi({ engine: athena.engine });
}, 120_000);
afterAll(async () => {
  await athenaApi?.stop();
  await athena?.close();
  await duck?.close();
});

const QUERIES: [string, string][] = [
  ['role chain behind the deletion', `query($w: TimeWindow!) { resource(id: "prod-backups", window: $w) {
      actors(action: "DeleteBucket") { totalCount edges { relation firstSeen eventCount node { identityId kind account } } }
      sessions { edges { relation node { accessKeyId chain { accessKeyId name identity { identityId names } issuedBy { action roleArn sourceIpAddress mfa time eventId } } } } }
  } }`],
  ['identities behind an IP', `query($w: TimeWindow!) { ip(address: "${BRUTE_IP}", window: $w) { isPrivate eventCount firstSeen lastSeen
      identities { totalCount edges { eventCount node { identityId accessKeys regions { region eventCount } } } }
      peers { edges { relation node { address } } } } }`],
  ['outside readers', `query($w: TimeWindow!) { resource(id: "${PUBLIC_BUCKET}", window: $w) { sourceIps(outside: ["10.0.0.0/8"]) { edges { relation eventCount node { address } } } } }`],
  ['event pages', `query($w: TimeWindow!) { events(window: $w, first: 4) { totalCount edges { cursor node { id eventId time class activity outcome resourceIds } } pageInfo { hasNextPage endCursor } } }`],
  ['indicator context', `query($w: TimeWindow!) { contextFor(indicator: "${ADMIN_KEY}", window: $w) { kind found eventCount resources(first: 5) { edges { relation node { resourceId kind } } } recentEvents(first: 3) { eventId } } }`],
];

test.each(QUERIES)('%s: Athena answers as DuckDB does', async (_name, document) => {
  const fromDuck = await duck.gql(document, { w: WINDOW });
  const fromAthena = await athenaApi.execute(document, { w: WINDOW });
  expect(fromDuck.errors).toBeUndefined();
  expect(fromAthena.errors).toBeUndefined();
  expect(fromAthena.data).toEqual(fromDuck.data);
  expect((fromAthena.extensions?.stats as any).engine).toBe('athena');
});
