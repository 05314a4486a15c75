/**
 * The project's digests, in one place: SHA-1 names records whose provider gives them no id (a
 * stable key, not a security property); SHA-256 identifies objects and files (the manifest, the
 * digests a commit lists).
 */
import { createHash, type Hash } from 'node:crypto';

/** Hex SHA-1 of a text: the stable event id of a record that has none of its own. */
export function sha1Hex(data: string | Buffer): string {
  return createHash('sha1').update(data).digest('hex');
}

/** SHA-256 of a text or bytes, as bytes (seeds). */
export function sha256Bytes(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Hex SHA-256 of a text or bytes. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** An incremental SHA-256, for content read in chunks (`update` each, then `digest('hex')`). */
export function sha256Hasher(): Hash {
  return createHash('sha256');
}
