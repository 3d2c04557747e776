/**
 * @module server/byte-reader
 * Pull-style reading of exact byte counts from a chunked stream: what a length-prefixed framing
 * needs (headers of fixed size, then a body of known length, streamed or buffered), without
 * copying more than one chunk at a time.
 */
import { FetchmlError } from '../core/errors.ts';

export class ByteReader {
  private readonly source: AsyncIterator<Buffer>;
  private pending: Buffer = Buffer.alloc(0);
  private done = false;
  /** Bytes consumed so far. */
  consumed = 0;

  constructor(source: AsyncIterable<Buffer | string>) {
    const iter = source[Symbol.asyncIterator]();
    this.source = {
      next: async () => {
        const r = await iter.next();
        if (r.done) return r;
        return { done: false, value: typeof r.value === 'string' ? Buffer.from(r.value) : r.value };
      },
    };
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.source.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    this.pending = this.pending.length === 0 ? r.value : Buffer.concat([this.pending, r.value]);
    return true;
  }

  /** Exactly `n` bytes; null at a clean end of stream (no byte read); throws on a partial read. */
  async readExact(n: number, what: string): Promise<Buffer | null> {
    while (this.pending.length < n) {
      if (!(await this.fill())) {
        if (this.pending.length === 0) return null;
        throw truncated(what, n, this.pending.length);
      }
    }
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    this.consumed += n;
    return out;
  }

  /** Yields exactly `n` bytes in chunks; throws when the stream ends first. */
  async *stream(n: number, what: string): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.pending.length === 0 && !(await this.fill())) throw truncated(what, n, n - left);
      const take = Math.min(left, this.pending.length);
      const chunk = this.pending.subarray(0, take);
      this.pending = this.pending.subarray(take);
      this.consumed += take;
      left -= take;
      yield chunk;
    }
  }
}

function truncated(what: string, wanted: number, got: number): FetchmlError {
  return new FetchmlError(
    'ML_ERR_VALIDATION',
    `body: truncated ${what} (expected ${wanted} bytes, got ${got})`,
  );
}

/** Yields `source`'s chunks, failing with ML_ERR_BODY_TOO_LARGE past `limit` bytes. */
export async function* limitBytes(
  source: AsyncIterable<Buffer | string>,
  limit: number,
): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const raw of source) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    total += chunk.length;
    if (total > limit) throw tooLarge(limit);
    yield chunk;
  }
}

export function tooLarge(limit: number): FetchmlError {
  return new FetchmlError(
    'ML_ERR_BODY_TOO_LARGE',
    `request body is larger than the server accepts (${Math.round(limit / 1048576)} MiB)`,
    { details: { limit_bytes: limit } },
  );
}
