/**
 * Microsoft Entra ID sign-in and audit logs, as a tenant diagnostic setting archives them to a
 * storage account: one append blob per category per hour, JSON lines.
 *
 *   insights-logs-signinlogs/resourceId=/tenants/<tenant>/providers/Microsoft.aadiam/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json
 *   insights-logs-auditlogs/resourceId=/tenants/<tenant>/providers/Microsoft.aadiam/y=…/PT1H.json
 *
 * Baseline: each person signs in on weekday mornings from their office with MFA (Office, the
 * Azure portal), sometimes mistypes a password, and people who federate into AWS sign in to the
 * AWS enterprise application (SAML) right before their AssumeRoleWithSAML in CloudTrail.
 */
import { type ObjectOutput, azureHourPath, emptyStats, type SourceStats, DAY_MS, HOUR_MS } from '../../../testkit/sample/output';
import { Rng } from '../../../testkit/sample/prng';
import type { Person, World } from '../../../testkit/sample/world';
import { storyChannel } from '../../../testkit/sample/plan';
import { defineSampleWriter, type SampleDay, type SampleWriter } from '../../../testkit/sample/writers';

export const AZURE_PORTAL = { appId: 'c44b4083-3bb0-49c1-b47d-974e53cbdf3c', displayName: 'Azure Portal' };
export const OFFICE = { appId: 'd3590ed6-52b3-4102-aeff-aad2292ab01c', displayName: 'Microsoft Office' };

export interface Place {
  country: string;
  city: string;
  state: string;
  lat: number;
  lon: number;
}

const PLACES: Record<string, Place> = {
  US: { country: 'US', city: 'New York', state: 'New York', lat: 40.7128, lon: -74.006 },
  DE: { country: 'DE', city: 'Berlin', state: 'Berlin', lat: 52.52, lon: 13.405 },
  NG: { country: 'NG', city: 'Lagos', state: 'Lagos', lat: 6.4541, lon: 3.3947 },
};

export function placeOf(country: string): Place {
  return PLACES[country] ?? { country, city: '', state: '', lat: 0, lon: 0 };
}

export interface SignInSpec {
  time: number;
  person: Person;
  ip: string;
  place: Place;
  userAgent: string;
  app: { appId: string; displayName: string };
  /** 0 for success, else the AADSTS error code (50126: bad password). */
  errorCode: number;
  mfa: boolean;
  /** SAML sign-in to an enterprise application. */
  saml?: boolean;
}

export interface AzureLine {
  time: number;
  kind: 'signin' | 'audit';
  text: string;
  /** The record's `properties.id`: the lake's event_id. */
  eventId: string;
}

/** Sign-in and audit lines the stories and the federation baseline plan. */
export const entraLines = storyChannel<AzureLine>('azuread', 'Entra ID sign-in and audit lines', (l) => l.time);

const FAILURES: Record<number, string> = {
  50126: 'Error validating credentials due to invalid username or password.',
  50074: 'Strong Authentication is required.',
  50140: "This error occurred due to 'Keep me signed in' interrupt when the user was signing-in.",
};

function browserOf(ua: string): { browser: string; os: string } {
  const os = /Windows/.test(ua) ? 'Windows 10' : /Mac OS X|Macintosh/.test(ua) ? 'MacOs' : /Android/.test(ua) ? 'Android' : 'Linux';
  const m = /Edg\/([\d.]+)/.exec(ua) ?? /Firefox\/([\d.]+)/.exec(ua) ?? /Chrome\/([\d.]+)/.exec(ua);
  const name = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : 'Chrome';
  return { browser: m ? `${name} ${m[1]}` : 'Unknown', os };
}

