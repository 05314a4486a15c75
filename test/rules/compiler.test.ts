/**
 * The Sigma compiler, form by form: each modifier, value form and condition form runs against a
 * small lake of CloudTrail records (written by the real ingest) on DuckDB and on the Athena-protocol
 * server, and must select exactly the records the Sigma specification says. Hostile values stay
 * parameters; constructs the compiler cannot run are reported with their line.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest } from '../../etl/ingest';
import { DuckDbEngine } from '../../src/engine/duckdb';
import type { QueryEngine } from '../../src/engine/types';
import { compileDocuments } from '../../src/rules/compile';
import { loadRules, parseRuleText } from '../../src/rules/load';
import type { CompiledRule } from '../../src/rules/model';
import { boundStatement, runRule, RuleRunError } from '../../src/rules/run';
import { startAthenaOverLake, type AthenaOverLake } from '../../testkit/athena-local';
import { ENGINES, FAST_ATHENA } from '../api/helpers';

const base = {
  eventVersion: '1.08',
  userIdentity: {
    type: 'IAMUser',
    arn: 'arn:aws:iam::123456789012:user/Alice',
    accountId: '123456789012',
    accessKeyId: 'AKIAEXAMPLE',
    userName: 'Alice',
  },
  awsRegion: 'us-east-2',
  eventType: 'AwsApiCall',
  recipientAccountId: '123456789012',
};
const HOSTILE = 'it\'s 100% _odd\\ path"; DROP TABLE api_activity; --';
const NUL_VALUE = 'nul\u0000inside';
/** The records, by name; the name is the eventID. */
const RECORDS: Record<string, object> = {
  r1: {
    ...base,
    eventSource: 'cloudtrail.amazonaws.com',
    eventName: 'StopLogging',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) KALI',
    sourceIPAddress: '10.1.2.3',
    requestParameters: {
      name: 'trail-a',
      count: 15,
      tags: ['x', 'y'],
      nested: { items: [{ k: 'a' }, { k: 'b', v: 'second' }] },
      flag: false,
    },
  },
  r2: {
    ...base,
    eventSource: 'cloudtrail.amazonaws.com',
    eventName: 'DeleteTrail',
    userAgent: 'aws-cli/2.13.5',
    sourceIPAddress: '192.0.2.10',
    userIdentity: { ...base.userIdentity, userName: 'Bob' },
    requestParameters: {
      name: HOSTILE,
      cmd: 'powershell.exe -enc SQBFAFgA',
      userName: 'Bob',
      nested: { items: { k: 'c', v: 'single object' } },
    },
  },
  r3: {
    ...base,
    eventSource: 's3.amazonaws.com',
    eventName: 'GetObject',
    userAgent: 'curl/8.4.0',
    sourceIPAddress: '2001:db8::1',
    errorCode: 'AccessDenied',
    requestParameters: {
      payload: Buffer.from('run malicious command here').toString('base64'),
      name: NUL_VALUE,
      userName: 'Carol',
      'x-amz-acl': ['public-read'],
    },
  },
};

let root: string;
const engines: { name: string; engine: QueryEngine }[] = [];
let athena: AthenaOverLake | undefined;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'scoutql-sigma-'));
  const inputs = join(root, 'in');
  mkdirSync(inputs);
  const records = Object.entries(RECORDS).map(([id, r], i) => ({ ...r, eventID: id, eventTime: `2024-05-01T10:0${i}:00Z` }));
  writeFileSync(join(inputs, 'trail.json'), JSON.stringify({ Records: records }));
  await ingest({ inputs: [inputs], lake: join(root, 'lake'), source: 'cloudtrail', workers: 1, graph: false });
  if (ENGINES.includes('duckdb')) engines.push({ name: 'duckdb', engine: await DuckDbEngine.open({ lake: join(root, 'lake') }) });
  if (ENGINES.includes('athena')) {
    athena = await startAthenaOverLake(join(root, 'lake'), { server: { queuedPolls: 0, runningPolls: 0 }, engine: FAST_ATHENA });
    engines.push({ name: 'athena', engine: athena.engine });
  }
}, 120_000);

