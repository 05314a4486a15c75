/**
 * `GET /api/context/{indicator}`: contextFor as plain JSON in one stable shape, for SOAR tools that
 * call HTTP endpoints (and build integrations from OpenAPI, see openapi.ts) rather than GraphQL.
 *
 * The route runs one fixed GraphQL document (CONTEXT_DOCUMENT) through the same server, context and
 * resolvers as /graphql, so it gets the same authentication, account scope, limits, audit line and
 * stats; it is registered as the built-in persisted operation `api/context` (the name a `soar` key's
 * allow-list, auth.soarOperations, must hold). The zod schema below is the shape's one definition:
 * the OpenAPI document is generated from it, and a test checks real answers against that document.
 */
import { z } from 'zod';
import type { FindingLevel, FindingProduct, IndicatorKind, VerdictLabel, VerdictReasonCode } from '../../generated/graphql';
import { sha256, type PersistedQuery } from '../persisted';

/** Every value of a GraphQL enum, checked complete by the compiler (a Record needs every key). */
function enumOf<T extends string>(values: Record<T, true>) {
  return z.enum(Object.keys(values) as [T, ...T[]]);
}

const indicatorKind = enumOf<IndicatorKind>({
  IP_ADDRESS: true,
  CIDR: true,
  ACCESS_KEY: true,
  ARN: true,
  USER_NAME: true,
  EMAIL: true,
  ACCOUNT_ID: true,
  INSTANCE_ID: true,
  BUCKET: true,
  RESOURCE_NAME: true,
  DOMAIN: true,
  UNKNOWN: true,
});
const findingLevel = enumOf<FindingLevel>({ INFORMATIONAL: true, LOW: true, MEDIUM: true, HIGH: true, CRITICAL: true });
const findingProduct = enumOf<FindingProduct>({ SCOUTQL: true, GUARDDUTY: true, SECURITYHUB: true });
const verdictLabel = enumOf<VerdictLabel>({ UNKNOWN: true, NO_FINDINGS: true, SUSPICIOUS: true, MALICIOUS: true });
const reasonCode = enumOf<VerdictReasonCode>({ NO_DATA: true, NOT_SEEN: true, SEEN: true, FINDINGS: true });
const FOUND_AS = ['Identity', 'Session', 'IPAddress', 'Resource', 'Account', 'Domain'] as const;

const dateTime = z.iso.datetime({ offset: true }).describe('ISO 8601 instant in UTC.');
const count = z.number().int().min(0);

const relatedEntity = z
  .object({
    id: z.string().describe('Identity ARN (or provider id), session access key id, IP address or resource ARN / id.'),
    relation: z.string().describe('How it is linked to the indicator (from_ip, uses, an API action such as GetObject…).'),
    firstSeen: dateTime,
    lastSeen: dateTime,
    eventCount: count,
  })
  .strict();

const finding = z
  .object({
    findingId: z.string(),
    product: findingProduct,
    ruleId: z.string().describe('ScoutQL rule id, GuardDuty finding type or Security Hub generator id.'),
    title: z.string(),
    level: findingLevel,
    severity: z.number().int().min(0).describe('OCSF severity_id: 1 informational … 5 critical.'),
    techniques: z.array(z.string()).describe('MITRE ATT&CK technique ids.'),
    tactics: z.array(z.string()),
    firstSeen: dateTime,
    lastSeen: dateTime,
    account: z.string(),
    region: z.string().nullable(),
    identityId: z.string().nullable(),
    sessionId: z.string().nullable(),
    sourceIpAddress: z.string().nullable(),
    resourceIds: z.array(z.string()),
  })
  .strict();

const reason = z
  .object({
    code: reasonCode,
    score: z.number().int().min(0).max(3).describe('The score this reason alone gives.'),
    text: z.string().describe('The reason in words, for a ticket or a chat message.'),
    level: findingLevel.nullable().describe('FINDINGS: their level.'),
    count: count.describe('FINDINGS: findings at that level; SEEN: events in the window; otherwise 0.'),
    rules: z.array(z.string()).describe('FINDINGS: rule ids at that level, sorted.'),
  })
  .strict();

