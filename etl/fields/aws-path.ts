/**
 * What an object key says about the account and region of the logs in it. AWS delivers logs to
 * S3 under `…/AWSLogs/<account>/<service>/<region>/…` (VPC flow logs may use the Hive-style
 * `…/AWSLogs/aws-account-id=<account>/aws-service=<service>/aws-region=<region>/…`).
 * Keys are hints: a record's own fields win over them.
 */

export interface PathHints {
  account: string | null;
  region: string | null;
}

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

export function isAccountId(value: string | null | undefined): value is string {
  return !!value && ACCOUNT.test(value);
}

export function isRegion(value: string | null | undefined): value is string {
  return !!value && REGION.test(value);
}

/**
 * Account and region from an `AWSLogs/<account>/<service>/<region>/` key. `service` is the
 * folder name AWS uses (`vpcflowlogs`, `elasticloadbalancing`); without it, any service folder.
 */
export function awsLogsPathHints(key: string, service?: string): PathHints {
  const segments = key.split(/[/\\]/);
  const at = segments.lastIndexOf('AWSLogs');
  if (at === -1) return { account: null, region: null };
  const rest = segments.slice(at + 1);
  // Hive-compatible prefixes name each part.
  const named = (name: string) => rest.find((s) => s.startsWith(`${name}=`))?.slice(name.length + 1) ?? null;
  const hiveAccount = named('aws-account-id');
  if (hiveAccount !== null) {
    const hiveService = named('aws-service');
    if (service && hiveService !== null && hiveService !== service) return { account: null, region: null };
    const region = named('aws-region');
    return { account: isAccountId(hiveAccount) ? hiveAccount : null, region: isRegion(region) ? region : null };
  }
  // CloudTrail organization trails put `o-…` before the account; other services do not, but be lenient.
  const start = rest[0]?.startsWith('o-') ? 1 : 0;
  const account = rest[start];
  if (!isAccountId(account)) return { account: null, region: null };
  const folder = rest[start + 1];
  if (service && folder !== service) return { account, region: null };
  const region = rest[start + 2];
  return { account, region: isRegion(region) ? region : null };
}

/**
 * Account and region from any 12-digit segment of a key, for logs AWS writes under a prefix the
 * owner chose (S3 server access logs with date-based partitioning:
 * `<prefix><account>/<region>/<bucket>/YYYY/MM/DD/…`).
 */
export function accountSegmentHints(key: string): PathHints {
  const segments = key.split(/[/\\]/);
  for (let i = 0; i < segments.length - 1; i++) {
    if (isAccountId(segments[i])) {
      const region = segments[i + 1];
      return { account: segments[i], region: isRegion(region) ? region : null };
    }
  }
  return { account: null, region: null };
}
