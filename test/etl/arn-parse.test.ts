/**
 * parseArn finds the five colons one after the other instead of splitting the whole text: the same
 * answer as the split it replaced (kept here as the reference) for ARNs the ETL meets and for
 * every near-miss (too few parts, empty partition or service, colons in the resource).
 */
import { parseArn, type Arn } from '../../src/core/arn';

function splitReference(text: string | null | undefined): Arn | null {
  if (!text || !text.startsWith('arn:')) return null;
  const parts = text.split(':');
  if (parts.length < 6 || !parts[1] || !parts[2]) return null;
  return { partition: parts[1], service: parts[2], region: parts[3] ?? '', account: parts[4] ?? '', resource: parts.slice(5).join(':') };
}

const samples: (string | null | undefined)[] = [
  null,
  undefined,
  '',
  'arn',
  'arn:',
  'arn:aws',
  'arn:aws:',
  'arn:aws:s3',
  'arn:aws:s3:',
  'arn:aws:s3::',
  'arn:aws:s3:::',
  'arn:aws:s3:::bucket',
  'arn:aws:s3:::bucket/key:with:colons',
  'arn::s3:::bucket',
  'arn:aws::::bucket',
  'arn:::::',
  'ARN:aws:s3:::bucket',
  ' arn:aws:s3:::bucket',
  'arn:aws:iam::123456789012:role/path/Name',
  'arn:aws:sts::123456789012:assumed-role/Admin/session',
  'arn:aws-cn:lambda:cn-north-1:123456789012:function:fn:PROD',
  'arn:aws-us-gov:ec2:us-gov-west-1:123456789012:instance/i-0abc',
  'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/x:*',
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf',
  'arn:aws:s3:::::',
  'arn:aws:s3:eu:acct',
  'arn:aws:s3:eu:acct:',
  'arn:é:☃:ü::𝄞:x',
];

test('parseArn answers as the split it replaced, for every sample', () => {
  for (const text of samples) expect({ text, arn: parseArn(text) }).toEqual({ text, arn: splitReference(text) });
});

test('parseArn answers as the split for generated texts of colons and letters', () => {
  const alphabet = [':', 'a', '', 'arn:', '/'];
  let checked = 0;
  const differing: string[] = [];
  const build = (prefix: string, depth: number): void => {
    if (JSON.stringify(parseArn(prefix)) !== JSON.stringify(splitReference(prefix))) differing.push(prefix);
    checked++;
    if (depth === 0) return;
    for (const piece of alphabet) if (piece) build(prefix + piece, depth - 1);
  };
  build('arn:', 7);
  expect(differing).toEqual([]);
  expect(checked).toBeGreaterThan(20_000);
});
