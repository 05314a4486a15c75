/**
 * cloudtrail-tampering (T1562.008): StopLogging then DeleteTrail on the dev account's own trail.
 */
import { iamUserIdentity, type Caller } from '../../../etl/sources/cloudtrail/sample-records';
import { type Story } from '../story';
import { MINUTE, type Teller, anchor, storyPlanner } from '../teller';
import { mustUser } from '../world';

export interface Expect {
  actor: string;
  trailArn: string;
  stopLoggingEventId: string;
  deleteTrailEventId: string;
}

/** Plans the story from its own random stream (`<seed>:story:cloudtrail-tampering`). */
export const plan = storyPlanner('cloudtrail-tampering', 'story', tell);

function tell(t: Teller): Story<'cloudtrail-tampering'> {
  const { world, rng } = t;
  const user = mustUser(world, 'dev/legacy-admin');
  const trail = world.devLocalTrail;
  const ip = '192.0.2.150';
  const ua = 'aws-cli/1.29.62 Python/3.11.6 Linux/6.5.0-1022-aws botocore/1.31.62';
  const caller: Caller = { identity: iamUserIdentity(user), sourceIp: ip, userAgent: ua };
  let time = anchor(world, rng, 0.8, 21, 15);
  const base = { account: user.account, region: trail.homeRegion, service: 'cloudtrail', caller };
  t.call(
    { ...base, time, name: 'DescribeTrails', readOnly: true, requestParameters: { trailNameList: [], includeShadowTrails: true } },
    user.arn,
  );
  time += rng.int(10, 30) * 1000;
  t.call({ ...base, time, name: 'GetTrailStatus', readOnly: true, requestParameters: { name: trail.arn } }, user.arn);
  time += rng.int(10, 30) * 1000;
  const stop = t.call(
    {
      ...base,
      time,
      name: 'StopLogging',
      readOnly: false,
      requestParameters: { name: trail.arn },
      resources: [{ accountId: user.account, type: 'AWS::CloudTrail::Trail', ARN: trail.arn }],
    },
    user.arn,
  );
  time += rng.int(3, 8) * MINUTE;
  const del = t.call(
    {
      ...base,
      time,
      name: 'DeleteTrail',
      readOnly: false,
      requestParameters: { name: trail.arn },
      resources: [{ accountId: user.account, type: 'AWS::CloudTrail::Trail', ARN: trail.arn }],
    },
    user.arn,
  );
  const story = t.story(
    'cloudtrail-tampering',
    {
      title: 'Logging is stopped and the account trail deleted',
      technique: 'T1562.008',
      summary: `${user.name} (dev) stops logging on ${trail.name} and deletes it minutes later, from ${ip}. The organization trail keeps recording, which is why this sample still has the events.`,
      account: user.account,
      region: trail.homeRegion,
      actors: [user.arn],
      resources: [trail.arn],
    },
    { [ip]: 'RO' },
    {
      actor: user.arn,
      trailArn: trail.arn,
      stopLoggingEventId: stop.record.eventID as string,
      deleteTrailEventId: del.record.eventID as string,
    },
  );
  return story;
}

/** Project rules (files under rules/) that must fire on this story, its events among their evidence (test/rules/stories.test.ts). */
export const rules: readonly string[] = ['aws/cloudtrail/cloudtrail_logging_stopped.yml'];
