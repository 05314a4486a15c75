/**
 * What the sources of other products' findings (GuardDuty, Security Hub) share: severity words,
 * ATT&CK tactics from the products' threat purposes, and AWS identities as the event tables name them.
 */
import { FINDING_SEVERITY_ID, type FindingLevel } from '../../src/core/tables';

/** GuardDuty's ranges: Low 1.0–3.9, Medium 4.0–6.9, High 7.0–8.9, Critical 9.0–10.0. */
export function guardDutyLevel(severity: number): FindingLevel {
  if (severity >= 9) return 'critical';
  if (severity >= 7) return 'high';
  if (severity >= 4) return 'medium';
  return 'low';
}

/** Security Hub's Severity.Normalized ranges: 0 informational, 1–39 low, 40–69 medium, 70–89 high, 90–100 critical. */
export function normalizedLevel(normalized: number): FindingLevel {
  if (normalized >= 90) return 'critical';
  if (normalized >= 70) return 'high';
  if (normalized >= 40) return 'medium';
  if (normalized >= 1) return 'low';
  return 'informational';
}

export function severityId(level: FindingLevel): number {
  return FINDING_SEVERITY_ID[level];
}

/**
 * ATT&CK tactics (as Sigma tags name them) of GuardDuty's threat purposes (the part of a finding
 * type before `:`) and of Security Hub's `TTPs/<tactic>` types.
 */
const TACTICS: Record<string, string> = {
  backdoor: 'command-and-control',
  behavior: 'discovery',
  credentialaccess: 'credential-access',
  cryptocurrency: 'impact',
  defenseevasion: 'defense-evasion',
  discovery: 'discovery',
  execution: 'execution',
  exfiltration: 'exfiltration',
  impact: 'impact',
  initialaccess: 'initial-access',
  pentest: 'discovery',
  persistence: 'persistence',
  privilegeescalation: 'privilege-escalation',
  recon: 'reconnaissance',
  reconnaissance: 'reconnaissance',
  stealth: 'defense-evasion',
  trojan: 'command-and-control',
  unauthorizedaccess: 'initial-access',
  collection: 'collection',
  commandandcontrol: 'command-and-control',
  lateralmovement: 'lateral-movement',
};

export function tacticOf(purpose: string | null | undefined): string | null {
  if (!purpose) return null;
  return TACTICS[purpose.toLowerCase().replace(/[^a-z]/g, '')] ?? null;
}

/**
 * ATT&CK techniques of the finding types whose meaning names one. GuardDuty gives no technique
 * ids itself; this table covers the types the project's stories and documentation samples use.
 */
const TECHNIQUES: Record<string, string> = {
  'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS': 'T1552.005',
  'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS': 'T1552.005',
  'Exfiltration:S3/AnomalousBehavior': 'T1530',
  'Exfiltration:S3/MaliciousIPCaller': 'T1530',
  'Trojan:EC2/DropPoint': 'T1041',
  'Trojan:EC2/DropPoint!DNS': 'T1041',
  'PrivilegeEscalation:IAMUser/AnomalousBehavior': 'T1098',
  'Persistence:IAMUser/AnomalousBehavior': 'T1098',
  'Stealth:IAMUser/CloudTrailLoggingDisabled': 'T1562.008',
  'Recon:EC2/PortProbeUnprotectedPort': 'T1595',
  'UnauthorizedAccess:EC2/SSHBruteForce': 'T1110',
  'Recon:IAMUser/MaliciousIPCaller.Custom': 'T1580',
};

export function techniqueOf(findingType: string): string | null {
  return TECHNIQUES[findingType] ?? null;
}

/**
 * The identity id the event tables give an AWS principal (etl/fields/aws-identity.ts conventions)
 * from a product's user name and type: an IAM user's or role's ARN, the root ARN.
 */
export function awsPrincipalId(partition: string, account: string | null, userType: string | null, userName: string | null): string | null {
  if (!account || !userName) return null;
  switch ((userType ?? '').toLowerCase()) {
    case 'iamuser':
      return `arn:${partition}:iam::${account}:user/${userName}`;
    case 'assumedrole':
    case 'role':
      return `arn:${partition}:iam::${account}:role/${userName}`;
    case 'root':
      return `arn:${partition}:iam::${account}:root`;
    default:
      return null;
  }
}