export const soarContextSchema = z
  .object({
    indicator: z.string(),
    kind: indicatorKind.describe('The kind of the first match; when nothing matched, what the indicator looks like.'),
    found: z.boolean(),
    kinds: z
      .object({
        tried: z.array(indicatorKind).describe('Every kind the indicator was tried as, in order.'),
        found: z.array(indicatorKind).describe('The kinds it was found as, in order.'),
      })
      .strict(),
    matches: z
      .array(
        z
          .object({
            kind: indicatorKind,
            foundAs: z.enum(FOUND_AS),
            id: z.string().describe("The matched entity's id (for a domain: the name)."),
          })
          .strict(),
      )
      .describe('What it was found as, best first.'),
    verdict: z
      .object({
        score: z
          .number()
          .int()
          .min(0)
          .max(3)
          .describe('0 unknown, 1 seen without findings, 2 suspicious, 3 malicious (as XSOAR DBotScore).'),
        label: verdictLabel,
        reasons: z.array(reason).describe('Strongest first.'),
      })
      .strict(),
    firstSeen: dateTime.nullable(),
    lastSeen: dateTime.nullable(),
    counts: z
      .object({
        events: count.describe('Events of what it matched in the window.'),
        findings: count.describe('Findings naming what it matched.'),
        identities: count,
        ips: count,
        resources: count,
        sessions: count,
      })
      .strict()
      .describe('Totals; the lists under `related` and `findings` hold at most `limit` of each.'),
    related: z
      .object({
        identities: z.array(relatedEntity),
        ips: z.array(relatedEntity),
        resources: z.array(relatedEntity),
        sessions: z.array(relatedEntity),
      })
      .strict()
      .describe('Entities linked to what it matched, the most active first.'),
    findings: z.array(finding).describe('The newest findings naming what it matched.'),
    window: z.object({ from: dateTime, to: dateTime }).strict().describe('The window read, [from, to).'),
    workbenchUrl: z.string().describe('The ScoutQL workbench page of this context (absolute when the server has server.publicUrl).'),
  })
  .strict()
  .describe('What the lake knows of one indicator in a window (ScoutQL contextFor).');

export type SoarContext = z.infer<typeof soarContextSchema>;

/** The one document the route runs; its variables come from the path and query string. */
export const CONTEXT_DOCUMENT = `query SoarContext($indicator: String!, $window: TimeWindow!, $limit: Int!) {
  contextFor(indicator: $indicator, window: $window) {
    indicator kind found tried kindsFound
    matches { kind foundAs domain entity { __typename ...on Identity { identityId } ...on Session { sessionId } ...on IPAddress { address } ...on Resource { resourceId } ...on Account { accountId } } }
    verdict { score label reasons { code score text level count rules } }
    firstSeen lastSeen eventCount findingCount
    window { from to }
    workbenchUrl
    identities(first: $limit) { totalCount edges { relation firstSeen lastSeen eventCount node { identityId } } }
    ips(first: $limit) { totalCount edges { relation firstSeen lastSeen eventCount node { address } } }
    resources(first: $limit) { totalCount edges { relation firstSeen lastSeen eventCount node { resourceId } } }
    sessions(first: $limit) { totalCount edges { relation firstSeen lastSeen eventCount node { sessionId } } }
    findings(first: $limit) {
      findingId product ruleId title level severity techniques tactics firstSeen lastSeen
      account region identityId sessionId sourceIpAddress resourceIds
    }
  }
}
`;

/** The route as a persisted operation: what authorization, the audit line and metrics name it by. */
export const CONTEXT_OPERATION: PersistedQuery = { name: 'api/context', sha256: sha256(CONTEXT_DOCUMENT), document: CONTEXT_DOCUMENT };

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 100;

export const CONTEXT_PATH = '/api/context/';

export type ContextRequest =
  { ok: true; indicator: string; window: { from: string; to: string } | null; limit: number } | { ok: false; message: string };

