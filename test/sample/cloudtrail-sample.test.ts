import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { verifyCloudTrail } from '../../src/evidence/cloudtrail-digests';
import { addPublicKeysFile, PublicKeySet } from '../../src/evidence/cloudtrail-keys';
import { Command } from 'commander';
import { SAMPLE_SOURCES } from '../../testkit/sample';
import { STORY_IDS } from '../../testkit/sample/stories';
import { readStories, storyById, type Story } from '../../testkit/sample/story';
import { registerSample } from '../../src/cli/commands/sample';
import {
  DIGEST_FILE,
  DIGEST_SIGNATURE_FILE,
  FLOW_FILE,
  SAMPLE_EXTRA_FILES,
  LOG_FILE,
  fileHashes,
  generate,
  gunzipText,
  layoutOf,
  listFiles,
  loadCloudTrail,
  tempDir,
  type CtRecord,
  type LoadedLogs,
} from './helpers';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function sample(label: string, options: Parameters<typeof generate>[1]) {
  const result = generate(label, options);
  dirs.push(result.dir);
  return result;
}

/** What is wrong with a record, judged by the fields CloudTrail always writes. */
function recordProblems(r: CtRecord): string[] {
  const p: string[] = [];
  const check = (ok: boolean, what: string): void => {
    if (!ok) p.push(what);
  };
  check(['1.08', '1.09'].includes(r.eventVersion), `eventVersion ${r.eventVersion}`);
  // AWS service events (a KMS key rotation) carry a userIdentity without a type.
  check(
    typeof r.userIdentity?.type === 'string' || (r.eventType === 'AwsServiceEvent' && typeof r.userIdentity?.invokedBy === 'string'),
    'userIdentity.type',
  );
  check(ISO_SECONDS.test(r.eventTime), `eventTime ${r.eventTime}`);
  check(/^[a-z0-9-]+\.amazonaws\.com$/.test(r.eventSource), `eventSource ${r.eventSource}`);
  check(typeof r.eventName === 'string' && r.eventName.length > 0, 'eventName');
  check(typeof r.sourceIPAddress === 'string', 'sourceIPAddress');
  check(typeof r.userAgent === 'string', 'userAgent');
  check(UUID.test(r.eventID), `eventID ${r.eventID}`);
  check(typeof r.readOnly === 'boolean', 'readOnly');
  check(typeof r.managementEvent === 'boolean', 'managementEvent');
  check(['AwsApiCall', 'AwsServiceEvent', 'AwsConsoleSignIn'].includes(r.eventType), `eventType ${r.eventType}`);
  check(r.eventCategory === (r.managementEvent ? 'Management' : 'Data'), `eventCategory ${r.eventCategory}`);
  check(/^\d{12}$/.test(r.recipientAccountId), 'recipientAccountId');
  check('requestParameters' in r && 'responseElements' in r, 'requestParameters / responseElements present');
  check(r.eventType !== 'AwsApiCall' || typeof r.requestID === 'string', 'requestID');
  check(
    typeof r.responseElements?.requestId !== 'string' || r.responseElements.requestId === r.requestID,
    'response requestId is the requestID',
  );
  const id = r.userIdentity ?? {};
  if (id.type === 'AssumedRole') {
    const issuer = id.sessionContext?.sessionIssuer ?? {};
    check(/^arn:aws:sts::\d{12}:assumed-role\/[^/]+\/.+$/.test(id.arn), `assumed-role arn ${id.arn}`);
    check(/^ASIA[A-Z2-7]{16}$/.test(id.accessKeyId), `accessKeyId ${id.accessKeyId}`);
    check(issuer.type === 'Role' && id.arn.split('/')[1] === issuer.userName, 'sessionIssuer names the role');
    check(typeof id.principalId === 'string' && id.principalId.startsWith(`${issuer.principalId}:`), 'principalId is roleId:session');
    check(['true', 'false'].includes(id.sessionContext?.attributes?.mfaAuthenticated), 'mfaAuthenticated');
  } else if (id.type === 'IAMUser') {
    check(/^AIDA[A-Z2-7]{17}$/.test(id.principalId), `principalId ${id.principalId}`);
    check(typeof id.userName === 'string', 'userName');
  } else if (id.type === 'SAMLUser') {
    // Entra ID federation: the SAML subject is the user's UPN.
    check(r.eventName === 'AssumeRoleWithSAML' && id.userName === r.requestParameters?.roleSessionName, 'SAML subject names the session');
    check(typeof id.principalId === 'string' && id.principalId.endsWith(`:${id.userName}`), 'SAML principalId is qualifier:subject');
  } else if (id.type === 'AWSService') {
    check(r.sourceIPAddress === id.invokedBy, 'AWS service calls come from the service');
  } else if (r.eventType === 'AwsServiceEvent') {
    check(r.sourceIPAddress === id.invokedBy && r.serviceEventDetails !== undefined, 'service event from the service, with details');
  } else {
    check(
      JSON.stringify(id) === JSON.stringify({ type: 'AWSAccount', principalId: '', accountId: 'ANONYMOUS_PRINCIPAL' }),
      `identity ${JSON.stringify(id)}`,
    );
  }
  // Calls made by people and programs carry TLS details; services acting for them do not.
  const viaService = typeof r.sourceIPAddress === 'string' && r.sourceIPAddress.endsWith('.amazonaws.com');
  check((r.tlsDetails === undefined) === viaService, 'tlsDetails');
  return p;
}

