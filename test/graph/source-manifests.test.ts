/**
 * What each source's manifest says it gives the graph (entity types, named relations, and the
 * relations it makes only together with another source) is what the graph step makes of its rows:
 * each source's rows from a one-day sample and from its golden files are put in a lake of their
 * own, and the graph is materialized from that lake alone (and from each declared pair).
 */
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { materializeGraph } from '../../etl/graph';
import { ingest } from '../../etl/ingest';
import { MANIFESTS, sourceFolder } from '../../etl/sources';
import { RELATION_NAMES, TABLE_NAMES } from '../../src/core/tables';
import type { SourceId } from '../../src/generated/sources';
import { generateSample } from '../../testkit/sample';
import { tempDir } from '../etl/helpers';

let dir: string;
const lake = () => join(dir, 'lake');

beforeAll(async () => {
  dir = tempDir('source-graph');
  const logs = join(dir, 'logs');
  generateSample({ out: logs, days: 1, seed: 'source-manifests', scale: 0.1 });
  const inputs = [
    ...readdirSync(logs, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(logs, e.name)),
    ...MANIFESTS.map((m) => join(sourceFolder(m.id), 'golden')),
  ];
  await ingest({ inputs, lake: lake(), graph: false });
}, 180_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A lake of only the given sources' partitions (copied), and the days they hold. */
function lakeOf(sources: readonly SourceId[]): { root: string; days: string[] } {
  const root = join(dir, `only-${sources.join('+')}`);
  const days = new Set<string>();
  for (const table of TABLE_NAMES) {
    for (const source of sources) {
      const from = join(lake(), table, `source=${source}`);
      let accounts: string[];
      try {
        accounts = readdirSync(from);
      } catch {
        continue;
      }
      cpSync(from, join(root, table, `source=${source}`), { recursive: true });
      for (const account of accounts)
        for (const region of readdirSync(join(from, account)))
          for (const day of readdirSync(join(from, account, region))) days.add(day.slice('day='.length));
    }
  }
  return { root, days: [...days].sort() };
}

/** Entity types and named relations of the graph built from only these sources' rows. */
async function graphOf(sources: readonly SourceId[]): Promise<{ entities: string[]; relations: string[] }> {
  const { root, days } = lakeOf(sources);
  // Sources that write only findings (GuardDuty, Security Hub) leave no event rows here: nothing to build.
  if (days.length === 0) return { entities: [], relations: [] };
  await materializeGraph({ lake: root, days });
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const read = async (sql: string) => (await connection.runAndReadAll(sql)).getRows().map((r) => String(r[0]));
    const entities = await read(`SELECT DISTINCT type FROM read_parquet('${root}/graph/entities/*/*.parquet') ORDER BY 1`);
    const rels = await read(`SELECT DISTINCT rel FROM read_parquet('${root}/graph/edges/*/*.parquet') ORDER BY 1`);
    return { entities, relations: rels.filter((r) => (RELATION_NAMES as readonly string[]).includes(r)) };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const sorted = (xs: readonly string[]) => [...xs].sort();

describe.each(MANIFESTS.map((m) => [m.id, m] as const))('%s', (_id, manifest) => {
  test('its rows alone give the entity types and relations its manifest declares', async () => {
    const graph = await graphOf([manifest.id]);
    expect({ entities: graph.entities, relations: graph.relations }).toEqual({
      entities: sorted(manifest.graph.entities),
      relations: sorted(manifest.graph.relations),
    });
  });

  for (const join of manifest.graph.joins ?? []) {
    test(`alone it gives none of ${join.relations.join(', ')}; beside ${join.source}'s rows the graph has them`, async () => {
      expect(join.relations.filter((r) => manifest.graph.relations.includes(r))).toEqual([]);
      const graph = await graphOf(sorted([manifest.id, join.source]) as SourceId[]);
      expect(graph.relations).toEqual(expect.arrayContaining([...join.relations]));
    });
  }
});
