import { describe, expect, it } from 'vitest';

import { isFetchmlError } from './errors.ts';
import { canonicalSha256 } from './hash.ts';
import { commandArgv, parseExperimentSpec } from './schemas/spec.ts';
import { TreeManifest } from './schemas/tree.ts';

describe('parseExperimentSpec', () => {
  it('applies defaults and parses units', () => {
    const spec = parseExperimentSpec(
      'name: demo\ncommand: python3 train.py --epochs 3\nresources: {memory: 2g}\ntimeout: 1h\n',
    );
    expect(spec.resources).toEqual({ cpus: 1, memory: 2048, gpus: 0 });
    expect(spec.timeout).toBe(3600);
    expect(spec.network).toBe('none');
    expect(commandArgv(spec.command)).toEqual(['python3', 'train.py', '--epochs', '3']);
  });

  it('names every invalid field with its dot-path', () => {
    try {
      parseExperimentSpec(
        'name: demo\ncommand: x\nresources: {memory: lots}\ndatasets: [{name: d, checksum: abc}]\nbogus: 1\n',
      );
      expect.unreachable();
    } catch (err) {
      expect(isFetchmlError(err, 'ML_ERR_SPEC_INVALID')).toBe(true);
      const msg = (err as Error).message;
      expect(msg).toContain('resources.memory: not a size');
      expect(msg).toContain('datasets.0.checksum');
      expect(msg).toContain('bogus');
    }
  });

  it('refuses zero memory, naming the field', () => {
    expect(() => parseExperimentSpec('name: a\ncommand: x\nresources: {memory: 0}\n')).toThrow(
      /resources\.memory: must be more than 0/,
    );
  });

  it('says what a missing command should be', () => {
    expect(() => parseExperimentSpec('name: demo\n')).toThrow(
      /command: required: the program to run/,
    );
  });

  it('reports YAML syntax errors as spec errors', () => {
    expect(() => parseExperimentSpec('name: [unclosed')).toThrow(/not valid YAML/);
  });

  it('refuses a deps path that escapes the project', () => {
    expect(() => parseExperimentSpec('name: a\ncommand: x\ndeps: ../requirements.txt\n')).toThrow(
      /deps/,
    );
  });
});

describe('TreeManifest', () => {
  const file = (path: string) => ({
    path,
    type: 'file' as const,
    mode: 0o644 as const,
    size: 0,
    sha256: canonicalSha256(path),
  });

  it('accepts a sorted manifest with an in-tree symlink', () => {
    const tree = {
      version: 1,
      entries: [file('a/x'), { path: 'b', type: 'symlink', target: 'a/x' }],
    };
    expect(TreeManifest.safeParse(tree).success).toBe(true);
  });

  it.each([
    ['unsorted', [file('b'), file('a')], 'sorted'],
    ['hostile path', [file('../etc/passwd')], "'..' segment"],
    ['absolute path', [file('/etc/passwd')], 'absolute'],
    ['escaping symlink', [{ path: 'l', type: 'symlink', target: '../../etc' }], 'outside'],
    ['file used as dir', [file('a'), file('a/b')], 'not a directory'],
  ])('refuses %s', (_name, entries, reason) => {
    const result = TreeManifest.safeParse({ version: 1, entries });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain(reason);
  });
});

describe('fetchml.yaml mistakes', () => {
  it('suggests the key a typo was meant to be, at the top and in resources', () => {
    expect(() => parseExperimentSpec('name: x\ncommand: a\nresorces: {cpus: 1}\n')).toThrow(
      /resorces: unknown key \(did you mean "resources"\?\)/,
    );
    expect(() => parseExperimentSpec('name: x\ncommand: a\nresources: {cpu: 1}\n')).toThrow(
      /resources\.cpu: unknown key \(did you mean "cpus"\?\)/,
    );
  });

  it('says a name is required when the file is empty', () => {
    expect(() => parseExperimentSpec('')).toThrow(/name: required: a name for the experiment/);
  });
});