export function signInLine(world: World, rng: Rng, s: SignInSpec): AzureLine {
  const az = world.estate.azure;
  const upn = s.person.email;
  const id = rng.uuid();
  const correlationId = rng.uuid();
  const created = new Date(s.time).toISOString().replace('Z', '0000+00:00');
  const ok = s.errorCode === 0;
  const { browser, os } = browserOf(s.userAgent);
  const displayName = s.person.name
    .split('.')
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join(' ');
  const steps: Record<string, unknown>[] = [
    {
      authenticationStepDateTime: created,
      authenticationMethod: 'Password',
      succeeded: ok || s.errorCode !== 50126,
      authenticationStepResultDetail:
        s.errorCode === 50126 ? 'Invalid username or password or Invalid on-premise username or password.' : 'Correct password',
      authenticationStepRequirement: 'Primary authentication',
      StatusSequence: 0,
      RequestSequence: 1,
    },
  ];
  if (s.mfa && ok) {
    steps.push({
      authenticationStepDateTime: created,
      authenticationMethod: 'Mobile app notification',
      succeeded: true,
      authenticationStepResultDetail: 'MFA successfully completed',
      authenticationStepRequirement: 'Multifactor authentication',
      StatusSequence: 0,
      RequestSequence: 1,
    });
  }
  const status: Record<string, unknown> = { errorCode: s.errorCode };
  if (!ok) status.failureReason = FAILURES[s.errorCode] ?? 'Other.';
  if (ok && s.mfa) status.additionalDetails = 'MFA requirement satisfied by claim in the token';
  const record = {
    time: new Date(s.time).toISOString().replace('Z', '0000Z'),
    resourceId: `/tenants/${az.tenantId}/providers/Microsoft.aadiam`,
    operationName: 'Sign-in activity',
    operationVersion: '1.0',
    category: 'SignInLogs',
    tenantId: az.tenantId,
    resultType: String(s.errorCode),
    resultSignature: 'None',
    ...(ok ? {} : { resultDescription: FAILURES[s.errorCode] ?? 'Other.' }),
    durationMs: 0,
    callerIpAddress: s.ip,
    correlationId,
    identity: displayName,
    Level: 4,
    location: s.place.country,
    properties: {
      id,
      createdDateTime: created,
      userDisplayName: displayName,
      userPrincipalName: upn,
      userId: az.userObjectIds[upn.toLowerCase()],
      appId: s.app.appId,
      appDisplayName: s.app.displayName,
      ipAddress: s.ip,
      status,
      clientAppUsed: 'Browser',
      userAgent: s.userAgent,
      deviceDetail: { deviceId: '', operatingSystem: os, browser },
      location: {
        city: s.place.city,
        state: s.place.state,
        countryOrRegion: s.place.country,
        geoCoordinates: { latitude: s.place.lat, longitude: s.place.lon },
      },
      mfaDetail: s.mfa && ok ? { authMethod: 'Mobile app notification' } : {},
      correlationId,
      conditionalAccessStatus: 'notApplied',
      appliedConditionalAccessPolicies: [],
      originalRequestId: id,
      isInteractive: true,
      tokenIssuerName: '',
      tokenIssuerType: 'AzureAD',
      processingTimeInMilliseconds: rng.int(80, 900),
      riskDetail: 'none',
      riskLevelAggregated: 'none',
      riskLevelDuringSignIn: 'none',
      riskState: 'none',
      riskEventTypes: [],
      riskEventTypes_v2: [],
      resourceDisplayName: s.saml
        ? s.app.displayName
        : s.app === AZURE_PORTAL
          ? 'Windows Azure Service Management API'
          : 'Office 365 Exchange Online',
      resourceId: s.saml
        ? s.app.appId
        : s.app === AZURE_PORTAL
          ? '797f4846-ba00-4fd7-ba43-dac1f8f63013'
          : '00000002-0000-0ff1-ce00-000000000000',
      resourceTenantId: az.tenantId,
      homeTenantId: az.tenantId,
      authenticationDetails: steps,
      authenticationRequirementPolicies: [],
      authenticationRequirement: s.mfa ? 'multiFactorAuthentication' : 'singleFactorAuthentication',
      servicePrincipalId: '',
      userType: 'Member',
      flaggedForReview: false,
      isTenantRestricted: false,
      crossTenantAccessType: 'none',
      uniqueTokenIdentifier: Buffer.from(id).toString('base64').replace(/=+$/, ''),
      incomingTokenType: 'none',
      authenticationProtocol: s.saml ? 'saml20' : 'none',
    },
  };
  return { time: s.time, kind: 'signin', text: JSON.stringify(record), eventId: id };
}

export interface AuditSpec {
  time: number;
  activity: string;
  category: string;
  operationType: string;
  initiatedBy: { upn: string; ip: string } | { appId: string; displayName: string; servicePrincipalId: string };
  target: { id: string; displayName: string; type: string; userPrincipalName?: string };
}

export function auditLine(world: World, rng: Rng, s: AuditSpec): AzureLine {
  const az = world.estate.azure;
  const correlationId = rng.uuid();
  const id = `Directory_${correlationId}_${rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 5)}_${rng.int(10_000_000, 999_999_999)}`;
  const byUser = 'upn' in s.initiatedBy;
  const initiatedBy =
    'upn' in s.initiatedBy
      ? {
          user: {
            id: az.userObjectIds[s.initiatedBy.upn.toLowerCase()],
            displayName: null,
            userPrincipalName: s.initiatedBy.upn,
            ipAddress: s.initiatedBy.ip,
            roles: [],
          },
        }
      : {
          app: {
            appId: s.initiatedBy.appId,
            displayName: s.initiatedBy.displayName,
            servicePrincipalId: s.initiatedBy.servicePrincipalId,
            servicePrincipalName: null,
          },
        };
  const record = {
    time: new Date(s.time).toISOString().replace('Z', '0000Z'),
    resourceId: `/tenants/${az.tenantId}/providers/Microsoft.aadiam`,
    operationName: s.activity,
    operationVersion: '1.0',
    category: 'AuditLogs',
    tenantId: az.tenantId,
    resultSignature: 'None',
    durationMs: 0,
    callerIpAddress: 'upn' in s.initiatedBy ? s.initiatedBy.ip : '',
    correlationId,
    identity: byUser ? '' : (s.initiatedBy as { displayName: string }).displayName,
    Level: 4,
    properties: {
      id,
      category: s.category,
      correlationId,
      result: 'success',
      resultReason: '',
      activityDisplayName: s.activity,
      activityDateTime: new Date(s.time).toISOString().replace('Z', '0000+00:00'),
      loggedByService:
        s.category === 'UserManagement' && s.activity.includes('security info') ? 'Authentication Methods' : 'Core Directory',
      operationType: s.operationType,
      userAgent: null,
      initiatedBy,
      targetResources: [{ ...s.target, modifiedProperties: [], administrativeUnits: [] }],
      additionalDetails: [],
    },
  };
  return { time: s.time, kind: 'audit', text: JSON.stringify(record), eventId: id };
}

