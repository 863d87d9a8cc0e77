import { createHash } from 'node:crypto';

/** Hex sha256 of bytes: the checksum kept beside weights and cached clips. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
