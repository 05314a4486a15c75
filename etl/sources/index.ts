import type { SourceId } from '../../src/generated/sources';
import type { LogSource } from './types';
import { cloudtrail } from './cloudtrail';
import { vpcflow } from './vpcflow';
import { s3access } from './s3access';
import { alb } from './alb';
import { cloudfront } from './cloudfront';
import { route53resolver } from './route53resolver';
import { azuread } from './azuread';
import { azureactivity } from './azureactivity';
import { nsgflow } from './nsgflow';
import { gcpaudit } from './gcpaudit';

/** Every log source ScoutQL reads. Adding a source is one module plus one line here. */
export const SOURCES: readonly LogSource[] = [
  cloudtrail,
  vpcflow,
  s3access,
  alb,
  cloudfront,
  route53resolver,
  azuread,
  azureactivity,
  nsgflow,
  gcpaudit,
];

export function sourceById(id: SourceId): LogSource {
  const source = SOURCES.find((s) => s.id === id);
  if (!source) throw new Error(`unknown source '${id}'; known: ${SOURCES.map((s) => s.id).join(', ')}`);
  return source;
}