afterAll(async () => {
  for (const { name, engine } of engines) if (name === 'duckdb') await engine.close();
  await athena?.close();
  rmSync(root, { recursive: true, force: true });
});

const WINDOW = { from: new Date('2024-05-01T00:00:00Z'), to: new Date('2024-05-02T00:00:00Z') };

function ruleText(detection: string, logsource = 'product: aws\n  service: cloudtrail'): string {
  return `title: t\nid: t\nlevel: low\nlogsource:\n  ${logsource}\ndetection:\n${detection
    .trim()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}\n`;
}

function compileOne(detection: string): CompiledRule {
  const { documents, problems } = parseRuleText('t.yml', ruleText(detection));
  expect(problems).toEqual([]);
  const out = compileDocuments(documents);
  expect(out.problems).toEqual([]);
  return out.compiled[0];
}

/** Which records the detection selects, the same on every engine. */
async function selected(detection: string): Promise<string[]> {
  const rule = compileOne(detection);
  const answers: string[][] = [];
  for (const { engine } of engines) {
    const run = await runRule(engine, rule, WINDOW);
    answers.push(run.hits.flatMap((h) => h.evidence).sort());
  }
  for (const a of answers) expect(a).toEqual(answers[0]);
  return answers[0];
}

function problemsOf(detection: string, logsource?: string) {
  const { documents, problems } = parseRuleText('t.yml', ruleText(detection, logsource));
  return [...problems, ...compileDocuments(documents).problems];
}

describe('values and modifiers', () => {
  test.each([
    ['plain values match case-insensitively', 'sel:\n  eventName: stoplogging\ncondition: sel', ['r1']],
    ['|cased matches case exactly', 'sel:\n  eventName|cased: stoplogging\ncondition: sel', []],
    ['|cased with the exact case', 'sel:\n  eventName|cased: StopLogging\ncondition: sel', ['r1']],
    ['a list of values is any of them', 'sel:\n  eventName: [StopLogging, GetObject]\ncondition: sel', ['r1', 'r3']],
    ['* wildcard', "sel:\n  eventName: 'Delete*'\ncondition: sel", ['r2']],
    ['? wildcard', "sel:\n  eventName: '?etObject'\ncondition: sel", ['r3']],
    ['an escaped \\* is a literal star', "sel:\n  eventName: 'Delete\\*'\ncondition: sel", []],
    ['% and _ in a value are literal, not LIKE wildcards', "sel:\n  requestParameters.name|contains: '100% _o'\ncondition: sel", ['r2']],
    ['a lone % matches only values holding one', "sel:\n  requestParameters.name|contains: '%'\ncondition: sel", ['r2']],
    ['|contains', 'sel:\n  userAgent|contains: kali\ncondition: sel', ['r1']],
    ['|startswith', 'sel:\n  userAgent|startswith: AWS-CLI\ncondition: sel', ['r2']],
    ['|endswith', "sel:\n  userAgent|endswith: '8.4.0'\ncondition: sel", ['r3']],
    ['|contains|all needs every value', 'sel:\n  userAgent|contains|all: [mozilla, kali]\ncondition: sel', ['r1']],
    ['|contains|all fails when one is missing', 'sel:\n  userAgent|contains|all: [mozilla, curl]\ncondition: sel', []],
    ['|re is case-sensitive', "sel:\n  userAgent|re: '^moz'\ncondition: sel", []],
    ['|re', "sel:\n  userAgent|re: '^Moz.*KALI$'\ncondition: sel", ['r1']],
    ['|re|i', "sel:\n  userAgent|re|i: '^moz'\ncondition: sel", ['r1']],
    ['|cidr on IPv4', 'sel:\n  sourceIPAddress|cidr: 10.0.0.0/8\ncondition: sel', ['r1']],
    ['|cidr list', 'sel:\n  sourceIPAddress|cidr: [192.0.2.0/24, 172.16.0.0/12]\ncondition: sel', ['r2']],
    ['|exists: true', 'sel:\n  errorCode|exists: true\ncondition: sel', ['r3']],
    ['|exists: false', 'sel:\n  errorCode|exists: false\ncondition: sel', ['r1', 'r2']],
    ['|exists on a JSON field', 'sel:\n  requestParameters.cmd|exists: true\ncondition: sel', ['r2']],
    ['null means absent', 'sel:\n  requestParameters.cmd: null\ncondition: sel', ['r1', 'r3']],
    ['|gt', 'sel:\n  requestParameters.count|gt: 14\ncondition: sel', ['r1']],
    ['|gte', 'sel:\n  requestParameters.count|gte: 15\ncondition: sel', ['r1']],
    ['|lt', 'sel:\n  requestParameters.count|lt: 15\ncondition: sel', []],
    ['|lte', 'sel:\n  requestParameters.count|lte: 15\ncondition: sel', ['r1']],
    ['|base64 (the whole value encoded)', "sel:\n  requestParameters.payload|base64: 'run malicious command here'\ncondition: sel", ['r3']],
    [
      '|base64offset|contains (a word inside the encoding)',
      "sel:\n  requestParameters.payload|base64offset|contains: 'malicious'\ncondition: sel",
      ['r3'],
    ],
    ['|windash: a /flag also matches -flag', "sel:\n  requestParameters.cmd|windash|contains: ' /enc '\ncondition: sel", ['r2']],
    ['|fieldref compares two fields', 'sel:\n  requestParameters.userName|fieldref: userIdentity.userName\ncondition: sel', ['r2']],
    ['|fieldref|contains', 'sel:\n  userIdentity.arn|fieldref|contains: userIdentity.userName\ncondition: sel', ['r1', 'r3']],
    ['JSON booleans', 'sel:\n  requestParameters.flag: false\ncondition: sel', ['r1']],
    ['arrays on the path are traversed', 'sel:\n  requestParameters.nested.items.k: b\ncondition: sel', ['r1']],
    ['a single object where others have an array', 'sel:\n  requestParameters.nested.items.k: c\ncondition: sel', ['r2']],
    ['an array of values at the leaf', 'sel:\n  requestParameters.tags: y\ncondition: sel', ['r1']],
    ['keys with dashes', 'sel:\n  requestParameters.x-amz-acl: public-read\ncondition: sel', ['r3']],
    [
      '|elements: one element matches every sub-field',
      'sel:\n  requestParameters.nested.items|elements:\n    k: b\n    v: second\ncondition: sel',
      ['r1'],
    ],
    [
      '|elements: sub-fields met by different elements do not match',
      'sel:\n  requestParameters.nested.items|elements:\n    k: a\n    v: second\ncondition: sel',
      [],
    ],
    ['keywords search the whole record', "keywords:\n  - 'SQBFAFgA'\n  - 'nothing-like-this'\ncondition: keywords", ['r2']],
  ])('%s', async (_name, detection, expected) => {
    expect(await selected(detection)).toEqual(expected);
  });
});

