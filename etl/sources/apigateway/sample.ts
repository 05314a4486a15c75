/**
 * Access logs of the company's orders REST API (stage `prod`, beside the web application's load
 * balancer), exported from CloudWatch Logs to S3 once a day:
 *
 *   API-Gateway-Access-Logs_<apiId>/<export task id>/<log stream>/000000.gz
 *
 * gzip'd CloudWatch Logs export lines, `<ISO ingestion time> <record>`, each record in the JSON
 * access log format with the documented keys (requestId, extendedRequestId, ip, principalId from
 * the Lambda authorizer, requestTime, httpMethod, resourcePath, status, …). A dozen or so requests
 * a day (times --scale) from the web application's customers, each signed in as a principal of
 * the authorizer.
 */
import { gzipSync } from 'node:zlib';
import { emptyStats, type ObjectOutput, type SourceStats, DAY_MS } from '../../../testkit/sample/output';
import { Rng } from '../../../testkit/sample/prng';
import { APP_REQUESTS, CUSTOMER_AGENTS, customerIp, fillPath } from '../../../testkit/sample/web-traffic';
import type { World } from '../../../testkit/sample/world';
import { defineSampleWriter, type SampleDay, type SampleWriter } from '../../../testkit/sample/writers';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `$context.requestTime`: dd/MMM/yyyy:HH:mm:ss +0000. */
function clfTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

class ApiGatewayWriter implements SampleWriter {
  readonly stats: SourceStats = emptyStats();
  private readonly apiId: string;
  private readonly principals: string[];

  constructor(
    private readonly world: World,
    private readonly scale: number,
    private readonly output: ObjectOutput,
  ) {
    const rng = new Rng(`${world.seed}:apigateway:api`);
    this.apiId = rng.chars('abcdefghijklmnopqrstuvwxyz0123456789', 10);
    // Cognito-style subjects the Lambda authorizer returns as principalId.
    this.principals = Array.from({ length: 4 }, () => rng.uuid());
  }

  writeDay(day: SampleDay): void {
    const { account, region } = this.world.estate.web.alb;
    const rng = new Rng(`${this.world.seed}:apigateway:${day.start}`);
    const lines: { time: number; text: string }[] = [];
    for (let n = Math.max(1, Math.round(rng.int(12, 18) * this.scale)); n > 0; n--) {
      const time = day.start + rng.int(0, DAY_MS - 60_000);
      const [method, path, status, min, max] = rng.pick(APP_REQUESTS.filter((r) => r[1].startsWith('/api/')));
      const requestPath = fillPath(rng, path);
      const record = {
        requestId: rng.uuid(),
        extendedRequestId: `${rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 15)}=`,
        apiId: this.apiId,
        stage: 'prod',
        domainName: `${this.apiId}.execute-api.${region}.amazonaws.com`,
        accountId: account,
        ip: customerIp(rng),
        principalId: rng.pick(this.principals),
        requestTime: clfTime(time),
        requestTimeEpoch: String(time),
        httpMethod: method,
        resourcePath: path,
        path: `/prod${requestPath.split('?')[0]}`,
        status: String(status),
        protocol: 'HTTP/1.1',
        responseLength: String(rng.int(min, max)),
        responseLatency: String(rng.int(12, 240)),
        userAgent: rng.pick(CUSTOMER_AGENTS),
      };
      // CloudWatch Logs takes the event in a moment after the request.
      lines.push({ time, text: `${new Date(time + rng.int(50, 900)).toISOString()} ${JSON.stringify(record)}` });
    }
    lines.sort((a, b) => a.time - b.time);
    const task = new Rng(`${this.world.seed}:apigateway:task:${day.start}`).uuid();
    const stream = new Rng(`${this.world.seed}:apigateway:stream:${day.start}`).hex(32);
    const key = `API-Gateway-Access-Logs_${this.apiId}/${task}/${stream}/000000.gz`;
    this.output.put(key, gzipSync(lines.map((l) => l.text).join('\n') + '\n'), lines.length, this.stats);
  }
}

export const sampleWriter = defineSampleWriter({
  source: 'apigateway',
  create: ({ world, scale, output }) => new ApiGatewayWriter(world, scale, output),
});
