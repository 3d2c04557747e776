import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { isFetchmlError } from '../../core/errors.ts';
import { specNameFrom, specTemplate } from '../commands/init-templates.ts';
import { clientConfigPath, normalizeServerUrl, readClientConfig } from './client-config.ts';
import { exitCodeFor } from './follow.ts';
import { formatDuration, shortId } from './format.ts';
import { memorySink } from './output.ts';
import { createProgress } from './progress.ts';

describe('client config', () => {
  it('is found in FETCHML_CLIENT_CONFIG, XDG_CONFIG_HOME or ~/.config', () => {
    expect(clientConfigPath({ FETCHML_CLIENT_CONFIG: 'c.json' }, '/p')).toBe('/p/c.json');
    expect(clientConfigPath({ XDG_CONFIG_HOME: '/x', HOME: '/h' }, '/p')).toBe(
      '/x/fetchml/client.json',
    );
    expect(clientConfigPath({ HOME: '/h' }, '/p')).toBe('/h/.config/fetchml/client.json');
  });

  it('reads a missing file as empty and names the file when it is broken', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fetchml-cc-'));
    try {
      expect(readClientConfig(join(dir, 'none.json'))).toEqual({
        version: 1,
        default: null,
        servers: {},
      });
      const bad = join(dir, 'bad.json');
      await writeFile(bad, '{"version":1,"servers":{"https://a":{"api_key":5}}}');
      let err: unknown;
      try {
        readClientConfig(bad);
      } catch (e) {
        err = e;
      }
      expect(isFetchmlError(err, 'ML_ERR_CONFIG_INVALID')).toBe(true);
      expect((err as Error).message).toContain(`${bad}: servers.https://a.api_key`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('normalizes server URLs to their https origin', () => {
    expect(normalizeServerUrl('https://h:9101/x')).toBe('https://h:9101');
    expect(normalizeServerUrl('gpu-box:9101')).toBe('https://gpu-box:9101');
    expect(() => normalizeServerUrl('http://h')).toThrow(/HTTPS only/);
  });
});

describe('formatting', () => {
  it('formats durations and short ids', () => {
    expect(formatDuration(450)).toBe('450ms');
    expect(formatDuration(4200)).toBe('4.2s');
    expect(formatDuration(125_000)).toBe('2m05s');
    expect(formatDuration(3_725_000)).toBe('1h02m');
    expect(formatDuration(90_000_000)).toBe('1d01h');
    expect(shortId('task_01JD3Q3Z4X6V8W9Y0A1B2C3D4E')).toBe('01JD3Q3Z4X6V');
  });

  it('maps task outcomes to exit codes', () => {
    expect(exitCodeFor('completed', 0)).toBe(0);
    expect(exitCodeFor('failed', 3)).toBe(3);
    expect(exitCodeFor('failed', null)).toBe(1);
    expect(exitCodeFor('failed', 0)).toBe(1);
    expect(exitCodeFor('cancelled', null)).toBe(130);
  });

  it('writes init templates with a name from the directory', () => {
    expect(specNameFrom('My Project!')).toBe('My-Project-');
    expect(specNameFrom('___')).toBe('experiment');
    expect(specTemplate('p', null)).toContain('# command: python3 main.py');
    expect(specTemplate('p', 'python3 train.py')).toContain('\ncommand: python3 train.py\n');
  });
});

describe('progress', () => {
  const total = { blobs: 4, bytes: 4096 };
  it('draws a bar in place on a terminal and clears it', () => {
    const sink = memorySink();
    let t = 0;
    const p = createProgress(sink, 'tty', total, () => t);
    t = 1000;
    p.update({ blobs: 2, bytes: 2048 });
    p.update({ blobs: 3, bytes: 3072 }); // throttled: same instant
    p.done();
    expect(sink.text()).toBe(
      '\r\x1b[2Kuploading [############------------]  50%  2.0 KiB/4.0 KiB  2/4 files  2.0 KiB/s\r\x1b[2K',
    );
  });

  it('prints plain periodic lines when not a terminal, nothing with --json', () => {
    const sink = memorySink();
    let t = 0;
    const p = createProgress(sink, 'plain', total, () => t);
    p.update({ blobs: 1, bytes: 1024 });
    t = 500;
    p.update({ blobs: 2, bytes: 2048 });
    t = 2600;
    p.update({ blobs: 4, bytes: 4096 });
    p.done();
    t = 4700;
    p.done();
    // nothing before 2 s (a quick upload adds nothing to a log); then at most one line per 2 s
    expect(sink.text().split('\n').filter(Boolean)).toEqual([
      'uploading: 4/4 files, 4.0 KiB/4.0 KiB, 1.5 KiB/s',
      'uploading: 4/4 files, 4.0 KiB/4.0 KiB, 871 B/s',
    ]);
    const none = memorySink();
    const q = createProgress(none, 'none', total, () => 0);
    q.update({ blobs: 4, bytes: 4096 });
    q.done();
    expect(none.text()).toBe('');
  });
});