describe('conditions', () => {
  const sels =
    'sel_a:\n  eventName: StopLogging\nsel_b:\n  eventSource: cloudtrail.amazonaws.com\nsel_c:\n  userAgent|contains: curl\n_helper:\n  eventName: GetObject';
  test.each([
    ['and', 'sel_a and sel_b', ['r1']],
    ['or', 'sel_a or sel_c', ['r1', 'r3']],
    ['not', 'sel_b and not sel_a', ['r2']],
    ['and binds tighter than or', 'sel_c or sel_a and sel_b', ['r1', 'r3']],
    ['parentheses', '(sel_c or sel_a) and sel_b', ['r1']],
    ['1 of a pattern', '1 of sel_*', ['r1', 'r2', 'r3']],
    ['all of a pattern', 'all of sel_*', []],
    ['all of a narrower pattern', 'all of sel_a*', ['r1']],
    ['1 of them leaves out _ identifiers', 'not 1 of them', []],
    ['all of them', 'all of them', []],
    ['an identifier starting with _ is still usable by name', '_helper', ['r3']],
    ['a list of conditions is any of them', '[sel_a, sel_c]', ['r1', 'r3']],
  ])('%s', async (_name, condition, expected) => {
    const cond = condition.startsWith('[') ? `condition: ${condition}` : `condition: '${condition}'`;
    expect(await selected(`${sels}\n${cond}`)).toEqual(expected);
  });
});

