/**
 * The attack stories, one file each (the story and what it expects to be found), in the order
 * they are planned: the order of stories.json, and of their records where two fall on the same
 * millisecond. Each draws from its own random stream, so adding one shifts no other.
 */
import type { StoryPlanner } from '../teller';
import { entraFederationBaseline } from '../federation';
import * as accessDeniedProbing from './access-denied-probing';
import * as albScanner from './alb-scanner';
import * as cloudtrailTampering from './cloudtrail-tampering';
import * as consoleBruteForce from './console-brute-force';
import * as entraBruteForceAwsFederation from './entra-brute-force-aws-federation';
import * as gcpKeyFromAttacker from './gcp-key-from-attacker';
import * as maliciousDomainLookup from './malicious-domain-lookup';
import * as publicBucketExposure from './public-bucket-exposure';
import * as roleChainPrivilegeEscalation from './role-chain-privilege-escalation';
import * as s3Exfiltration from './s3-exfiltration';
import * as scannerUserAgents from './scanner-user-agents';
import * as sshOpenToWorld from './ssh-open-to-world';
import * as unusedRegionActivity from './unused-region-activity';

/** What each story expects to be found (its `expect` in stories.json), by story id. */
export interface StoryExpectations {
  'console-brute-force': consoleBruteForce.Expect;
  'public-bucket-exposure': publicBucketExposure.Expect;
  'access-denied-probing': accessDeniedProbing.Expect;
  'role-chain-privilege-escalation': roleChainPrivilegeEscalation.Expect;
  'cloudtrail-tampering': cloudtrailTampering.Expect;
  'ssh-open-to-world': sshOpenToWorld.Expect;
  'unused-region-activity': unusedRegionActivity.Expect;
  'scanner-user-agents': scannerUserAgents.Expect;
  'entra-brute-force-aws-federation': entraBruteForceAwsFederation.Expect;
  's3-exfiltration': s3Exfiltration.Expect;
  'malicious-domain-lookup': maliciousDomainLookup.Expect;
  'gcp-key-from-attacker': gcpKeyFromAttacker.Expect;
  'alb-scanner': albScanner.Expect;
}

export type StoryId = keyof StoryExpectations;

/** Story ids in stories.json order. */
export const STORY_IDS: readonly StoryId[] = [
  'console-brute-force',
  'public-bucket-exposure',
  'access-denied-probing',
  'role-chain-privilege-escalation',
  'cloudtrail-tampering',
  'ssh-open-to-world',
  'unused-region-activity',
  'scanner-user-agents',
  'entra-brute-force-aws-federation',
  's3-exfiltration',
  'malicious-domain-lookup',
  'gcp-key-from-attacker',
  'alb-scanner',
];

/** The rule files (under rules/) each story must make fire, from the story's own file. */
export const STORY_RULES: Readonly<Record<StoryId, readonly string[]>> = {
  'console-brute-force': consoleBruteForce.rules,
  'public-bucket-exposure': publicBucketExposure.rules,
  'access-denied-probing': accessDeniedProbing.rules,
  'role-chain-privilege-escalation': roleChainPrivilegeEscalation.rules,
  'cloudtrail-tampering': cloudtrailTampering.rules,
  'ssh-open-to-world': sshOpenToWorld.rules,
  'unused-region-activity': unusedRegionActivity.rules,
  'scanner-user-agents': scannerUserAgents.rules,
  'entra-brute-force-aws-federation': entraBruteForceAwsFederation.rules,
  's3-exfiltration': s3Exfiltration.rules,
  'malicious-domain-lookup': maliciousDomainLookup.rules,
  'gcp-key-from-attacker': gcpKeyFromAttacker.rules,
  'alb-scanner': albScanner.rules,
};

/**
 * Rule files that fire on the baseline-only sample (3 days from 2026-11-02 at scale 0.3, as
 * test/rules/stories.test.ts and bench/detect.ts run it), and why. Anything else firing there is a
 * false positive.
 */
export const EXPLAINED_BASELINE_FINDINGS: Readonly<Record<string, string>> = {
  'aws/baselines/new_user_agent_for_identity.yml':
    'one or two days of history instead of the 30-day look-back: SDK and CLI versions an identity uses once a week are new here',
  'aws/baselines/rare_action_in_account.yml': 'the same short history: weekly actions are rare in two days',
  'azure/signinlogs/entra_failures_then_success.yml':
    'the Entra ID baseline has users who mistype their password and then sign in (informational; the burst rules stay silent)',
};

/** What the sample's baseline-only mode plans: the ordinary activity planned beside the stories, no attack. */
export const BASELINE_PLANNERS: ReadonlySet<StoryPlanner> = new Set([entraFederationBaseline]);

/** What is planned, in order: the stories, with the Entra ID → AWS federation baseline before the stories that cross sources. */
export const PLANNERS: readonly StoryPlanner[] = [
  consoleBruteForce.plan,
  publicBucketExposure.plan,
  accessDeniedProbing.plan,
  roleChainPrivilegeEscalation.plan,
  cloudtrailTampering.plan,
  sshOpenToWorld.plan,
  unusedRegionActivity.plan,
  scannerUserAgents.plan,
  entraFederationBaseline,
  entraBruteForceAwsFederation.plan,
  // Tells malicious-domain-lookup too: the same implant resolves its drop host before and while it sends.
  s3Exfiltration.plan,
  gcpKeyFromAttacker.plan,
  albScanner.plan,
];
