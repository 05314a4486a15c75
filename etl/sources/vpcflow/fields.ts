/**
 * The fields of VPC flow log records and Transit Gateway flow log records, as AWS documents them
 * ("Flow log records" in the Amazon VPC User Guide; "Transit Gateway Flow Log records" in the
 * Transit Gateway guide), and the format strings (`${version} ${account-id} …`) that name them.
 */

/** Every documented VPC flow log field, in the order AWS documents them (the order "all fields" uses). */
export const VPC_FIELDS = [
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
  // version 3
  'vpc-id',
  'subnet-id',
  'instance-id',
  'tcp-flags',
  'type',
  'pkt-srcaddr',
  'pkt-dstaddr',
  // version 4
  'region',
  'az-id',
  'sublocation-type',
  'sublocation-id',
  // version 5
  'pkt-src-aws-service',
  'pkt-dst-aws-service',
  'flow-direction',
  'traffic-path',
  // version 7
  'ecs-cluster-arn',
  'ecs-cluster-name',
  'ecs-container-instance-arn',
  'ecs-container-instance-id',
  'ecs-container-id',
  'ecs-second-container-id',
  'ecs-service-name',
  'ecs-task-definition-arn',
  'ecs-task-arn',
  'ecs-task-id',
  // version 8
  'reject-reason',
] as const;

/**
 * Transit Gateway flow log fields in their documented order: the default format is all of them
 * (versions 2 to 6), in this order. There is no action and no interface id; the attachment, the
 * VPCs, subnets, ENIs and zones on either side, and the packets the gateway dropped are their own.
 */
export const TGW_FIELDS = [
  'version',
  'resource-type',
  'account-id',
  'tgw-id',
  'tgw-attachment-id',
  'tgw-src-vpc-account-id',
  'tgw-dst-vpc-account-id',
  'tgw-src-vpc-id',
  'tgw-dst-vpc-id',
  'tgw-src-subnet-id',
  'tgw-dst-subnet-id',
  'tgw-src-eni',
  'tgw-dst-eni',
  'tgw-src-az-id',
  'tgw-dst-az-id',
  'tgw-pair-attachment-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'log-status',
  'type',
  'packets-lost-no-route',
  'packets-lost-blackhole',
  'packets-lost-mtu-exceeded',
  'packets-lost-ttl-expired',
  'tcp-flags',
  'region',
  'flow-direction',
  'pkt-src-aws-service',
  'pkt-dst-aws-service',
] as const;

/** Field names a header line or a format string may use. */
export const KNOWN_FIELDS: ReadonlySet<string> = new Set<string>([...VPC_FIELDS, ...TGW_FIELDS, 'resource-id', 'encryption-status']);

/**
 * The field names of a format string as AWS writes it (`${version} ${account-id} …`, the
 * `LogFormat` of a flow log, what `--vpcflow-format` takes) or a plain list of names; an error
 * message when it names no field or an unknown one.
 */
export function fieldsOfFormat(format: string): string[] | string {
  const placeholders = [...format.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1].trim());
  const names = placeholders.length ? placeholders : format.trim().split(/\s+/).filter(Boolean);
  if (names.length === 0) return 'the flow log format names no field (want e.g. "${version} ${account-id} ${interface-id} …")';
  const unknown = names.filter((n) => !KNOWN_FIELDS.has(n));
  if (unknown.length) return `the flow log format names unknown fields: ${unknown.join(', ')}`;
  return names;
}