describe('hostile values stay parameters', () => {
  test('a NUL byte is refused at compile time (Athena parameters cannot carry it), with its line', () => {
    const problems = problemsOf(`sel:\n  requestParameters.name: ${JSON.stringify(NUL_VALUE)}\ncondition: sel`);
    expect(problems).toHaveLength(1);
    expect(problems[0].reason).toMatch(/control character/);
    expect(problems[0].line).toBe(9);
  });

  test.each([['quotes, %, _, backslash and SQL', HOSTILE, ['r2']]])('%s', async (_name, value, expected) => {
    const detection = `sel:\n  requestParameters.name: ${JSON.stringify(value)}\ncondition: sel`;
    const rule = compileOne(detection);
    const { sql, params } = boundStatement(rule, WINDOW, 10);
    expect(sql).not.toContain(value);
    expect(sql).not.toContain('DROP TABLE');
    expect(params).toContain(value);
    expect(await selected(detection)).toEqual(expected);
  });

  test('field names from the rule travel as parameters too (JSON path pieces)', () => {
    const rule = compileOne("sel:\n  requestParameters.weird'name--: x\ncondition: sel");
    const { sql, params } = boundStatement(rule, WINDOW, 10);
    expect(sql).not.toContain("weird'name");
    expect(params).toContain(`["weird'name--"]`);
  });
});

describe('what the compiler refuses, with the construct and its line', () => {
  test.each([
    ['an unknown modifier', 'sel:\n  eventName|sounds_like: x\ncondition: sel', undefined, /unknown modifier \|sounds_like/, 9],
    ['a condition naming a missing identifier', 'sel:\n  eventName: x\ncondition: sel and other', undefined, /does not define/, 10],
    ['Sigma 1 aggregations', "sel:\n  eventName: x\ncondition: 'sel | count() by src > 5'", undefined, /correlation rule/, 10],
    ['IPv6 ranges', "sel:\n  sourceIPAddress|cidr: '2001:db8::/32'\ncondition: sel", undefined, /IPv6/, 9],
    ['lookaround regexes', "sel:\n  userAgent|re: 'a(?=b)'\ncondition: sel", undefined, /lookaround/, 9],
    ['an unknown logsource', 'sel:\n  x: y\ncondition: sel', 'product: windows\n  category: process_creation', /no lake table/, 5],
    [
      'a field of a text log that has no column',
      "sel:\n  cs-cookie: 'session=1'\ncondition: sel",
      'product: aws\n  service: alb',
      /text line, not JSON/,
      9,
    ],
    ['UTF-16 encodings', 'sel:\n  userAgent|utf16le|base64offset|contains: x\ncondition: sel', undefined, /UTF-16/, 9],
  ])('%s', (_name, detection, logsource, reason, line) => {
    const problems = problemsOf(detection, logsource);
    expect(problems).toHaveLength(1);
    expect(problems[0].reason).toMatch(reason);
    expect(problems[0].line).toBe(line);
  });
});

describe('correlations and baselines the compiler refuses', () => {
  const member =
    'title: failed\nid: m1\nname: failed\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  sel:\n    errorCode: AccessDenied\n  condition: sel\n';
  test.each([
    [
      'a threshold of absence (lt)',
      'correlation:\n  type: event_count\n  rules: [failed]\n  group-by: [userIdentity.arn]\n  timespan: 5m\n  condition:\n    lt: 3\n',
      /only gte and gt/,
      19,
    ],
    [
      'an unknown member rule',
      'correlation:\n  type: temporal\n  rules: [failed, nowhere]\n  timespan: 5m\n',
      /'nowhere' is not a compiled rule/,
      16,
    ],
    [
      'a bad timespan',
      'correlation:\n  type: event_count\n  rules: [failed]\n  timespan: soon\n  condition:\n    gte: 3\n',
      /timespan "soon"/,
      17,
    ],
    [
      'value_count without a field',
      'correlation:\n  type: value_count\n  rules: [failed]\n  timespan: 5m\n  condition:\n    gte: 3\n',
      /needs condition.field/,
      18,
    ],
  ])('%s', (_name, body, reason, line) => {
    const text = `${member}---\ntitle: c\nid: c1\n${body}`;
    const { documents } = parseRuleText('c.yml', text);
    const { problems, compiled } = compileDocuments(documents);
    expect(compiled.map((r) => r.meta.id)).toEqual(['m1']);
    expect(problems).toHaveLength(1);
    expect(problems[0].reason).toMatch(reason);
    expect(problems[0].line).toBe(line);
  });

  test('a baseline on an ASN says it waits for the GeoIP data', () => {
    const text = 'title: b\nid: b1\nlogsource:\n  product: aws\n  service: cloudtrail\nbaseline:\n  type: first_seen\n  value: src_asn\n';
    const { problems } = compileDocuments(parseRuleText('b.yml', text).documents);
    expect(problems[0]).toMatchObject({ construct: 'baseline.value src_asn', line: 6 }); // the baseline block
    expect(problems[0].reason).toMatch(/GeoIP/);
  });
});

