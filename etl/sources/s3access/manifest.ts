import { defineManifest } from '../types';

export const manifest = defineManifest({
  id: 's3access',
  provider: 'aws',
  product: 'Amazon S3 server access logs',
  order: 3,
  tables: ['http_activity'],
  objects: {
    content:
      'Space-separated lines: 64-hex bucket owner, bucket, [dd/Mon/yyyy:HH:MM:SS +zzzz], remote IP, requester, request id, operation…',
    // Objects are named `<prefix>YYYY-mm-DD-HH-MM-SS-<16 hex>`.
    keyPatterns: [/(^|\/)\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}$/],
  },
  identity: { columns: ['event_id', 'time'], doc: 'the request id (with the key or GET for batch and website operations), with the time' },
  // The server access log's operation (REST.<method>.<resource type>) for each API action CloudTrail names.
  actions: {
    'REST.GET.OBJECT': 'GetObject',
    'REST.HEAD.OBJECT': 'HeadObject',
    'REST.PUT.OBJECT': 'PutObject',
    'REST.DELETE.OBJECT': 'DeleteObject',
    'REST.COPY.OBJECT': 'CopyObject',
    'REST.POST.MULTI_OBJECT_DELETE': 'DeleteObjects',
    'REST.POST.UPLOADS': 'CreateMultipartUpload',
    'REST.PUT.PART': 'UploadPart',
    'REST.POST.UPLOAD': 'CompleteMultipartUpload',
    'REST.DELETE.UPLOAD': 'AbortMultipartUpload',
    'REST.GET.BUCKET': 'ListObjects',
    'REST.GET.BUCKETVERSIONS': 'ListObjectVersions',
    'REST.HEAD.BUCKET': 'HeadBucket',
    'REST.GET.LOCATION': 'GetBucketLocation',
    'REST.GET.BUCKETPOLICY': 'GetBucketPolicy',
    'REST.PUT.BUCKETPOLICY': 'PutBucketPolicy',
    'REST.DELETE.BUCKETPOLICY': 'DeleteBucketPolicy',
    'REST.GET.PUBLIC_ACCESS_BLOCK': 'GetPublicAccessBlock',
    'REST.PUT.PUBLIC_ACCESS_BLOCK': 'PutPublicAccessBlock',
    'REST.DELETE.PUBLIC_ACCESS_BLOCK': 'DeletePublicAccessBlock',
    'REST.GET.VERSIONING': 'GetBucketVersioning',
    'REST.PUT.VERSIONING': 'PutBucketVersioning',
    'REST.GET.ENCRYPTION': 'GetBucketEncryption',
    'REST.GET.LOGGING_STATUS': 'GetBucketLogging',
    'REST.PUT.LOGGING_STATUS': 'PutBucketLogging',
    'REST.GET.OBJECT_TAGGING': 'GetObjectTagging',
    'REST.PUT.OBJECT_TAGGING': 'PutObjectTagging',
  },
  graph: {
    entities: ['Identity', 'Resource', 'IPAddress', 'Account', 'UserAgent'],
    relations: ['from_ip', 'user_agent', 'in_region', 'in_account'],
  },
  bench: { duckdb: ['csv-space-quoted'], golden: { file: 'docs-example-records.log', repeat: 'lines' } },
});
