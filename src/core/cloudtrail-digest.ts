/**
 * What makes an object a CloudTrail digest file, by its structure: a JSON object whose top level
 * holds the digest's own fields ("CloudTrail digest file structure" in the user guide) and no
 * `Records`. Shared by the ingest, which skips digests, and by `verify cloudtrail`, which reads
 * them: a log record may carry any text in its fields (a tag, a user agent), so the field names
 * appearing somewhere in an object prove nothing and must never hide a log file.
 */

/** Top-level text fields that say what a digest is (its period and where it was delivered), besides `logFiles`. */
export const DIGEST_TOP_LEVEL_FIELDS = ['digestStartTime', 'digestEndTime', 'digestS3Bucket', 'digestS3Object'] as const;

/**
 * Whether a parsed JSON value is a digest by its structure: an object whose top level has the
 * digest's fields (as strings) and a `logFiles` array, and no `Records`.
 */
export function isDigestDocument(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const top = value as Record<string, unknown>;
  if ('Records' in top) return false;
  return DIGEST_TOP_LEVEL_FIELDS.every((name) => typeof top[name] === 'string') && Array.isArray(top['logFiles']);
}

/**
 * Whether the first bytes of an object (decompressed text, possibly cut short) are a digest's.
 * A head that is one whole JSON value is judged by isDigestDocument. A digest too big for the
 * head (one listing thousands of log files) is cut inside its `logFiles`, which CloudTrail writes
 * last: it counts as a digest when its top level, as far as it goes, has every digest field,
 * `logFiles` and no `Records`. Text inside strings and nested objects is never a top-level key.
 */
export function isDigestHead(head: string): boolean {
  const text = head.replace(/^\uFEFF/, '');
  // Cheap first: without the names anywhere there is nothing to parse (most objects, every log file).
  if (!/^\s*\{/.test(text) || !DIGEST_TOP_LEVEL_FIELDS.every((name) => text.includes(`"${name}"`))) return false;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const keys = topLevelKeys(text);
    if (!keys || keys.complete) return false; // malformed, or whole and still not JSON: not a digest
    return !keys.names.has('Records') && keys.names.has('logFiles') && DIGEST_TOP_LEVEL_FIELDS.every((name) => keys.names.has(name));
  }
  return isDigestDocument(value);
}

/**
 * The keys of the top-level object of a JSON text, as far as the text goes: a scan that follows
 * strings (with escapes) and nesting only, so a quoted or nested `"digestStartTime":` is not a key.
 * Null when the text is not an object or breaks JSON's structure before it ends; `complete` when the
 * object closes.
 */
export function topLevelKeys(text: string): { names: Set<string>; complete: boolean } | null {
  const names = new Set<string>();
  let i = text.search(/\S/);
  if (i < 0 || text[i] !== '{') return null;
  let depth = 0;
  // At depth 1, a string read where a key is expected is a key.
  let expectKey = false;
  const n = text.length;
  for (; i < n; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      let value = '';
      while (j < n && text[j] !== '"') {
        if (text[j] === '\\') j++;
        j++;
      }
      if (j >= n) return { names, complete: false }; // cut inside a string
      if (depth === 1 && expectKey) {
        try {
          value = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          return null;
        }
        names.add(value);
        expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      if (depth === 1) expectKey = true;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth < 0) return null;
      if (depth === 0) return text.slice(i + 1).trim() === '' ? { names, complete: true } : null;
    } else if (c === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return { names, complete: false };
}
