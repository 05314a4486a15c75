/**
 * malicious-domain-lookup (T1071.004): worker-1 resolves a known-bad domain (Resolver query logs,
 * `srcids.instance`) before and during the exfiltration; it answers the attacker's address. Told
 * within s3-exfiltration (stories/s3-exfiltration.ts), on its random stream: the lookups interleave
 * with the downloads.
 */
import { isoSeconds } from '../../../etl/sources/cloudtrail/sample-records';
import { resolverLine, resolverLines } from '../../../etl/sources/route53resolver/sample';
import type { Story } from '../story';
import type { Teller } from '../teller';
import type { Instance } from '../world';

export interface Expect {
  instanceId: string;
  vpcId: string;
  domain: string;
  resolvedIp: string;
  queries: number;
  queryEventIds: string[];
  firstQuery: string;
}

export const BAD_DOMAIN = 'cdn-sync.update-telemetry.example';
/** The drop host the domain resolves to, where the exports go. */
export const EXFIL_IP = '192.0.2.95';

/** The instance's queries for the domain, planned as the exfiltration goes. */
export class DomainLookups {
  private readonly queryIds: string[] = [];
  private firstQuery: number | null = null;

  constructor(
    private readonly teller: Teller,
    private readonly instance: Instance,
  ) {}

  query(at: number): void {
    const { teller, instance } = this;
    const line = resolverLine(teller.world, teller.rng, {
      time: at,
      instance,
      name: BAD_DOMAIN,
      type: 'A',
      rcode: 'NOERROR',
      answers: [{ Rdata: EXFIL_IP, Type: 'A', Class: 'IN' }],
    });
    teller.emit(resolverLines, line);
    this.queryIds.push(line.eventId);
    this.firstQuery ??= at;
    teller.note({
      source: 'route53resolver',
      time: isoSeconds(at),
      account: instance.account,
      region: instance.region,
      action: 'Query',
      outcome: 'success',
      eventId: line.eventId,
      ip: instance.privateIp,
    });
  }

  story(): Story<'malicious-domain-lookup'> {
    const { instance } = this;
    return this.teller.story(
      'malicious-domain-lookup',
      {
        title: 'An instance resolves a known-bad domain around the exfiltration',
        technique: 'T1071.004',
        summary: `${instance.name} (${instance.id}) asks the VPC resolver for ${BAD_DOMAIN}, a domain on the threat list, which answers ${EXFIL_IP}, the address the instance then sends the exports to.`,
        account: instance.account,
        region: instance.region,
        actors: [],
        resources: [`arn:aws:ec2:${instance.region}:${instance.account}:instance/${instance.id}`],
      },
      {},
      {
        instanceId: instance.id,
        vpcId: instance.vpcId,
        domain: BAD_DOMAIN,
        resolvedIp: EXFIL_IP,
        queries: this.queryIds.length,
        queryEventIds: this.queryIds,
        firstQuery: isoSeconds(this.firstQuery ?? 0),
      },
    );
  }
}

/** Project rules (files under rules/) that must fire on this story, its events among their evidence (test/rules/stories.test.ts). */
// None yet: telling the drop host from other domains needs threat intelligence the lake does not hold.
export const rules: readonly string[] = [];
