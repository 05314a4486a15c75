/**
 * Adding a log source is adding one folder. In a copy of the repository, a throw-away source
 * (`etl/sources/kvaudit/`: manifest, parser, sample writer, one golden file) is added; then, with
 * no other file touched by hand, `npm run codegen`'s generator lists it, the project type-checks,
 * its golden file runs in the generic golden test, `scoutql sample --sources kvaudit` writes it,
 * `scoutql ingest` reads it into the lake, and the ETL bench measures it. Afterwards no file
 * outside the new folder and src/generated/ has changed. README.md "Add a log source" says the same.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { sha256Hex } from '../../src/core/hash';
import { REPO, tempDir } from '../etl/helpers';

const ID = 'kvaudit';

/** A small key=value audit log: `time=<ISO> user=<name> action=<verb> ip=<address> account=<id>`. */
const MANIFEST = `import { defineManifest } from '../types';

export const manifest = defineManifest({
  id: '${ID}',
  provider: 'aws',
  product: 'Key-value audit log (a throw-away source)',
  order: 1000,
  tables: ['api_activity'],
  objects: { content: 'lines of key=value pairs starting with time=', keyPatterns: [/(^|\\/)kv-audit\\//] },
  graph: { entities: ['Identity', 'IPAddress', 'Account'], relations: ['from_ip', 'in_region', 'in_account'] },
  bench: { duckdb: [], golden: { file: 'three-lines.log', repeat: 'lines' } },
});
`;

const PARSER = `import { sha1Hex } from '../../../src/core/hash';
import { parseIsoTime } from '../../../src/core/time';
import { itemsByLine } from '../../readers/line-items';
import { defineSource, quarantine, type ParsedItem } from '../types';
import { manifest } from './manifest';

function item(line: string, number: number): ParsedItem<'api_activity'> | null {
  if (!line.trim()) return null;
  const fields = new Map(line.trim().split(' ').map((pair) => pair.split('=') as [string, string]));
  const time = parseIsoTime(fields.get('time'));
  if (!time) return quarantine(\`line \${number}\`, 'no time=', line);
  const user = fields.get('user') ?? null;
  return {
    kind: 'rows',
    rows: [{
      table: 'api_activity',
      row: {
        time, event_id: sha1Hex(line), class_uid: 6003, activity: fields.get('action') ?? null, service: 'kvaudit', outcome: 'success',
        error_code: null, error_message: null, actor_id: user ? \`kv:\${user}\` : null, actor_type: 'User', actor_name: user, actor_arn: null,
        actor_account: null, session_id: null, src_ip: fields.get('ip') ?? null, user_agent: null, resources: [], raw: line,
        account: fields.get('account') ?? 'unknown', region: 'global', event_type: null, read_only: null, mfa: null,
        session_issuer_arn: null, session_name: null, issued_session_id: null, issued_role_arn: null, recipient_account: null,
        vpc_endpoint_id: null, request_parameters: null,
      },
    }],
  };
}

export const source = defineSource(manifest, {
  detect: ({ head }) => ({ confidence: /^time=\\d{4}-\\d\\d-\\d\\dT\\S+ user=/.test(head) ? 0.9 : 0 }),
  parse: (input) => itemsByLine(input, { item }),
});
`;

const SAMPLE_WRITER = `import { DAY_MS, HOUR_MS, emptyStats, slashDate } from '../../../testkit/sample/output';
import { Rng } from '../../../testkit/sample/prng';
import { defineSampleWriter } from '../../../testkit/sample/writers';

export const sampleWriter = defineSampleWriter({
  source: '${ID}',
  create: ({ world, output }) => {
    const stats = emptyStats();
    return {
      stats,
      writeDay: (day) => {
        const rng = new Rng(\`\${world.seed}:${ID}:\${day.start}\`);
        const lines: string[] = [];
        for (let hour = day.start; hour < day.start + DAY_MS; hour += HOUR_MS) {
          const person = rng.pick(world.people);
          const time = new Date(hour + rng.int(0, 3599) * 1000).toISOString();
          lines.push(\`time=\${time} user=\${person.name} action=\${rng.pick(['read', 'write'])} ip=\${person.office.ip} account=\${world.accounts.prod.id}\`);
        }
        output.put(\`kv-audit/\${slashDate(day.start)}/audit.log\`, lines.join('\\n') + '\\n', lines.length, stats);
      },
    };
  },
});
`;

