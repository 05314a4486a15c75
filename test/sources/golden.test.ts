/**
 * The golden files of every registered source (etl/sources/<id>/golden/): a new source's files
 * run here with no test file added, and detection is checked across all of them.
 */
import { basename, join } from 'node:path';
import { listLocalObjects, readHead } from '../../etl/objects';
import { SOURCES } from '../../etl/sources';
import { describeGoldenFiles, goldenDir, goldenSamples } from './golden';

for (const source of SOURCES) describeGoldenFiles(source);

/** Golden files whose format content alone cannot tell (they are read with `--source` or a source option), with why. */
const READ_ONLY_WHEN_FORCED: Record<string, string> = {
  'vpcflow/headerless-custom-format.log':
    'a header-less custom format (CloudWatch Logs or Firehose delivery): only --vpcflow-format says which field is which',
};

describe('detection over every golden file', () => {
  test("each source claims its own golden files and no other source's", async () => {
    const wrong: string[] = [];
    for (const owner of SOURCES) {
      const dir = goldenDir(owner);
      const names = new Set(goldenSamples(dir));
      for await (const object of listLocalObjects([dir])) {
        if (!names.has(basename(object.key))) continue;
        const { head } = await readHead(object);
        const file = `${owner.id}/${basename(object.key)}`;
        for (const source of SOURCES) {
          const detection = source.detect({ key: object.key, head });
          const claims = 'skip' in detection || detection.confidence >= 0.5;
          const shouldClaim = source === owner && !(file in READ_ONLY_WHEN_FORCED);
          if (claims !== shouldClaim) wrong.push(`${source.id} ${claims ? 'claims' : 'does not claim'} ${file}: ${JSON.stringify(detection)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  test('the files read only when forced exist, and their source does not claim them', async () => {
    for (const file of Object.keys(READ_ONLY_WHEN_FORCED)) {
      const [id, name] = file.split('/');
      const source = SOURCES.find((s) => s.id === id)!;
      const [object] = await collect(listLocalObjects([join(goldenDir(source), name)]));
      const detection = source.detect({ key: object.key, head: (await readHead(object)).head });
      expect(detection).toEqual({ confidence: 0 });
    }
  });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