describe('determinism', () => {
  test('the same seed writes byte-identical files; another seed writes different ones', () => {
    const a1 = sample('a1', { seed: 'alpha', days: 1 });
    const a2 = sample('a2', { seed: 'alpha', days: 1 });
    const b = sample('b', { seed: 'beta', days: 1 });
    const h1 = fileHashes(a1.dir);
    const h2 = fileHashes(a2.dir);
    expect([...h1.keys()]).toEqual([...h2.keys()]);
    for (const [file, hash] of h1) expect(h2.get(file)).toBe(hash);
    expect(h1.size).toBeGreaterThan(100);
    // …for every source, not only CloudTrail.
    expect(new Set([...h1.keys()].map((f) => layoutOf(f)).filter(Boolean))).toEqual(new Set(SAMPLE_SOURCES));

    const hb = fileHashes(b.dir);
    const sameNames = [...hb.keys()].filter((f) => h1.has(f)).length;
    expect(sameNames).toBeLessThan(hb.size); // random file-name suffixes differ
    expect(fileHashes(b.dir).get('stories.json')).not.toBe(h1.get('stories.json'));
  });
});

describe('a one-day sample', () => {
  let dir: string;
  let logs: LoadedLogs;
  let files: string[];
  let stories: Story[];

  beforeAll(() => {
    // CloudTrail and VPC flow logs only: the other sources' layouts are checked in sources-sample.test.ts.
    ({ dir } = sample('day', { seed: 'layout', days: 1, start: '2026-03-02', sources: ['cloudtrail', 'vpcflow'] }));
    files = listFiles(dir);
    logs = loadCloudTrail(dir);
    stories = readStories(dir);
  });

  test('every file sits where AWS delivers it, named as AWS names it', () => {
    const other = files.filter((f) => !LOG_FILE.test(f) && !DIGEST_FILE.test(f) && !DIGEST_SIGNATURE_FILE.test(f) && !FLOW_FILE.test(f));
    expect(other.sort()).toEqual(SAMPLE_EXTRA_FILES);
    // Each digest has its signature beside it, and nothing else is signed.
    expect(files.filter((f) => DIGEST_SIGNATURE_FILE.test(f))).toEqual(files.filter((f) => DIGEST_FILE.test(f)).map((f) => `${f}.sig`));
    for (const f of files.filter((x) => LOG_FILE.test(x))) {
      const m = LOG_FILE.exec(f)!;
      const [, acct, region, yyyy, mm, dd, acct2, region2, ymd] = m;
      expect(acct2).toBe(acct);
      expect(region2).toBe(region);
      expect(`${yyyy}${mm}${dd}`).toBe(ymd);
    }
    for (const f of files.filter((x) => DIGEST_FILE.test(x))) {
      const m = DIGEST_FILE.exec(f)!;
      const [, acct, region, yyyy, mm, dd, acct2, region2, trail, home, ymd] = m;
      expect(acct2).toBe(acct);
      expect(region2).toBe(region);
      expect(trail).toBe('acme-org-trail');
      expect(home).toBe('us-east-1');
      expect(`${yyyy}${mm}${dd}`).toBe(ymd);
    }
  });

  test('each log file holds the records of its own account and region, delivered after they happened', () => {
    const problems: string[] = [];
    for (const { file, records } of logs.files) {
      const [, acct, region, , , , , , ymd, hhmm] = LOG_FILE.exec(file)!;
      const delivered = Date.parse(`${ymd.slice(0, 4)}-${ymd.slice(4, 6)}-${ymd.slice(6)}T${hhmm.slice(0, 2)}:${hhmm.slice(2)}:59Z`);
      if (records.length === 0) problems.push(`${file}: empty`);
      for (const r of records) {
        const t = Date.parse(r.eventTime);
        if (r.recipientAccountId !== acct || r.awsRegion !== region)
          problems.push(`${file}: ${r.eventID} belongs to ${r.recipientAccountId}/${r.awsRegion}`);
        if (t > delivered || delivered - t > 20 * 60_000) problems.push(`${file}: ${r.eventID} at ${r.eventTime}`);
      }
    }
    expect(problems).toEqual([]);
  });

  test('every record has the fields CloudTrail always writes, with the right types', () => {
    expect(logs.records.length).toBeGreaterThan(3000);
    const ids = new Set<string>();
    const problems: string[] = [];
    for (const r of logs.records) {
      for (const p of recordProblems(r)) problems.push(`${r.eventID} ${r.eventName}: ${p}`);
      if (ids.has(r.eventID)) problems.push(`${r.eventID}: duplicate eventID`);
      ids.add(r.eventID);
    }
    expect(problems.slice(0, 20)).toEqual([]);
  });

  test('humans, CI, applications and AWS services all appear, as do console logins with MFA', () => {
    const types = new Set(logs.records.map((r) => r.userIdentity.type ?? `(${r.eventType})`));
    expect([...types].sort()).toEqual(['(AwsServiceEvent)', 'AWSAccount', 'AWSService', 'AssumedRole', 'IAMUser', 'SAMLUser']);
    const issuers = new Set(
      logs.records
        .filter((r) => r.userIdentity.type === 'AssumedRole')
        .map((r) => r.userIdentity.sessionContext.sessionIssuer.userName as string),
    );
    expect([...issuers].some((n) => n.startsWith('AWSReservedSSO_'))).toBe(true);
    expect(issuers.has('ci-deploy-role')).toBe(true);
    expect(issuers.has('app-web-role')).toBe(true);
    expect(issuers.has('AWSServiceRoleForConfig')).toBe(true);
    const okLogins = logs.records.filter(
      (r) => r.eventName === 'ConsoleLogin' && r.responseElements?.ConsoleLogin === 'Success' && r.additionalEventData?.MFAUsed === 'Yes',
    );
    expect(okLogins.length).toBeGreaterThan(2);
    expect(
      logs.records.some((r) => r.eventSource === 's3.amazonaws.com' && r.eventName === 'GetObject' && r.eventCategory === 'Data'),
    ).toBe(true);
  });

  test('a default day holds 4.3–10 thousand events (a default week, 30–70 thousand)', () => {
    expect(logs.records.length).toBeGreaterThan(4300);
    expect(logs.records.length).toBeLessThan(10_000);
  });

  test('a session key is used only after the AssumeRole that issued it (when that call is in the logs)', () => {
    const issued = new Map<string, number>();
    for (const r of logs.records) {
      const key = r.eventName === 'AssumeRole' ? r.responseElements?.credentials?.accessKeyId : undefined;
      if (key) issued.set(key, Date.parse(r.eventTime));
    }
    let checked = 0;
    for (const r of logs.records) {
      const at = issued.get(r.userIdentity.accessKeyId);
      if (at === undefined) continue;
      expect(Date.parse(r.eventTime)).toBeGreaterThanOrEqual(at);
      checked++;
    }
    expect(checked).toBeGreaterThan(500);
  });

  test('cross-account AssumeRole is logged in both accounts with one sharedEventID', () => {
    const byShared = new Map<string, CtRecord[]>();
    for (const r of logs.records) if (r.sharedEventID) byShared.set(r.sharedEventID, [...(byShared.get(r.sharedEventID) ?? []), r]);
    expect(byShared.size).toBeGreaterThanOrEqual(24);
    for (const pair of byShared.values()) {
      expect(pair).toHaveLength(2);
      const [x, y] = pair as [CtRecord, CtRecord];
      expect(x.eventName).toBe('AssumeRole');
      expect(x.recipientAccountId).not.toBe(y.recipientAccountId);
      expect(x.eventID).not.toBe(y.eventID);
      expect(x.userIdentity).toEqual(y.userIdentity);
      expect(x.responseElements).toEqual(y.responseElements);
      const roleAccount = x.requestParameters.roleArn.split(':')[4];
      expect([x.recipientAccountId, y.recipientAccountId].sort()).toEqual([x.userIdentity.accountId, roleAccount].sort());
    }
  });

  test('digests list each delivered log file once with the SHA-256 of its content, and chain to the previous digest', () => {
    const logHashes = new Map(logs.files.map((f) => [f.file, createHash('sha256').update(f.text).digest('hex')]));
    const listed = new Map<string, number>();
    const digests = files.filter((f) => DIGEST_FILE.test(f));
    const byStream = new Map<string, { end: string; text: string; file: string; json: any }[]>();
    for (const file of digests) {
      const text = gunzipText(dir, file);
      const d = JSON.parse(text);
      expect(d.digestS3Object).toBe(file);
      expect(d.digestSignatureAlgorithm).toBe('SHA256withRSA');
      expect(Date.parse(d.digestEndTime) - Date.parse(d.digestStartTime)).toBe(3_600_000);
      for (const lf of d.logFiles) {
        expect(lf.hashAlgorithm).toBe('SHA-256');
        expect(lf.hashValue).toBe(logHashes.get(lf.s3Object));
        listed.set(lf.s3Object, (listed.get(lf.s3Object) ?? 0) + 1);
      }
      const stream = `${d.awsAccountId}/${file.split('/')[3]}`;
      byStream.set(stream, [...(byStream.get(stream) ?? []), { end: d.digestEndTime, text, file, json: d }]);
    }
    for (const f of logHashes.keys()) expect(listed.get(f)).toBe(1);
    for (const chain of byStream.values()) {
      chain.sort((a, b) => (a.end < b.end ? -1 : 1));
      expect(chain[0].json.previousDigestS3Object).toBeNull();
      for (let i = 1; i < chain.length; i++) {
        expect(chain[i].json.previousDigestS3Object).toBe(chain[i - 1].file);
        expect(chain[i].json.previousDigestHashValue).toBe(
          createHash('sha256')
            .update(chain[i - 1].text)
            .digest('hex'),
        );
        expect(chain[i].json.digestStartTime).toBe(chain[i - 1].json.digestEndTime);
      }
    }
  });

  test('verify cloudtrail with the public key written beside the sample proves every digest and log file', async () => {
    const keys = new PublicKeySet();
    await addPublicKeysFile(keys, join(dir, 'cloudtrail-public-keys.json'));
    const report = await verifyCloudTrail({ root: dir, keys });
    const digests = files.filter((f) => DIGEST_FILE.test(f)).length;
    expect(report.outcome).toBe('verified');
    expect(report.signatures).toEqual({ checked: digests, notChecked: 0, note: null });
    expect(report.counts.links).toMatchObject({ valid: digests });
    expect(report.counts.files).toMatchObject({
      valid: logs.files.length,
      modified: 0,
      missing: 0,
      unlisted: 0,
      unsigned: 0,
      uncovered: 0,
    });
    expect(report.chains.flatMap((c) => c.links).every((l) => l.signature.source === 'sidecar')).toBe(true);
  });

  test('the sample signatures are real: a digest re-signed with another key, or one edited, fails', async () => {
    const copy = tempDir('signed-copy');
    dirs.push(copy);
    cpSync(dir, copy, { recursive: true });
    const digests = files.filter((f) => DIGEST_FILE.test(f)).sort();
    // Forge: the first digest signed over the right string, with another key.
    const forged = digests[0];
    const doc = JSON.parse(gunzipText(copy, forged)) as Record<string, string | null>;
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const toSign = [
      doc.digestEndTime,
      `${doc.digestS3Bucket}/${doc.digestS3Object}`,
      sha256(gunzipText(copy, forged)),
      doc.previousDigestSignature ?? 'null',
    ].join('\n');
    writeFileSync(join(copy, `${forged}.sig`), sign('sha256', Buffer.from(toSign), other).toString('hex'));
    // Edit: another digest's content changed, its signature kept.
    const edited = digests[digests.length - 1];
    const editedDoc = JSON.parse(gunzipText(copy, edited)) as Record<string, unknown>;
    writeFileSync(join(copy, edited), gzipSync(JSON.stringify({ ...editedDoc, logFiles: [] })));
    const keys = new PublicKeySet();
    await addPublicKeysFile(keys, join(copy, 'cloudtrail-public-keys.json'));
    const report = await verifyCloudTrail({ root: copy, keys });
    const problems = new Map(report.chains.flatMap((c) => c.links).map((l) => [l.path, l.problems.map((p) => p.code)]));
    expect(report.outcome).toBe('failed');
    // The forged signature does not verify, and is not the one the next digest recorded for it.
    expect(problems.get(forged)).toEqual(['modified', 'signature_invalid']);
    // The newest digest of its stream: only its own signature can tell.
    expect(problems.get(edited)).toEqual(['signature_invalid']);
    expect(report.counts.links).toMatchObject({ modified: 1, signature_invalid: 1, valid: digests.length - 2 });
  });

  test('every story fits in one day, each CloudTrail event where stories.json says it is', () => {
    expect(stories.map((s) => s.id).sort()).toEqual([...STORY_IDS].sort());
    const dayStart = Date.parse('2026-03-02T00:00:00Z');
    for (const story of stories) {
      expect(Date.parse(story.start)).toBeGreaterThanOrEqual(dayStart);
      expect(Date.parse(story.end)).toBeLessThan(dayStart + 86_400_000 + 3_600_000);
      // Stories told only in other sources (DNS, ALB, GCP) have no CloudTrail events.
      expect(story.eventIds.length > 0).toBe(story.sources.cloudtrail !== undefined);
      expect(story.sources.cloudtrail ?? []).toEqual(story.eventIds);
      for (const id of story.eventIds) {
        const r = logs.byEventId.get(id);
        expect(r).toBeDefined();
        expect(r!.recipientAccountId).toBe(story.steps.find((s) => s.eventId === id)!.account);
      }
      for (const step of story.steps.filter((s) => s.source === 'cloudtrail')) {
        const r = logs.byEventId.get(step.eventId!)!;
        expect(r.eventTime).toBe(step.time);
        expect(r.eventName).toBe(step.action);
        expect(r.awsRegion).toBe(step.region);
        expect(r.sourceIPAddress).toBe(step.ip);
        expect(r.errorCode).toBe(step.errorCode);
      }
    }
  });
});

