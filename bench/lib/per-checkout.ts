/**
 * The harness of the micro-benches that compare checkouts on the same objects (bench/append.ts,
 * bench/parse.ts): each checkout measured in a child process of its own (its own modules, its own
 * JIT), rounds alternated so load drifts hit every checkout alike.
 *
 *   --input <folder of objects> [--checkouts <dir>,<dir>] [--rounds 3] [--source cloudtrail]
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { REPO, machine } from './measure';

export interface PerCheckoutRun<R> {
  input: string;
  sourceId: string;
  rounds: number;
  checkouts: string[];
  /** Each checkout's child results, one per round. */
  results: Map<string, R[]>;
}

/**
 * Run as the parent: runs `script` once per checkout per round with `--child <checkout>` and
 * returns the results. Run as that child: measures with `child` and writes its result for the
 * parent, returning null.
 */
export async function perCheckout<R>(
  args: Map<string, string | true>,
  script: string,
  child: (checkout: string, input: string, sourceId: string) => Promise<R>,
  describe: (result: R) => string,
): Promise<PerCheckoutRun<R> | null> {
  const sourceId = typeof args.get('source') === 'string' ? String(args.get('source')) : 'cloudtrail';
  if (!args.get('input')) throw new Error('--input <folder of objects> is required');
  const input = resolve(String(args.get('input')));
  if (typeof args.get('child') === 'string') {
    process.stdout.write(JSON.stringify(await child(String(args.get('child')), input, sourceId)));
    return null;
  }
  const checkouts = (typeof args.get('checkouts') === 'string' ? String(args.get('checkouts')).split(',') : [REPO]).map((c) => resolve(c));
  const rounds = Number(args.get('rounds') ?? 3);
  const results = new Map<string, R[]>(checkouts.map((c) => [c, []]));
  for (let round = 0; round < rounds; round++) {
    for (const checkout of checkouts) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', script, '--child', checkout, '--input', input, '--source', sourceId], {
        cwd: REPO,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      const result = JSON.parse(out) as R;
      results.get(checkout)!.push(result);
      console.log(`round ${round + 1} ${checkout}: ${describe(result)}`);
    }
  }
  console.log(
    `load average ${machine()
      .loadavg.map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  return { input, sourceId, rounds, checkouts, results };
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
