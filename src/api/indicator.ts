/**
 * contextFor: recognize an indicator (IP, access key, ARN, user name, bucket, domain) and hand
 * back its neighbourhood in one call, for SOAR playbooks that enrich an alert.
 */
import { isIP } from 'node:net';
import type { RequestContext } from './context';
import { bestIdentity, isBucketName, resolveResource } from './lookups';
import type { IndicatorContextModel, Window } from './models';

const ACCESS_KEY = /^(AKIA|ASIA)[A-Z0-9]{12,124}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$/i;

export async function indicatorContext(ctx: RequestContext, indicator: string, window: Window): Promise<IndicatorContextModel> {
  const base = { indicator, window, entity: null, domain: null };
  if (isIP(indicator)) {
    return { ...base, kind: 'IP_ADDRESS', entity: await ctx.loaders.entity.load({ type: 'IPAddress', key: indicator, window }) };
  }
  if (ACCESS_KEY.test(indicator)) {
    return { ...base, kind: 'ACCESS_KEY', entity: await ctx.loaders.entity.load({ type: 'Session', key: indicator, window }) };
  }
  if (indicator.startsWith('arn:')) {
    const isPrincipal = /^arn:[^:]+:(iam::\d*:(user|role|root)|sts::\d*:(assumed-role|federated-user))/.test(indicator);
    const entity = isPrincipal ? await bestIdentity(ctx, indicator, window) : await resolveResource(ctx, indicator, window);
    return { ...base, kind: 'ARN', entity };
  }
  // A bare word or dotted name: a bucket if the lake knows one by that name, else a domain or a user name.
  const bucket = isBucketName(indicator) ? await resolveResource(ctx, indicator, window) : null;
  if (bucket) return { ...base, kind: 'BUCKET', entity: bucket };
  if (DOMAIN.test(indicator)) return { ...base, kind: 'DOMAIN', domain: indicator.toLowerCase().replace(/\.$/, '') };
  const identity = await bestIdentity(ctx, indicator, window);
  return { ...base, kind: identity ? 'USER_NAME' : 'UNKNOWN', entity: identity };
}
