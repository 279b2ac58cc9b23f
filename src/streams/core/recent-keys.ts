/**
 * The last `capacity` keys seen, oldest first: the bounded memory a parser uses to drop a
 * liquidation it was already given (a venue's replay after a resubscribe, the same push on two
 * connections). A key is kept as a 53-bit hash, not its text: two 32-bit FNV-1a hashes with
 * different offsets, about 20 bytes a key in a `Set` instead of about 250 for the string, which
 * matters against the per-instrument memory target. Two different keys share a hash with
 * probability about n² / 2^54 (2,000 keys: 2 × 10^-10), which would drop one liquidation.
 */
export class RecentKeys {
  private readonly hashes = new Set<number>();

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`capacity must be at least 1: ${capacity}`);
  }

  has(key: string): boolean {
    return this.hashes.has(keyHash(key));
  }

  /** Remembers `key`; true the first time, false when it was already among the remembered. */
  add(key: string): boolean {
    const h = keyHash(key);
    if (this.hashes.has(h)) return false;
    this.hashes.add(h);
    // A Set iterates in insertion order: the first hash is the oldest.
    if (this.hashes.size > this.capacity) this.hashes.delete(this.hashes.values().next().value!);
    return true;
  }

  get size(): number {
    return this.hashes.size;
  }
}

/** 53 bits of two FNV-1a hashes of `text` (a safe integer, so a `Set` of numbers holds it exactly). */
export function keyHash(text: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x9e3779b9;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0) * 2 ** 21 + ((b >>> 0) & 0x1fffff);
}
