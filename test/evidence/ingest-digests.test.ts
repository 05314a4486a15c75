/**
 * `scoutql ingest` checks the CloudTrail digests of what it ingests (issue 10 point 1): a trail
 * written and signed as AWS delivers it, then tampered with for real (a log file edited, one deleted,
 * one slipped in), goes through the CLI in a process of its own (the one built for this jest run,
 * test/cli.ts; README's ingest runs bin/scoutql.js in test/service/readme). The ingest reads every
 * log file present all the same, and its summary (text and --json) names what the digests say of them.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { exampleRecords } from '../../testkit/cloudtrail-local';
import { ACCOUNT, editGzip, pathOf, REGION, removeTempDirs, tempDir, writeTrail, type Trail } from './helpers';
import { checkIngestDigests, digestRootOf, type IngestDigestCheck } from '../../src/cli/ingest-digests';
import { addPublicKeysFile, PublicKeySet } from '../../src/evidence/cloudtrail-keys';
import { builtCli } from '../cli';

function scoutql(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [builtCli(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

afterAll(removeTempDirs);

const ADDED = `AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/2024/03/01/${ACCOUNT}_CloudTrail_${REGION}_20240301T0330Z_Zq0aD1xHyT4rB2mQ.json.gz`;

describe('ingest with the digest check', () => {
  let trail: Trail;
  let edited: string;
  let deleted: string;
  let json: Record<string, unknown>;
  let text: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    trail = writeTrail({ hours: 6 });
    edited = trail.writer.logs[3].key;
    deleted = trail.writer.logs[7].key;
    // An attacker's address replaced in one file, another file deleted, a third slipped in.
    editGzip(pathOf(trail, edited), (t) => t.replace(/205\.251\.233\.\d+/g, '10.0.0.5'));
    unlinkSync(pathOf(trail, deleted));
    const t = Date.parse('2024-03-01T03:25:00Z');
    writeFileSync(pathOf(trail, ADDED), gzipSync(JSON.stringify({ Records: exampleRecords(3, t, t + 60_000, ACCOUNT, REGION, 900) })));
    const run = await scoutql(['ingest', trail.dir, '--lake', tempDir('lake'), '--json', '--no-geoip', '--public-keys', trail.keysFile]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    json = JSON.parse(run.stdout) as Record<string, unknown>;
    text = await scoutql(['ingest', trail.dir, '--lake', tempDir('lake'), '--no-geoip']);
  }, 400_000);

  test('--json: the ingest reads every log file present, and the digest check counts what each is worth', () => {
    // 12 delivered, 1 deleted, 1 added: 12 log files × 3 records; the 6 digests and their 6 signatures are skipped.
    expect(json).toMatchObject({ objects: 24, skipped_objects: 12, written: 36, quarantined: 0 });
    const check = json.cloudtrail_digests as IngestDigestCheck;
    expect(check).toMatchObject({
      outcome: 'failed',
      roots: [trail.dir],
      signatures: { checked: 6, not_checked: 0, note: null },
      digests: { valid: 6, modified: 0, missing: 0, signature_invalid: 0, unsigned: 0 },
      log_files: { valid: 10, modified: 1, missing: 1, unlisted: 1, unsigned: 0, uncovered: 0 },
      breaks: { gap: 0, restart: 0, open_start: 0 },
      errors: [],
    });
    expect(check.findings.map((f) => f.split(':')[0]).sort()).toEqual(
      [`missing ${deleted}`, `modified ${edited}`, `unlisted ${ADDED}`].sort(),
    );
  });

  test('text: one line of counts, every finding, and that the logs were ingested all the same', () => {
    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n');
    // No keys given: the chain and the hashes are checked, the signatures not.
    expect(lines).toContain(
      'cloudtrail       digests FAILED: digests 6 key unknown; log files 1 modified, 1 missing, 1 unlisted, 10 unsigned; signatures 0 checked, 6 not',
    );
    expect(text.stdout).toContain(`  modified ${edited}: the SHA-256 of its content is`);
    expect(text.stdout).toContain(`  missing ${deleted}: listed in`);
    expect(text.stdout).toContain(`  unlisted ${ADDED}: delivered 2024-03-01T03:30:00Z`);
    expect(text.stdout).toContain('(the logs were ingested all the same;');
  });

  test('an untouched trail is verified; inputs without digests, or --no-verify-digests, report nothing', async () => {
    const clean = writeTrail({ hours: 2 });
    const verified = await scoutql([
      'ingest',
      clean.dir,
      '--lake',
      tempDir('lake'),
      '--json',
      '--no-geoip',
      '--public-keys',
      clean.keysFile,
    ]);
    expect((JSON.parse(verified.stdout) as { cloudtrail_digests: IngestDigestCheck }).cloudtrail_digests).toMatchObject({
      outcome: 'verified',
      digests: { valid: 2 },
      log_files: { valid: 4 },
      findings: [],
    });
    const logsOnly = join(clean.dir, 'AWSLogs', ACCOUNT, 'CloudTrail');
    // Inside AWSLogs/: checked from the folder holding it, where the digests are.
    expect(digestRootOf(logsOnly)).toBe(clean.dir);
    // Another service's folder holds no CloudTrail file: ingesting it alone verifies nothing (and reads no digest).
    const flowLogs = join(clean.dir, 'AWSLogs', ACCOUNT, 'vpcflowlogs');
    mkdirSync(flowLogs, { recursive: true });
    expect(digestRootOf(flowLogs)).toBeNull();
    expect(digestRootOf(join(clean.dir, 'AWSLogs', ACCOUNT))).toBe(clean.dir);
    expect(digestRootOf(`s3://bucket/AWSLogs/${ACCOUNT}/vpcflowlogs/`)).toBeNull();
    expect(digestRootOf(`s3://bucket/AWSLogs/o-abc123/${ACCOUNT}/CloudTrail/`)).toBe('s3://bucket/');
    // An account's folder is vouched for alone: another account's folder beside it checks none of this account's digests.
    const keys = new PublicKeySet();
    await addPublicKeysFile(keys, clean.keysFile);
    expect(await checkIngestDigests([logsOnly], keys)).toMatchObject({
      outcome: 'verified',
      digests: { valid: 2 },
      log_files: { valid: 4 },
    });
    const otherAccount = join(clean.dir, 'AWSLogs', '999988887777', 'CloudTrail');
    mkdirSync(otherAccount, { recursive: true });
    expect(await checkIngestDigests([otherAccount], keys)).toBeNull();
    expect(await checkIngestDigests([otherAccount, logsOnly], keys)).toMatchObject({ digests: { valid: 2 }, log_files: { valid: 4 } });
    const off = await scoutql(['ingest', clean.dir, '--lake', tempDir('lake'), '--json', '--no-geoip', '--no-verify-digests']);
    expect(JSON.parse(off.stdout)).not.toHaveProperty('cloudtrail_digests');
    const plain = tempDir('plain');
    writeFileSync(join(plain, 'log.json'), JSON.stringify({ Records: exampleRecords(2, 0, 60_000, ACCOUNT, REGION) }));
    const none = await scoutql(['ingest', plain, '--lake', tempDir('lake'), '--json', '--no-geoip']);
    expect(JSON.parse(none.stdout)).not.toHaveProperty('cloudtrail_digests');
  }, 400_000);
});
