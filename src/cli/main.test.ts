import { describe, expect, it } from 'vitest';

import { main } from './main.ts';
import { packageVersion } from './shared/program.ts';
import { testIo } from './shared/test-io.ts';

const COMMANDS = [
  'init',
  'login',
  'sync',
  'queue',
  'status',
  'logs',
  'cancel',
  'info',
  'whoami',
  'explain',
  'validate',
  'compare',
];

describe('ml', () => {
  it('--help exits 0 and lists every command', async () => {
    const io = testIo();
    expect(await main(['--help'], io)).toBe(0);
    expect(io.out()).toContain('Usage: ml');
    expect(io.out()).toContain('Examples:');
    for (const c of COMMANDS) expect(io.out()).toContain(`\n  ${c}`);
  });

  it.each(COMMANDS)('%s --help shows an example', async (command) => {
    const io = testIo();
    expect(await main([command, '--help'], io)).toBe(0);
    expect(io.out()).toContain(`Usage: ml ${command}`);
    expect(io.out()).toMatch(/Examples:\n {2}\$ ml /);
  });

  it('--version prints the package version', async () => {
    const io = testIo();
    expect(await main(['--version'], io)).toBe(0);
    expect(io.out()).toBe(`${packageVersion()}\n`);
  });

  it('an unknown option is a usage error (2)', async () => {
    const io = testIo();
    expect(await main(['--nope'], io)).toBe(2);
    expect(io.err()).toContain("unknown option '--nope'");
  });
});
