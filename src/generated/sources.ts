/* eslint-disable */ // Generated from the folders of etl/sources/ by `npm run codegen`: do not edit.
export const SOURCE_IDS = [
  'cloudtrail',
  'vpcflow',
  's3access',
  'alb',
  'cloudfront',
  'route53resolver',
  'azuread',
  'azureactivity',
  'nsgflow',
  'gcpaudit',
] as const;
export type SourceId = (typeof SOURCE_IDS)[number];