/** The indicator (the rest of the path, percent-decoded: an ARN or a CIDR range may hold `/`), window and limit. */
export function readContextRequest(rawPath: string, params: URLSearchParams): ContextRequest {
  let indicator: string;
  try {
    indicator = decodeURIComponent(rawPath.slice(CONTEXT_PATH.length)).trim();
  } catch {
    return { ok: false, message: 'the indicator in the path is not valid percent-encoding' };
  }
  if (!indicator) return { ok: false, message: 'name an indicator: /api/context/{indicator}' };
  const from = params.get('from');
  const to = params.get('to');
  if ((from === null) !== (to === null))
    return { ok: false, message: 'give both from and to (ISO 8601), or neither for the default window' };
  const limitText = params.get('limit');
  const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 0 || limit > MAX_LIMIT)
    return { ok: false, message: `limit is a whole number from 0 to ${MAX_LIMIT}` };
  return { ok: true, indicator, window: from !== null && to !== null ? { from, to } : null, limit };
}

interface LinkData {
  relation: string;
  firstSeen: string;
  lastSeen: string;
  eventCount: number;
  node: Record<string, string>;
}
interface ConnectionData {
  totalCount: number;
  edges: LinkData[];
}
interface ContextData {
  indicator: string;
  kind: IndicatorKind;
  found: boolean;
  tried: IndicatorKind[];
  kindsFound: IndicatorKind[];
  matches: { kind: IndicatorKind; foundAs: (typeof FOUND_AS)[number]; domain: string | null; entity: Record<string, string> | null }[];
  verdict: SoarContext['verdict'];
  firstSeen: string | null;
  lastSeen: string | null;
  eventCount: number;
  findingCount: number;
  window: { from: string; to: string };
  workbenchUrl: string;
  identities: ConnectionData;
  ips: ConnectionData;
  resources: ConnectionData;
  sessions: ConnectionData;
  findings: SoarContext['findings'];
}

/** The id an entity selection carries (identityId, sessionId, address, resourceId or accountId). */
function entityId(entity: Record<string, string>): string {
  const id = entity.identityId ?? entity.sessionId ?? entity.address ?? entity.resourceId ?? entity.accountId;
  if (typeof id !== 'string') throw new Error(`no id in ${entity.__typename ?? 'an entity'}`);
  return id;
}

const related = (connection: ConnectionData) =>
  connection.edges.map((e) => ({
    id: entityId(e.node),
    relation: e.relation,
    firstSeen: e.firstSeen,
    lastSeen: e.lastSeen,
    eventCount: e.eventCount,
  }));

/** CONTEXT_DOCUMENT's answer in the route's shape. */
export function soarContextOf(data: { contextFor: ContextData }): SoarContext {
  const c = data.contextFor;
  return {
    indicator: c.indicator,
    kind: c.kind,
    found: c.found,
    kinds: { tried: c.tried, found: c.kindsFound },
    matches: c.matches.map((m) => ({ kind: m.kind, foundAs: m.foundAs, id: m.entity ? entityId(m.entity) : (m.domain ?? '') })),
    verdict: c.verdict,
    firstSeen: c.firstSeen,
    lastSeen: c.lastSeen,
    counts: {
      events: c.eventCount,
      findings: c.findingCount,
      identities: c.identities.totalCount,
      ips: c.ips.totalCount,
      resources: c.resources.totalCount,
      sessions: c.sessions.totalCount,
    },
    related: { identities: related(c.identities), ips: related(c.ips), resources: related(c.resources), sessions: related(c.sessions) },
    findings: c.findings,
    window: c.window,
    workbenchUrl: c.workbenchUrl,
  };
}

/** The HTTP status of a GraphQL error code, for the route's refusals. */
export function statusOfCode(code: string): number {
  if (['BAD_USER_INPUT', 'WINDOW_TOO_LARGE', 'PAGE_TOO_LARGE', 'BAD_REQUEST', 'GRAPHQL_VALIDATION_FAILED'].includes(code)) return 400;
  if (code === 'FORBIDDEN') return 403;
  if (code === 'ENGINE_ERROR') return 502;
  if (code === 'LAKE_TAMPERED') return 503;
  return 500;
}
