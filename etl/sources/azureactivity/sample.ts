/**
 * The Azure Activity log of the company's subscription, as a subscription diagnostic setting
 * archives it to a storage account: one append blob per hour, JSON lines.
 *
 *   insights-activity-logs/resourceId=/SUBSCRIPTIONS/<SUB>/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json
 *
 * Each operation is logged as it starts and as it ends (one correlationId). Baseline: the nightly
 * automation service principal starts and stops the reporting VM and lists storage keys; people
 * deploy and edit network rules in work hours.
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

const CLAIMS = {
  upn: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn',
  name: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
  objectId: 'http://schemas.microsoft.com/identity/claims/objectidentifier',
  tenant: 'http://schemas.microsoft.com/identity/claims/tenantid',
  amr: 'http://schemas.microsoft.com/claims/authnmethodsreferences',
};

export interface ActivityLine {
  time: number;
  text: string;
}

interface Caller {
  upn?: string;
  appId?: string;
  objectId: string;
  ip: string;
}

function activityPair(
  world: World,
  rng: Rng,
  time: number,
  caller: Caller,
  operation: string,
  resourceId: string,
  role: string,
): ActivityLine[] {
  const az = world.estate.azure;
  const correlationId = rng.uuid();
  const claims: Record<string, string> = {
    aud: 'https://management.core.windows.net/',
    iss: `https://sts.windows.net/${az.tenantId}/`,
    iat: String(Math.floor(time / 1000) - 600),
    nbf: String(Math.floor(time / 1000) - 600),
    exp: String(Math.floor(time / 1000) + 3000),
    [CLAIMS.tenant]: az.tenantId,
    [CLAIMS.objectId]: caller.objectId,
    appid: caller.appId ?? '04b07795-8ddb-461a-bbee-02f9e1bf7b46',
    appidacr: caller.appId ? '1' : '0',
    uti: rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-', 22),
    ver: '1.0',
  };
  if (caller.upn) {
    claims[CLAIMS.upn] = caller.upn;
    claims[CLAIMS.name] = caller.upn;
    claims[CLAIMS.amr] = 'pwd,mfa';
  }
  const base = {
    resourceId,
    operationName: operation.toUpperCase(),
    category: 'Administrative',
    callerIpAddress: caller.ip,
    correlationId,
    identity: {
      authorization: {
        scope: resourceId,
        action: operation,
        evidence: {
          role,
          roleAssignmentScope: `/subscriptions/${az.subscriptionId}`,
          principalType: caller.upn ? 'User' : 'ServicePrincipal',
        },
      },
      claims,
    },
    level: 'Information',
    location: 'global',
  };
  const start = {
    time: new Date(time).toISOString().replace('Z', '0000Z'),
    ...base,
    resultType: 'Start',
    resultSignature: 'Started.',
    durationMs: 0,
    properties: {
      eventCategory: 'Administrative',
      entity: resourceId,
      message: operation,
      hierarchy: `${az.tenantId}/${az.subscriptionId}`,
    },
  };
  const endTime = time + rng.int(800, 40_000);
  const end = {
    time: new Date(endTime).toISOString().replace('Z', '0000Z'),
    ...base,
    resultType: 'Success',
    resultSignature: 'Succeeded.',
    durationMs: endTime - time,
    properties: {
      statusCode: 'OK',
      serviceRequestId: rng.uuid(),
      eventCategory: 'Administrative',
      entity: resourceId,
      message: operation,
      hierarchy: `${az.tenantId}/${az.subscriptionId}`,
    },
  };
  return [
    { time, text: JSON.stringify(start) },
    { time: endTime, text: JSON.stringify(end) },
  ];
}

export class AzureActivityWriter implements SampleWriter {
  readonly stats: SourceStats = emptyStats();

  constructor(
    private readonly world: World,
    private readonly scale: number,
    private readonly output: ObjectOutput,
  ) {}

  writeDay(day: SampleDay): void {
    const dayStart = day.start;
    const az = this.world.estate.azure;
    const rg = `/subscriptions/${az.subscriptionId}/resourceGroups/${az.resourceGroup}`;
    const vm = (name: string) => `${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;
    const automation: Caller = { appId: az.automation.appId, objectId: az.automation.objectId, ip: '203.0.113.245' };
    const lines: ActivityLine[] = [];
    for (let hour = dayStart; hour < dayStart + DAY_MS; hour += HOUR_MS) {
      const rng = new Rng(`${this.world.seed}:activity:${hour}`);
      const h = new Date(hour).getUTCHours();
      if (h === 1)
        lines.push(
          ...activityPair(
            this.world,
            rng,
            hour + rng.int(0, 600) * 1000,
            automation,
            'Microsoft.Compute/virtualMachines/start/action',
            vm('vm-reporting-01'),
            'Virtual Machine Contributor',
          ),
        );
      if (h === 4)
        lines.push(
          ...activityPair(
            this.world,
            rng,
            hour + rng.int(0, 600) * 1000,
            automation,
            'Microsoft.Compute/virtualMachines/deallocate/action',
            vm('vm-reporting-01'),
            'Virtual Machine Contributor',
          ),
        );
      if (h === 1)
        lines.push(
          ...activityPair(
            this.world,
            rng,
            hour + rng.int(600, 1800) * 1000,
            automation,
            'Microsoft.Storage/storageAccounts/listKeys/action',
            `${rg}/providers/Microsoft.Storage/storageAccounts/acmereportsprod`,
            'Storage Account Key Operator Service Role',
          ),
        );
      if (!isWorkHour(hour)) continue;
      for (let n = rng.poisson(1.5 * this.scale); n > 0; n--) {
        const person = rng.pick(this.world.people);
        const caller: Caller = { upn: person.email, objectId: az.userObjectIds[person.email], ip: person.office.ip };
        const [operation, resource] = rng.pick([
          ['Microsoft.Resources/deployments/write', `${rg}/providers/Microsoft.Resources/deployments/reporting-${rng.hex(6)}`],
          [
            'Microsoft.Network/networkSecurityGroups/securityRules/write',
            `${rg}/providers/Microsoft.Network/networkSecurityGroups/${az.vms[0].nsg}/securityRules/allow-https`,
          ],
          ['Microsoft.Compute/virtualMachines/restart/action', vm(rng.pick(az.vms).name)],
          ['Microsoft.Web/sites/config/write', `${rg}/providers/Microsoft.Web/sites/acme-reports/config/web`],
        ] as const);
        lines.push(...activityPair(this.world, rng, hour + rng.int(0, 3500) * 1000, caller, operation, resource, 'Contributor'));
      }
    }
    for (let hour = dayStart; hour < dayStart + DAY_MS; hour += HOUR_MS) {
      const inHour = lines.filter((l) => l.time >= hour && l.time < hour + HOUR_MS).sort((a, b) => a.time - b.time);
      if (inHour.length === 0) continue;
      const key = `insights-activity-logs/resourceId=/SUBSCRIPTIONS/${az.subscriptionId.toUpperCase()}/${azureHourPath(hour)}/PT1H.json`;
      this.output.put(key, inHour.map((l) => l.text).join('\n') + '\n', inHour.length, this.stats);
    }
  }
}

export const sampleWriter = defineSampleWriter({
  source: 'azureactivity',
  create: ({ world, scale, output }) => new AzureActivityWriter(world, scale, output),
});