const GOLDEN = [
  'time=2026-03-01T10:00:00Z user=alice action=read ip=192.0.2.1 account=111122223333',
  'garbage without a time',
  'time=2026-03-01T10:05:00Z user=bob action=write ip=192.0.2.2 account=111122223333',
].join('\n');

function expectedGolden(): unknown {
  const row = (line: string, user: string, action: string, ip: string, time: string) => ({
    table: 'api_activity',
    row: {
      time,
      event_id: sha1Of(line),
      class_uid: 6003,
      activity: action,
      service: 'kvaudit',
      outcome: 'success',
      actor_id: `kv:${user}`,
      actor_type: 'User',
      actor_name: user,
      src_ip: ip,
      resources: [],
      raw: line,
      account: '111122223333',
      region: 'global',
    },
  });
  const [first, bad, third] = GOLDEN.split('\n');
  return [
    { kind: 'rows', rows: [row(first, 'alice', 'read', '192.0.2.1', '2026-03-01T10:00:00.000Z')] },
    { kind: 'quarantine', position: 'line 2', reason: 'no time=', text: bad },
    { kind: 'rows', rows: [row(third, 'bob', 'write', '192.0.2.2', '2026-03-01T10:05:00.000Z')] },
  ];
}

/** The sha1 the parser uses for event ids, computed here without the project's code. */
function sha1Of(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** Every file below `root` (relative, '/'-separated) with its content hash, skipping what runs produce. */
function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      const rel = relative(root, full).split(sep).join('/');
      if (rel === 'node_modules' || rel === 'bench/out' || rel === 'dist') continue;
      if (entry.isDirectory()) walk(full);
      else out.set(rel, sha256Hex(readFileSync(full)));
    }
  };
  walk(root);
  return out;
}

