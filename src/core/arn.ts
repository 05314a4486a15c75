/**
 * ARN conventions. The partition (`aws`, `aws-cn`, `aws-us-gov`, `aws-iso`…) always comes from the
 * data: an ARN in the same record, or the region; never a hard-coded `arn:aws:`.
 */

export interface Arn {
  partition: string;
  service: string;
  region: string;
  account: string;
  /** Everything after the account: `user/path/name`, `role/x`, `bucket/key`… */
  resource: string;
}

/** Splits an ARN; null when the text is not one. */
export function parseArn(text: string | null | undefined): Arn | null {
  if (!text || !text.startsWith('arn:')) return null;
  // Five colons, found one after the other: the ETL parses several ARNs a record, and splitting
  // each whole (then joining the resource back) cost more than the rest of this function.
  const afterPartition = text.indexOf(':', 4);
  const afterService = afterPartition < 0 ? -1 : text.indexOf(':', afterPartition + 1);
  const afterRegion = afterService < 0 ? -1 : text.indexOf(':', afterService + 1);
  const afterAccount = afterRegion < 0 ? -1 : text.indexOf(':', afterRegion + 1);
  if (afterAccount < 0 || afterPartition === 4 || afterService === afterPartition + 1) return null;
  return {
    partition: text.slice(4, afterPartition),
    service: text.slice(afterPartition + 1, afterService),
    region: text.slice(afterService + 1, afterRegion),
    account: text.slice(afterRegion + 1, afterAccount),
    resource: text.slice(afterAccount + 1),
  };
}

export function formatArn(arn: Arn): string {
  return `arn:${arn.partition}:${arn.service}:${arn.region}:${arn.account}:${arn.resource}`;
}

/** Region name prefixes of the partitions other than `aws`, most specific first. */
export const REGION_PARTITIONS: readonly (readonly [prefix: string, partition: string])[] = [
  ['cn-', 'aws-cn'],
  ['us-gov-', 'aws-us-gov'],
  ['us-isob-', 'aws-iso-b'],
  ['us-iso-', 'aws-iso'],
  ['eu-isoe-', 'aws-iso-e'],
  ['us-isof-', 'aws-iso-f'],
];

/** The partition a region belongs to (cn-north-1 → aws-cn, us-gov-west-1 → aws-us-gov…); `aws` otherwise. */
export function partitionForRegion(region: string | null | undefined): string {
  if (!region) return 'aws';
  return REGION_PARTITIONS.find(([prefix]) => region.startsWith(prefix))?.[1] ?? 'aws';
}

/**
 * The partition a host name says (`s3.cn-north-1.amazonaws.com.cn`, `d1234.cloudfront.cn` → aws-cn;
 * `d1234.cloudfront.net` → aws), or null when it does not (GovCloud endpoints end in .amazonaws.com
 * too: their region says it).
 */
export function partitionForHost(host: string | null | undefined): string | null {
  const name = host?.toLowerCase();
  if (!name) return null;
  if (name.endsWith('.amazonaws.com.cn') || name.endsWith('.cloudfront.cn')) return 'aws-cn';
  if (name.endsWith('.cloudfront.net')) return 'aws';
  return null;
}

/** The partition of an ARN found in the record, else of its region. */
export function partitionOf(arnInRecord: string | null | undefined, region: string | null | undefined): string {
  return parseArn(arnInRecord)?.partition ?? partitionForRegion(region);
}

/**
 * The identity key of an IAM user or role ARN: the ARN without its path
 * (`arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_1a2b` →
 * `arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_1a2b`). IAM user and role names are unique
 * within an account whatever their path, and logs name the same principal with its path (the
 * session issuer, a CreateRole response) or without it (an assumed-role ARN, a request's roleName),
 * so keying identities without the path makes every spelling one identity. Any other text is
 * returned unchanged.
 */
export function iamIdentityKey(arn: string): string;
export function iamIdentityKey(arn: string | null): string | null;
export function iamIdentityKey(arn: string | null): string | null {
  if (arn === null) return null;
  const parsed = parseArn(arn);
  if (!parsed || parsed.service !== 'iam' || parsed.region !== '') return arn;
  const m = /^(user|role)\/(?:.*\/)?([^/]+)$/.exec(parsed.resource);
  if (!m) return arn;
  return formatArn({ ...parsed, resource: `${m[1]}/${m[2]}` });
}

/**
 * The key of a Secrets Manager secret: its ARN without the six random characters Secrets Manager
 * appends to the name (`…:secret:prod/db-AbC123` → `…:secret:prod/db`), so a secret named in a
 * request and one named by its full ARN are one resource. The suffix is removed only when the ARN
 * ends in `-` and six letters or digits, as AWS makes them; any other text is returned unchanged.
 */
export function secretKey(arn: string): string {
  const parsed = parseArn(arn);
  if (parsed?.service !== 'secretsmanager' || !parsed.resource.startsWith('secret:')) return arn;
  return arn.replace(/-[A-Za-z0-9]{6}$/, '');
}
