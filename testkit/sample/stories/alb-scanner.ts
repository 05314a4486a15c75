/**
 * alb-scanner (T1595.002): Nuclei and sqlmap user agents sweep sensitive paths on the ALB, mostly 404.
 */
import { albLine, loadBalancerArn, albLines } from '../../../etl/sources/alb/sample';
import { isoSeconds } from '../../../etl/sources/cloudtrail/sample-records';
import { type Story } from '../story';
import { MINUTE, type Teller, anchor, storyPlanner } from '../teller';

export interface Expect {
  ip: string;
  userAgents: string[];
  requests: number;
  notFound: number;
  paths: string[];
  loadBalancerArn: string;
}

const SCANNER_PATHS = [
  '/.env',
  '/.git/config',
  '/wp-login.php',
  '/wp-admin/',
  '/admin',
  '/phpmyadmin/',
  '/actuator/env',
  '/actuator/heapdump',
  '/server-status',
  '/config.json',
  '/backup.zip',
  '/.aws/credentials',
  '/api/v1/search?q=1%27%20OR%201=1--',
  '/cgi-bin/luci',
  '/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php',
  '/.DS_Store',
  '/debug/pprof/',
  '/login',
  '/api/v1/account',
];

/** Plans the story from its own random stream (`<seed>:estate-story:alb-scanner`). */
export const plan = storyPlanner('alb-scanner', 'estate-story', tell);

function tell(t: Teller): Story<'alb-scanner'> {
  const { world, rng } = t;
  const ip = '192.0.2.99';
  const agents = [
    'Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))',
    'sqlmap/1.8.2#stable (https://sqlmap.org)',
  ];
  let time = anchor(world, rng, 0.5, 5, 10);
  let notFound = 0;
  const paths: string[] = [];
  for (let round = 0; round < 3; round++) {
    const ua = round < 2 ? agents[0] : agents[1];
    for (const path of round < 2 ? SCANNER_PATHS : SCANNER_PATHS.filter((p) => p.startsWith('/api') || p === '/login')) {
      const known = path === '/login' || path.startsWith('/api/v1/');
      const status = known ? (path.includes('account') ? 401 : 200) : path === '/admin' ? 403 : 404;
      const line = albLine(world, rng, { time, clientIp: ip, method: 'GET', path, status, userAgent: ua, node: round % 2 });
      t.emit(albLines, line);
      if (status === 404) notFound++;
      if (!paths.includes(path)) paths.push(path);
      t.note({
        source: 'alb',
        time: isoSeconds(time),
        account: world.estate.web.alb.account,
        region: world.estate.web.alb.region,
        action: 'GET',
        outcome: status < 400 ? 'success' : 'failure',
        eventId: line.eventId,
        ip,
      });
      time += rng.int(150, 2500);
    }
    time += rng.int(1, 6) * MINUTE;
  }
  const requests = t.steps.length;
  const story = t.story(
    'alb-scanner',
    {
      title: 'A vulnerability scanner sweeps the public web application',
      technique: 'T1595.002',
      summary: `${ip} requests ${paths.length} well-known sensitive paths (/.env, /.git/config, actuator, phpunit…) from the ALB with Nuclei and then sqlmap user agents; most answers are 404.`,
      account: world.estate.web.alb.account,
      region: world.estate.web.alb.region,
      actors: [],
      resources: [loadBalancerArn(world)],
    },
    { [ip]: 'CN' },
    { ip, userAgents: agents, requests, notFound, paths, loadBalancerArn: loadBalancerArn(world) },
  );
  return story;
}

/** Project rules (files under rules/) that must fire on this story, its events among their evidence (test/rules/stories.test.ts). */
export const rules: readonly string[] = ['web/scanner_user_agent.yml', 'web/sensitive_path_probing.yml'];
