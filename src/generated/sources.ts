/* eslint-disable */ // Generated from the folders of etl/sources/ by `npm run codegen`: do not edit.
export const SOURCE_IDS = [
  'alb',
  'apigateway',
  'azureactivity',
  'azuread',
  'cloudfront',
  'cloudtrail',
  'gcpaudit',
  'guardduty',
  'nsgflow',
  'route53resolver',
  's3access',
  'securityhub',
  'vpcflow',
] as const;
export type SourceId = (typeof SOURCE_IDS)[number];
