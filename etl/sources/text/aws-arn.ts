/** The ARN partition of a region: `aws`, `aws-cn` (China) or `aws-us-gov` (GovCloud). */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** `arn:<partition>:<service>:<region>:<account>:<resource>` split into its parts, or null. */
export interface ArnParts {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

export function parseArn(arn: string | null | undefined): ArnParts | null {
  if (!arn || !arn.startsWith('arn:')) return null;
  let from = 4;
  const parts: string[] = [];
  for (let i = 0; i < 4; i++) {
    const colon = arn.indexOf(':', from);
    if (colon === -1) return null;
    parts.push(arn.slice(from, colon));
    from = colon + 1;
  }
  return { partition: parts[0], service: parts[1], region: parts[2], account: parts[3], resource: arn.slice(from) };
}