describe('the stories, in a four-day sample', () => {
  let logs: LoadedLogs;
  let stories: Story[];
  let dir: string;
  beforeAll(() => {
    ({ dir } = sample('days', { days: 4, sources: ['cloudtrail'] }));
    logs = loadCloudTrail(dir);
    stories = readStories(dir);
  });
  const rec = (id: string): CtRecord => {
    const r = logs.byEventId.get(id);
    if (!r) throw new Error(`event ${id} is not in the logs`);
    return r;
  };

  test('stories are spread over the days', () => {
    const days = new Set(stories.map((s) => s.start.slice(0, 10)));
    expect(days.size).toBe(4);
  });

  test('console brute force: many failures from one foreign IP, then a success without MFA from another country', () => {
    const s = storyById(stories, 'console-brute-force');
    const failures = logs.records.filter(
      (r) =>
        r.eventName === 'ConsoleLogin' &&
        r.responseElements?.ConsoleLogin === 'Failure' &&
        r.userIdentity.userName === s.expect.targetUser.split('/').pop(),
    );
    expect(failures).toHaveLength(s.expect.failedLogins);
    expect(new Set(failures.map((r) => r.sourceIPAddress))).toEqual(new Set([s.expect.attackerIp]));
    expect(failures.every((r) => r.errorMessage === 'Failed authentication')).toBe(true);
    const ok = rec(s.expect.successEventId);
    expect(ok.responseElements.ConsoleLogin).toBe('Success');
    expect(ok.sourceIPAddress).toBe(s.expect.successIp);
    expect(ok.additionalEventData.MFAUsed).toBe('No');
    expect(s.ipCountries[s.expect.successIp]).not.toBe(s.ipCountries[s.expect.attackerIp]);
    expect(Date.parse(ok.eventTime)).toBeGreaterThan(Math.max(...failures.map((r) => Date.parse(r.eventTime))));
    const usual = logs.records
      .filter((r) => r.userIdentity.arn === s.expect.targetUser && !s.eventIds.includes(r.eventID))
      .map((r) => r.sourceIPAddress);
    expect(usual.length).toBeGreaterThan(0);
    expect(usual).not.toContain(s.expect.successIp);
    expect(usual).not.toContain(s.expect.attackerIp);
    const followUps = logs.records.filter((r) => r.userIdentity.accessKeyId === s.expect.consoleSessionKey);
    expect(followUps.map((r) => r.eventName)).toEqual(s.expect.followUpEventNames);
    expect(
      followUps.every(
        (r) => r.sessionCredentialFromConsole === 'true' && r.userIdentity.sessionContext.attributes.mfaAuthenticated === 'false',
      ),
    ).toBe(true);
  });

  test('public bucket: a non-admin opens it to everyone, then anonymous reads from unfamiliar IPs', () => {
    const s = storyById(stories, 'public-bucket-exposure');
    const changes = s.expect.changeEventIds.map(rec);
    expect(changes.map((r) => r.eventName)).toEqual(['DeletePublicAccessBlock', 'PutBucketPolicy', 'PutBucketAcl']);
    for (const r of changes) {
      expect(r.userIdentity.arn).toBe(s.expect.changedBy);
      expect(r.requestParameters.bucketName).toBe(s.expect.bucket);
    }
    expect(changes[1].requestParameters.bucketPolicy.Statement[0].Principal).toBe('*');
    expect(JSON.stringify(changes[2].requestParameters)).toContain('http://acs.amazonaws.com/groups/global/AllUsers');
    // the user who changed it is not an administrator: no SSO admin set, no admin policy
    expect(s.expect.changedBy).toMatch(/:user\//);
    const anon = logs.records.filter((r) => r.userIdentity.accountId === 'ANONYMOUS_PRINCIPAL');
    expect(anon.filter((r) => r.eventName === 'GetObject')).toHaveLength(s.expect.anonymousGetObjects);
    expect(anon.filter((r) => r.eventName === 'ListObjects')).toHaveLength(s.expect.anonymousListObjects);
    expect([...new Set(anon.map((r) => r.sourceIPAddress))].sort()).toEqual(s.expect.anonymousIps);
    const changedAt = Date.parse(changes[2].eventTime);
    expect(anon.every((r) => Date.parse(r.eventTime) > changedAt && r.requestParameters.bucketName === s.expect.bucket)).toBe(true);
    const familiar = new Set(
      logs.records.filter((r) => r.userIdentity.type !== 'AWSAccount' && !s.eventIds.includes(r.eventID)).map((r) => r.sourceIPAddress),
    );
    expect(s.expect.anonymousIps.some((ip) => familiar.has(ip))).toBe(false);
  });

  test('access-denied probing: many denials across services by one key, then a success', () => {
    const s = storyById(stories, 'access-denied-probing');
    const mine = logs.records.filter((r) => r.userIdentity.accessKeyId === s.expect.accessKeyId && s.eventIds.includes(r.eventID));
    const denied = mine.filter((r) => r.errorCode);
    expect(denied).toHaveLength(s.expect.deniedCount);
    expect(new Set(denied.map((r) => r.eventSource.split('.')[0])).size).toBe(s.expect.deniedServices.length);
    expect(s.expect.deniedServices.length).toBeGreaterThanOrEqual(8);
    expect(denied.filter((r) => /AccessDenied/.test(r.errorCode)).length / denied.length).toBeGreaterThan(0.6);
    const ok = rec(s.expect.successAfterDenials.eventId);
    expect(ok.errorCode).toBeUndefined();
    expect(Date.parse(ok.eventTime)).toBeGreaterThan(Math.max(...denied.map((r) => Date.parse(r.eventTime))));
    // this key never hears AccessDenied outside the story
    expect(
      logs.records.filter((r) => r.userIdentity.accessKeyId === s.expect.accessKeyId && r.errorCode && !s.eventIds.includes(r.eventID)),
    ).toHaveLength(0);
  });

  test('role chain: user → RoleA → RoleB, each hop made with the previous hop’s credentials, then sensitive actions', () => {
    const s = storyById(stories, 'role-chain-privilege-escalation');
    const [userArn, roleA, roleB] = s.expect.chain;
    const [userKey, keyA, keyB] = s.expect.sessions;
    const [assumeA, assumeB] = s.expect.assumeRoleEventIds.map(rec) as [CtRecord, CtRecord];
    expect(assumeA.userIdentity.arn).toBe(userArn);
    expect(assumeA.userIdentity.accessKeyId).toBe(userKey);
    expect(assumeA.requestParameters.roleArn).toBe(roleA);
    expect(assumeA.responseElements.credentials.accessKeyId).toBe(keyA);
    expect(assumeB.userIdentity.type).toBe('AssumedRole');
    expect(assumeB.userIdentity.accessKeyId).toBe(keyA);
    expect(assumeB.userIdentity.sessionContext.sessionIssuer.arn).toBe(roleA);
    expect(assumeB.requestParameters.roleArn).toBe(roleB);
    expect(assumeB.responseElements.credentials.accessKeyId).toBe(keyB);
    expect(s.expect.sensitiveActions.map((a) => a.eventName).sort()).toEqual(['AttachUserPolicy', 'CreateAccessKey', 'DeleteBucket']);
    for (const action of s.expect.sensitiveActions) {
      const r = rec(action.eventId);
      expect(r.eventName).toBe(action.eventName);
      expect(r.userIdentity.accessKeyId).toBe(keyB);
      expect(r.userIdentity.sessionContext.sessionIssuer.arn).toBe(roleB);
      expect(Date.parse(r.eventTime)).toBeGreaterThan(Date.parse(assumeB.eventTime));
    }
    const create = rec(s.expect.sensitiveActions.find((a) => a.eventName === 'CreateAccessKey')!.eventId);
    expect(`arn:aws:iam::${create.recipientAccountId}:user/${create.requestParameters.userName}`).not.toBe(userArn);
    expect(create.responseElements.accessKey.accessKeyId).toBe(s.expect.createdAccessKeyId);
    const attach = rec(s.expect.sensitiveActions.find((a) => a.eventName === 'AttachUserPolicy')!.eventId);
    expect(attach.requestParameters.policyArn).toBe('arn:aws:iam::aws:policy/AdministratorAccess');
  });

  test('CloudTrail tampering: StopLogging, then DeleteTrail on the same trail', () => {
    const s = storyById(stories, 'cloudtrail-tampering');
    const stop = rec(s.expect.stopLoggingEventId);
    const del = rec(s.expect.deleteTrailEventId);
    expect([stop.eventName, del.eventName]).toEqual(['StopLogging', 'DeleteTrail']);
    expect(stop.requestParameters.name).toBe(s.expect.trailArn);
    expect(del.requestParameters.name).toBe(s.expect.trailArn);
    expect(Date.parse(del.eventTime)).toBeGreaterThan(Date.parse(stop.eventTime));
    expect(stop.userIdentity.arn).toBe(s.expect.actor);
  });

  test('SSH opened to 0.0.0.0/0 on port 22', () => {
    const s = storyById(stories, 'ssh-open-to-world');
    const r = rec(s.expect.eventId);
    expect(r.eventName).toBe('AuthorizeSecurityGroupIngress');
    expect(r.requestParameters.groupId).toBe(s.expect.groupId);
    const perm = r.requestParameters.ipPermissions.items[0];
    expect([perm.fromPort, perm.toPort, perm.ipProtocol]).toEqual([22, 22, 'tcp']);
    expect(perm.ipRanges.items[0].cidrIp).toBe('0.0.0.0/0');
    expect(r.responseElements.securityGroupRuleSet.items[0].securityGroupRuleId).toBe(s.expect.ruleId);
    expect(r.userIdentity.sessionContext.sessionIssuer.arn).toBe(s.expect.actor);
  });

  test('unused region: the only events ever logged there are the story’s', () => {
    const s = storyById(stories, 'unused-region-activity');
    const there = logs.records.filter((r) => r.awsRegion === s.expect.unusedRegion);
    expect(there).toHaveLength(s.expect.eventCount);
    expect(there.every((r) => s.eventIds.includes(r.eventID) && r.userIdentity.accessKeyId === s.expect.accessKeyId)).toBe(true);
    const run = rec(s.expect.runInstancesEventId);
    expect(run.responseElements.instancesSet.items.map((i: { instanceId: string }) => i.instanceId)).toEqual(s.expect.instanceIds);
  });

  test('scanner user agents: only the story uses them', () => {
    const s = storyById(stories, 'scanner-user-agents');
    const agents = new Set(s.expect.userAgents);
    const used = logs.records.filter((r) => agents.has(r.userAgent));
    expect(used).toHaveLength(s.expect.eventCount);
    expect(used.filter((r) => r.errorCode)).toHaveLength(s.expect.deniedCount);
    expect(s.expect.userAgents.some((ua) => /kali/i.test(ua))).toBe(true);
    expect(s.expect.userAgents.some((ua) => /Pacu/.test(ua))).toBe(true);
    expect(s.expect.userAgents.some((ua) => /Scout ?Suite/i.test(ua))).toBe(true);
    expect(logs.records.filter((r) => /kali|Pacu|Scout ?Suite/i.test(r.userAgent) && !s.eventIds.includes(r.eventID))).toHaveLength(0);
  });
});

describe('--scale', () => {
  test('grows volume roughly linearly', () => {
    const one = sample('scale1', { seed: 'scale', days: 1, sources: ['cloudtrail'] });
    const three = sample('scale3', { seed: 'scale', days: 1, scale: 3, sources: ['cloudtrail'] });
    const ratio = three.summary.bySource.cloudtrail!.records / one.summary.bySource.cloudtrail!.records;
    // Scheduled work (hourly scans, credential refreshes) and the stories do not scale.
    expect(ratio).toBeGreaterThan(2.3);
    expect(ratio).toBeLessThan(3.1);
  });
});

describe('the sample command', () => {
  test('writes a sample and rejects a bad --start', async () => {
    const out = tempDir('cli');
    dirs.push(out);
    const program = new Command().exitOverride();
    registerSample(program);
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await program.parseAsync(['node', 'scoutql', 'sample', '--out', out, '--days', '1', '--seed', 'cli']);
    } finally {
      write.mockRestore();
    }
    expect(listFiles(out)).toContain('stories.json');
    expect(readStories(out)).toHaveLength(STORY_IDS.length);
    const bad = new Command().exitOverride();
    registerSample(bad);
    await expect(bad.parseAsync(['node', 'scoutql', 'sample', '--out', out, '--start', '2026-13-45'])).rejects.toThrow(/--start/);
  });
});
