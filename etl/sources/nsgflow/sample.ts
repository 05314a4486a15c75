/**
 * NSG flow logs (version 2) of the Azure VMs' network security groups, as Network Watcher writes
 * them to a storage account: one block blob per NSG, NIC (MAC) and hour, holding one
 * `{"records":[…]}` document with a record per minute.
 *
 *   insights-logs-networksecuritygroupflowevent/resourceId=/SUBSCRIPTIONS/<SUB>/RESOURCEGROUPS/<RG>/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/<NSG>/y=YYYY/m=MM/d=DD/h=HH/m=00/macAddress=<MAC>/PT1H.json
 *
 * Tuples: `ts,src,dst,sport,dport,T|U,I|O,A|D,B|C|E,packetsS2D,bytesS2D,packetsD2S,bytesD2S`.
 * Baseline: HTTPS out to the internet, office RDP/SSH to the bastion, internet scanners denied.
 */
import {
  type ObjectOutput,
  azureHourPath,
  emptyStats,
  isWorkHour,
  type SourceStats,
  DAY_MS,
  HOUR_MS,
} from '../../../testkit/sample/output';
import { Rng } from '../../../testkit/sample/prng';
import type { World } from '../../../testkit/sample/world';
import { defineSampleWriter, type SampleDay, type SampleWriter } from '../../../testkit/sample/writers';

const SCANNERS = ['192.0.2.240', '192.0.2.241', '192.0.2.244', '192.0.2.247', '192.0.2.250'];
const OUTSIDE = ['203.0.113.200', '203.0.113.214', '203.0.113.246'];

export class NsgFlowWriter implements SampleWriter {
  readonly stats: SourceStats = emptyStats();

  constructor(
    private readonly world: World,
    private readonly scale: number,
    private readonly output: ObjectOutput,
  ) {}

  writeDay(day: SampleDay): void {
    const dayStart = day.start;
    const az = this.world.estate.azure;
    for (const vm of az.vms) {
      const resourceId = `/SUBSCRIPTIONS/${az.subscriptionId.toUpperCase()}/RESOURCEGROUPS/${az.resourceGroup}/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/${vm.nsg}`;
      const systemId = new Rng(`${this.world.seed}:nsg-system:${vm.nsg}`).uuid();
      for (let hour = dayStart; hour < dayStart + DAY_MS; hour += HOUR_MS) {
        const rng = new Rng(`${this.world.seed}:nsg:${vm.nsg}:${hour}`);
        const records: unknown[] = [];
        let tuples = 0;
        for (let minute = 0; minute < 60; minute++) {
          const t0 = hour + minute * 60_000;
          const allowedOut: string[] = [];
          const allowedIn: string[] = [];
          const denied: string[] = [];
          const sec = () => String(Math.floor(t0 / 1000) + rng.int(0, 59));
          const busy = isWorkHour(t0) ? 1 : 0.3;
          for (let n = rng.poisson(0.12 * this.scale * busy); n > 0; n--) {
            const p = rng.int(4, 80);
            const q = rng.int(4, 120);
            allowedOut.push(
              `${sec()},${vm.privateIp},${rng.pick(OUTSIDE)},${rng.int(49152, 65535)},443,T,O,A,C,${p},${p * rng.int(80, 900)},${q},${q * rng.int(200, 1400)}`,
            );
          }
          if (vm.name.includes('bastion') && isWorkHour(t0)) {
            for (let n = rng.poisson(0.03 * this.scale); n > 0; n--) {
              const p = rng.int(40, 900);
              allowedIn.push(
                `${sec()},${rng.pick(this.world.offices).ip},${vm.privateIp},${rng.int(49152, 65535)},22,T,I,A,C,${p},${p * rng.int(70, 200)},${p},${p * rng.int(90, 400)}`,
              );
            }
          }
          for (let n = rng.poisson(0.05 * this.scale); n > 0; n--) {
            denied.push(
              `${sec()},${rng.pick(SCANNERS)},${vm.privateIp},${rng.int(1024, 65535)},${rng.pick([22, 3389, 445, 1433])},T,I,D,B,,,,`,
            );
          }
          const flows: unknown[] = [];
          if (denied.length) flows.push({ rule: 'DefaultRule_DenyAllInBound', flows: [{ mac: vm.mac, flowTuples: denied }] });
          if (allowedIn.length) flows.push({ rule: 'UserRule_allow-ssh-office', flows: [{ mac: vm.mac, flowTuples: allowedIn }] });
          if (allowedOut.length)
            flows.push({ rule: 'DefaultRule_AllowInternetOutBound', flows: [{ mac: vm.mac, flowTuples: allowedOut }] });
          if (flows.length === 0) continue;
          tuples += denied.length + allowedIn.length + allowedOut.length;
          records.push({
            time: new Date(t0 + 59_000 + rng.int(0, 999)).toISOString().replace('Z', '0000Z'),
            systemId,
            macAddress: vm.mac,
            category: 'NetworkSecurityGroupFlowEvent',
            resourceId,
            operationName: 'NetworkSecurityGroupFlowEvents',
            properties: { Version: 2, flows },
          });
        }
        if (records.length === 0) continue;
        const key = `insights-logs-networksecuritygroupflowevent/resourceId=${resourceId}/${azureHourPath(hour)}/macAddress=${vm.mac}/PT1H.json`;
        this.output.put(key, JSON.stringify({ records }), tuples, this.stats);
      }
    }
  }
}

export const sampleWriter = defineSampleWriter({
  source: 'nsgflow',
  create: ({ world, scale, output }) => new NsgFlowWriter(world, scale, output),
});
