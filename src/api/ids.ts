/** Global ids (base64 of `Type:id`) and opaque cursors. */
import { apiError } from './errors';

export function toGlobalId(type: string, key: string): string {
  return Buffer.from(`${type}:${key}`, 'utf8').toString('base64');
}

export function fromGlobalId(id: string): { type: string; key: string } {
  const text = Buffer.from(id, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  // Re-encoding must give the input back: rejects garbage that base64 decoding would silently accept.
  if (colon <= 0 || toGlobalId(text.slice(0, colon), text.slice(colon + 1)).replace(/=+$/, '') !== id.replace(/=+$/, '')) {
    throw apiError('not a valid node id', 'BAD_USER_INPUT');
  }
  return { type: text.slice(0, colon), key: text.slice(colon + 1) };
}

export function offsetCursor(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64');
}

export function parseOffsetCursor(cursor: string | null | undefined): number {
  if (cursor === null || cursor === undefined) return 0;
  const m = /^o:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  if (!m) throw apiError('after is not a cursor from this connection', 'BAD_USER_INPUT');
  return Number(m[1]);
}

export function jsonCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

export function parseJsonCursor(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64').toString('utf8'));
  } catch {
    throw apiError('after is not a cursor from this connection', 'BAD_USER_INPUT');
  }
}