describe('cost guard', () => {
  (ENGINES.includes('athena') ? test : test.skip)('a rule whose scan passes the Athena limit is refused by name', async () => {
    const guarded = await startAthenaOverLake(join(root, 'lake'), {
      server: { queuedPolls: 0, runningPolls: 3, bytesScanned: () => 5e9 },
      engine: { ...FAST_ATHENA, maxBytesScanned: 1e9 },
    });
    try {
      const rule = compileOne('sel:\n  eventName: StopLogging\ncondition: sel');
      const error = await runRule(guarded.engine, rule, WINDOW).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RuleRunError);
      expect((error as RuleRunError).ruleId).toBe('t');
      expect((error as RuleRunError).message).toMatch(/^rule t \(t\) refused: .*over the limit/);
    } finally {
      await guarded.close();
    }
  });
});

describe('rule folders', () => {
  test('a folder of community-style Sigma rules loads like the project rules; the Windows one is reported, not dropped', async () => {
    const loaded = loadRules([join(__dirname, 'community')]);
    expect(loaded.compiled.map((r) => r.meta.title).sort()).toEqual([
      'AWS CloudTrail Important Change',
      'AWS Suspicious User Agent Fingerprint',
      'Azure Network Security Configuration Modified',
      'Google Cloud Storage Buckets Modified or Deleted',
    ]);
    expect(loaded.problems).toHaveLength(1);
    expect(loaded.problems[0]).toMatchObject({ construct: 'logsource', title: 'Suspicious Encoded PowerShell Command Line' });
    const trail = loaded.compiled.find((r) => r.meta.title === 'AWS CloudTrail Important Change')!;
    const kali = loaded.compiled.find((r) => r.meta.title === 'AWS Suspicious User Agent Fingerprint')!;
    for (const { engine } of engines) {
      expect((await runRule(engine, trail, WINDOW)).hits.flatMap((h) => h.evidence).sort()).toEqual(['r1', 'r2']);
      expect(
        (await runRule(engine, kali, WINDOW)).hits.map((h) => ({ id: h.evidence[0], techniques: h.techniques, level: h.level })),
      ).toEqual([{ id: 'r1', techniques: ['T1078'], level: 'high' }]);
    }
  });

  test('a malformed file is reported with its path and reason, and the other rules still load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scoutql-rulesdir-'));
    try {
      writeFileSync(join(dir, 'good.yml'), ruleText('sel:\n  eventName: StopLogging\ncondition: sel'));
      writeFileSync(join(dir, 'broken.yml'), 'title: broken\ndetection: [unclosed\n');
      writeFileSync(join(dir, 'no_logsource.yml'), 'title: x\nid: x2\ndetection:\n  sel:\n    a: b\n  condition: sel\n');
      const loaded = loadRules([dir]);
      expect(loaded.compiled.map((r) => r.meta.id)).toEqual(['t']);
      expect(loaded.problems).toHaveLength(2);
      const broken = loaded.problems.find((p) => p.file.endsWith('broken.yml'))!;
      expect(broken.construct).toBe('YAML');
      expect(broken.line).toBe(3); // where the parser found the list unclosed: the end of the file
      expect(loaded.problems.find((p) => p.file.endsWith('no_logsource.yml'))!.reason).toMatch(/logsource/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
