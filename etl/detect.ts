import { SOURCES, sourceById } from './sources';
import type { LogSource } from './sources/types';
import type { SourceId } from '../src/generated/sources';
import { readHead, type ObjectRef } from './objects';

export type ObjectVerdict =
  | { kind: 'source'; source: LogSource }
  /** A known companion file that holds no log records (a CloudTrail digest). */
  | { kind: 'skip'; reason: string }
  /** Nothing recognizes it: the whole object is quarantined with this reason. */
  | { kind: 'unknown'; reason: string };

/** Below this confidence no source claims an object. */
const MIN_CONFIDENCE = 0.5;

/**
 * Decides which source reads an object, by content first (the key is only a hint each source may
 * use to break ties). With `forced`, that source reads the object whatever it looks like.
 */
export async function detectObject(object: ObjectRef, forced?: SourceId): Promise<ObjectVerdict> {
  if (forced) return { kind: 'source', source: sourceById(forced) };
  const read = await readHead(object);
  const error = read.error;
  // A UTF-8 byte-order mark is not content: the readers drop it (readLines(), the SQL path's plan),
  // so detection looks past it too, or a format anchored at the line start (ALB) is not recognized.
  const head = read.head.charCodeAt(0) === 0xfeff ? read.head.slice(1) : read.head;
  if (!head.trim()) {
    return { kind: 'unknown', reason: error ? `unreadable object: ${error.message}` : 'empty object' };
  }
  let best: { source: LogSource; confidence: number } | null = null;
  for (const source of SOURCES) {
    const detection = source.detect({ key: object.key, head });
    if ('skip' in detection) return { kind: 'skip', reason: detection.skip };
    if (detection.confidence >= MIN_CONFIDENCE && (!best || detection.confidence > best.confidence)) {
      best = { source, confidence: detection.confidence };
    }
  }
  if (best) return { kind: 'source', source: best.source };
  const firstLine = head.split('\n', 1)[0].slice(0, 120);
  return { kind: 'unknown', reason: `no source recognizes this format (first line: ${JSON.stringify(firstLine)})` };
}
