import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { encodeBatch } from '../client/blob-batch.ts';
import { sha256Hex } from '../core/hash.ts';
import { BLOB_BATCH_CONTENT_TYPE } from './blob-batch.ts';
import { errorOf, startTestServer } from './test-helpers.ts';
import type { TestServer } from './test-helpers.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ bodyLimitMb: 0.01, blobBodyLimitMb: 0.05 });
});
afterAll(() => t.cleanup());

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

const octets = { 'content-type': 'application/octet-stream' };

describe('blob routes', () => {
  it('stores a blob whose bytes match its hash', async () => {
    const data = Buffer.from('hello blob');
    const sha = sha256Hex(data);
    const before = await t.server.app.inject({
      method: 'POST',
      url: '/v1/blobs/missing',
      headers: t.auth,
      payload: { hashes: [sha] },
    });
    expect(before.json()).toEqual({ missing: [sha] });
    const res = await t.server.app.inject({
      method: 'PUT',
      url: `/v1/blobs/${sha}`,
      headers: { ...t.auth, ...octets },
      payload: data,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ sha256: sha, size: data.length });
    expect(await t.deps.blobs.has(sha)).toBe(true);
  });

  it('refuses bytes that do not match the hash (400) and stores nothing', async () => {
    const claimed = sha256Hex('something else');
    const res = await t.server.app.inject({
      method: 'PUT',
      url: `/v1/blobs/${claimed}`,
      headers: { ...t.auth, ...octets },
      payload: Buffer.from('tampered'),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'ML_ERR_BLOB_HASH_MISMATCH' } });
    expect(await t.deps.blobs.has(claimed)).toBe(false);
    expect(await t.deps.blobs.has(sha256Hex('tampered'))).toBe(false);
  });

  it('refuses a malformed hash in the path and in missing', async () => {
    const put = await t.server.app.inject({
      method: 'PUT',
      url: '/v1/blobs/ABC',
      headers: { ...t.auth, ...octets },
      payload: Buffer.from('x'),
    });
    expect(put.json()).toMatchObject({ error: { code: 'ML_ERR_BLOB_INVALID_HASH' } });
    const missing = await t.server.app.inject({
      method: 'POST',
      url: '/v1/blobs/missing',
      headers: t.auth,
      payload: { hashes: ['nope'] },
    });
    expect(missing.statusCode).toBe(400);
    expect(errorOf(missing).message).toContain('hashes.0');
  });

  it('stores a batch, verifying every blob', async () => {
    const blobs = ['a', 'bb', '', 'x'.repeat(5000)].map((s) => Buffer.from(s));
    const uploads = blobs.map((data) => ({ sha256: sha256Hex(data), size: data.length, data }));
    const res = await t.server.app.inject({
      method: 'POST',
      url: '/v1/blobs/batch',
      headers: { ...t.auth, 'content-type': BLOB_BATCH_CONTENT_TYPE },
      payload: await collect(encodeBatch(uploads)),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ stored: { sha256: string }[] }>().stored.map((s) => s.sha256)).toEqual(
      uploads.map((u) => u.sha256),
    );
    expect(await t.deps.blobs.missing(uploads.map((u) => u.sha256))).toEqual([]);
  });

  it('fails a batch with a lying frame (400) without storing that blob', async () => {
    const good = Buffer.from('good one');
    const bad = Buffer.from('bad one!');
    const liar = sha256Hex('claimed');
    const body = await collect(
      encodeBatch([
        { sha256: sha256Hex(good), size: good.length, data: good },
        { sha256: liar, size: bad.length, data: bad },
      ]),
    );
    const res = await t.server.app.inject({
      method: 'POST',
      url: '/v1/blobs/batch',
      headers: { ...t.auth, 'content-type': BLOB_BATCH_CONTENT_TYPE },
      payload: body,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'ML_ERR_BLOB_HASH_MISMATCH' } });
    expect(await t.deps.blobs.has(liar)).toBe(false);
  });

  it('fails a truncated batch with 400 naming the frame', async () => {
    const data = Buffer.from('truncated');
    const body = await collect(encodeBatch([{ sha256: sha256Hex(data), size: data.length, data }]));
    const res = await t.server.app.inject({
      method: 'POST',
      url: '/v1/blobs/batch',
      headers: { ...t.auth, 'content-type': BLOB_BATCH_CONTENT_TYPE },
      payload: body.subarray(0, body.length - 3),
    });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toContain('frame 0');
  });

  it('answers 413 ML_ERR_BODY_TOO_LARGE for oversized JSON and blob bodies', async () => {
    const json = await t.server.app.inject({
      method: 'POST',
      url: '/v1/blobs/missing',
      headers: t.auth,
      payload: { hashes: Array.from({ length: 400 }, () => 'f'.repeat(64)) },
    });
    expect(json.statusCode).toBe(413);
    expect(json.json()).toMatchObject({ error: { code: 'ML_ERR_BODY_TOO_LARGE' } });
    const big = Buffer.alloc(100 * 1024, 1);
    const blob = await t.server.app.inject({
      method: 'PUT',
      url: `/v1/blobs/${sha256Hex(big)}`,
      headers: { ...t.auth, ...octets },
      payload: big,
    });
    expect(blob.statusCode).toBe(413);
    expect(blob.json()).toMatchObject({ error: { code: 'ML_ERR_BODY_TOO_LARGE' } });
    expect(await t.deps.blobs.has(sha256Hex(big))).toBe(false);
  });

  it('answers 400 for invalid JSON and 415 for an unknown content type', async () => {
    const bad = await t.server.app.inject({
      method: 'POST',
      url: '/v1/blobs/missing',
      headers: { ...t.auth, 'content-type': 'application/json' },
      payload: '{"hashes": [',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'ML_ERR_VALIDATION' } });
    const type = await t.server.app.inject({
      method: 'POST',
      url: '/v1/blobs/missing',
      headers: { ...t.auth, 'content-type': 'text/csv' },
      payload: 'a,b',
    });
    expect(type.statusCode).toBe(415);
    expect(type.json()).toMatchObject({ error: { code: 'ML_ERR_UNSUPPORTED_MEDIA_TYPE' } });
  });
});
