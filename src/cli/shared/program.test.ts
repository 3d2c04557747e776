import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';

import { ExitError, FetchmlError } from '../../core/errors.ts';
import { formatCell, formatTable } from './output.ts';
import { packageVersion, reportError } from './program.ts';
import { testIo } from './test-io.ts';

describe('reportError', () => {
  it('prints a FetchmlError as "error: <message>" and exits 1', () => {
    const io = testIo();
    const code = reportError(new FetchmlError('ML_ERR_NOT_FOUND', 'no such task: t1'), io, {});
    expect(code).toBe(1);
    expect(io.err()).toBe('error: no such task: t1\n');
    expect(io.out()).toBe('');
  });

  it('says where the key came from and what to do when the server refuses it', () => {
    const io = testIo();
    reportError(new FetchmlError('ML_ERR_UNAUTHORIZED', 'invalid or revoked API key'), io, {});
    expect(io.err()).toContain('error: invalid or revoked API key\n');
    expect(io.err()).toContain('$FETCHML_API_KEY');
    expect(io.err()).toContain('ml login --server <url>');
  });

  it('prints {error:{code,message}} on stdout with --json', () => {
    const io = testIo();
    reportError(new FetchmlError('ML_ERR_NOT_FOUND', 'gone'), io, { json: true });
    expect(JSON.parse(io.out())).toEqual({ error: { code: 'ML_ERR_NOT_FOUND', message: 'gone' } });
  });

  it('passes ExitError codes through silently and maps usage errors to 2', () => {
    const io = testIo();
    expect(reportError(new ExitError(3), io, {})).toBe(3);
    expect(reportError(new CommanderError(1, 'commander.unknownOption', 'x'), io, {})).toBe(2);
    expect(reportError(new CommanderError(0, 'commander.helpDisplayed', 'x'), io, {})).toBe(0);
    expect(io.err()).toBe('');
  });

  it('calls an unexpected error a bug, with the stack only under --debug', () => {
    const plain = testIo();
    expect(reportError(new TypeError('boom'), plain, {})).toBe(1);
    expect(plain.err()).toContain('error: boom\n');
    expect(plain.err()).toContain('This is a bug in fetchml');
    expect(plain.err()).toContain('--debug');
    expect(plain.err()).not.toContain('at ');

    const debug = testIo();
    reportError(new TypeError('boom'), debug, { debug: true });
    expect(debug.err()).toMatch(/TypeError: boom\n\s+at /);

    const json = testIo();
    reportError('weird', json, { json: true });
    expect(JSON.parse(json.out())).toEqual({
      error: { code: 'ML_ERR_INTERNAL', message: 'weird' },
    });
  });
});

describe('output helpers', () => {
  it('aligns table columns', () => {
    expect(
      formatTable(
        ['A', 'B'],
        [
          ['long-key', '1'],
          ['k', '22'],
        ],
      ),
    ).toBe('A         B\nlong-key  1\nk         22\n');
  });

  it('formats cells', () => {
    expect(formatCell(undefined)).toBe('-');
    expect(formatCell([])).toBe('[]');
    expect(formatCell(['a', 'b'])).toBe('a, b');
    expect(formatCell(false)).toBe('false');
  });

  it('reads the package version', () => {
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
