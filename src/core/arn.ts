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
  const parts = text.split(':');
  if (parts.length < 6 || !parts[1] || !parts[2]) return null;
  return { partition: parts[1], service: parts[2], region: parts[3] ?? '', account: parts[4] ?? '', resource: parts.slice(5).join(':') };
}

export function formatArn(arn: Arn): string {
  return `arn:${arn.partition}:${arn.service}:${arn.region}:${arn.account}:${arn.resource}`;
}

/** The partition a region belongs to (cn-north-1 → aws-cn, us-gov-west-1 → aws-us-gov…); `aws` otherwise. */
export function partitionForRegion(region: string | null | undefined): string {
  if (!region) return 'aws';
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('eu-isoe-')) return 'aws-iso-e';
  if (region.startsWith('us-isof-')) return 'aws-iso-f';
  return 'aws';
}

/** The partition of an ARN found in the record, else of its region. */
export function partitionOf(arnInRecord: string | null | undefined, region: string | null | undefined): string {
  return parseArn(arnInRecord)?.partition ?? partitionForRegion(region);
}