function run(cwd: string, args: string[]): string {
  const result = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', env: { ...process.env, CI: '' }, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

let work: string;
let copy: string;
let before: Map<string, string>;

beforeAll(() => {
  work = tempDir('add-source');
  copy = join(work, 'repo');
  cpSync(REPO, copy, {
    recursive: true,
    // Without dist/ (the build, which jest in the copy makes anew): the copy runs its edited sources.
    filter: (src) => !/[/\\](node_modules|\.git|coverage|dist)$/.test(src) && !src.startsWith(join(REPO, 'bench', 'out')),
  });
  symlinkSync(join(REPO, 'node_modules'), join(copy, 'node_modules'), 'dir');
  before = snapshot(copy);
  const folder = join(copy, 'etl', 'sources', ID);
  mkdirSync(join(folder, 'golden'), { recursive: true });
  writeFileSync(join(folder, 'manifest.ts'), MANIFEST);
  writeFileSync(join(folder, 'parser.ts'), PARSER);
  writeFileSync(join(folder, 'sample.ts'), SAMPLE_WRITER);
  writeFileSync(join(folder, 'golden', 'three-lines.log'), GOLDEN + '\n');
  writeFileSync(join(folder, 'golden', 'three-lines.log.expected.json'), JSON.stringify(expectedGolden(), null, 2) + '\n');
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('a new source folder is loaded only once codegen lists it', () => {
  const tsx = ['-r', 'tsx/cjs'];
  const load = spawnSync(process.execPath, [...tsx, '-e', "require('./etl/sources')"], { cwd: copy, encoding: 'utf8' });
  expect(load.status).not.toBe(0);
  expect(load.stderr).toMatch(/source folders not in src\/generated\/sources\.ts: kvaudit\): run `npm run codegen`/);

  run(copy, [...tsx, 'src/codegen/run.ts']);
  expect(readFileSync(join(copy, 'src', 'generated', 'sources.ts'), 'utf8')).toContain(`'${ID}',`);
  const ids = run(copy, [...tsx, '-e', "process.stdout.write(require('./etl/sources').SOURCES.map((s) => s.id).join(','))"]);
  expect(ids.split(',').at(-1)).toBe(ID);
});

test('it type-checks, and its golden file runs in the generic golden test', () => {
  // The project's compiler options over the new folder (and all it imports): its rows are checked against the lake contract.
  const tsconfig = join(work, 'tsconfig.new-source.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(copy, 'tsconfig.json'),
      compilerOptions: { typeRoots: [join(copy, 'node_modules', '@types')] },
      include: [join(copy, 'etl', 'sources', ID)],
    }),
  );
  run(copy, [join(copy, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', tsconfig]);
  const jest = spawnSync(
    process.execPath,
    [join(copy, 'node_modules', 'jest', 'bin', 'jest.js'), 'test/sources/golden.test.ts', '-t', `${ID}|detection over every golden file`, '--ci=false'],
    { cwd: copy, encoding: 'utf8' },
  );
  expect(jest.stderr).toMatch(/kvaudit golden files/);
  expect(jest.stderr).toMatch(/three-lines\.log/);
  expect(jest.stderr).toMatch(/✓ each source claims its own golden files and no other source's/);
  expect(jest.status).toBe(0);
});

test('it is sampled and ingested into the lake', async () => {
  const logs = join(work, 'logs');
  const lake = join(work, 'lake');
  run(copy, ['bin/scoutql.js', 'sample', '--out', logs, '--days', '2', '--seed', 'new-source', '--sources', ID]);
  const sample = JSON.parse(readFileSync(join(logs, 'sample.json'), 'utf8'));
  expect(sample.sources).toEqual([ID]);
  expect(sample.bySource[ID]).toEqual({ files: 2, records: 48, bytes: expect.any(Number) });

  const summary = JSON.parse(run(copy, ['bin/scoutql.js', 'ingest', join(logs, 'kv-audit'), '--lake', lake, '--json']));
  expect(summary).toMatchObject({ records: 48, written: 48, quarantined: 0 });
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT source, count(*)::INTEGER AS n, count(DISTINCT actor_id)::INTEGER AS actors FROM read_parquet($1, hive_partitioning = true) GROUP BY source`,
      [join(lake, 'api_activity', 'source=*', '**', '*.parquet')],
    );
    expect(reader.getRowObjectsJson()).toEqual([{ source: ID, n: 48, actors: expect.any(Number) }]);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  // The graph step knows its provider from the manifest.
  expect(existsSync(join(lake, 'graph', 'entities'))).toBe(true);
});

test('the ETL bench measures it', () => {
  run(copy, ['-r', 'tsx/cjs', 'bench/etl.ts', '--quick', '--only', ID, '--days', '1', '--skip-graph-rerun']);
  const result = JSON.parse(readFileSync(join(copy, 'bench', 'out', 'etl-quick-latest.json'), 'utf8'));
  expect(result.results.map((r: { source: string }) => r.source)).toEqual([ID]);
  expect(result.results[0].scoutql.summary).toMatchObject({ records: 24, written: 24, quarantined: 0 });
  expect(result.results[0].input.files).toBe(1);
});

test('no file outside the new folder and src/generated changed', () => {
  const after = snapshot(copy);
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((f) => before.get(f) !== after.get(f));
  expect(changed.filter((f) => !f.startsWith(`etl/sources/${ID}/`) && !f.startsWith('src/generated/'))).toEqual([]);
  expect(changed).toContain('src/generated/sources.ts');
});