/** Weekday morning sign-ins of one person (and the odd mistyped password). */
function dailySignIns(world: World, person: Person, day: number, out: AzureLine[]): void {
  const dow = new Date(day).getUTCDay();
  if (dow === 0 || dow === 6) return;
  const rng = new Rng(`${world.seed}:entra:${person.name}:${day}`);
  const start = person.office.name === 'berlin-office' ? 7 : 13;
  let t = day + start * HOUR_MS + rng.int(0, 50) * 60_000 + rng.int(0, 59) * 1000;
  const place = placeOf(person.office.country);
  if (rng.chance(0.15)) {
    out.push(
      signInLine(world, rng, {
        time: t,
        person,
        ip: person.office.ip,
        place,
        userAgent: person.browser,
        app: OFFICE,
        errorCode: 50126,
        mfa: false,
      }),
    );
    t += rng.int(10, 60) * 1000;
  }
  out.push(
    signInLine(world, rng, {
      time: t,
      person,
      ip: person.office.ip,
      place,
      userAgent: person.browser,
      app: OFFICE,
      errorCode: 0,
      mfa: true,
    }),
  );
  if (rng.chance(0.5)) {
    t += rng.int(20, 240) * 60_000;
    out.push(
      signInLine(world, rng, {
        time: t,
        person,
        ip: person.office.ip,
        place,
        userAgent: person.browser,
        app: AZURE_PORTAL,
        errorCode: 0,
        mfa: true,
      }),
    );
  }
}

export class AzureAdWriter implements SampleWriter {
  readonly stats: SourceStats = emptyStats();

  constructor(
    private readonly world: World,
    private readonly output: ObjectOutput,
  ) {}

  /** `extra`: the day's story and federation sign-ins and audit records. */
  writeDay(day: SampleDay): void {
    const dayStart = day.start;
    const extra = day.items(entraLines);
    const lines: AzureLine[] = [...extra];
    for (const person of this.world.people) dailySignIns(this.world, person, dayStart, lines);
    // The nightly automation keeps group membership in sync.
    const rng = new Rng(`${this.world.seed}:entra-audit:${dayStart}`);
    const automation = this.world.estate.azure.automation;
    for (let i = rng.int(1, 3); i > 0; i--) {
      const person = rng.pick(this.world.people);
      lines.push(
        auditLine(this.world, rng, {
          time: dayStart + 2 * HOUR_MS + rng.int(0, 3600) * 1000,
          activity: 'Add member to group',
          category: 'GroupManagement',
          operationType: 'Assign',
          initiatedBy: { appId: automation.appId, displayName: automation.displayName, servicePrincipalId: automation.objectId },
          target: {
            id: this.world.estate.azure.userObjectIds[person.email],
            displayName: person.name,
            type: 'User',
            userPrincipalName: person.email,
          },
        }),
      );
    }
    this.writeHours(dayStart, lines);
  }

  private writeHours(dayStart: number, lines: AzureLine[]): void {
    const tenant = this.world.estate.azure.tenantId;
    for (const kind of ['signin', 'audit'] as const) {
      const folder = kind === 'signin' ? 'insights-logs-signinlogs' : 'insights-logs-auditlogs';
      for (let hour = dayStart; hour < dayStart + DAY_MS; hour += HOUR_MS) {
        const inHour = lines.filter((l) => l.kind === kind && l.time >= hour && l.time < hour + HOUR_MS).sort((a, b) => a.time - b.time);
        if (inHour.length === 0) continue;
        const key = `${folder}/resourceId=/tenants/${tenant}/providers/Microsoft.aadiam/${azureHourPath(hour)}/PT1H.json`;
        this.output.put(key, inHour.map((l) => l.text).join('\n') + '\n', inHour.length, this.stats);
      }
    }
  }
}

export const sampleWriter = defineSampleWriter({
  source: 'azuread',
  create: ({ world, output }) => new AzureAdWriter(world, output),
});
