/**
 * `ml completion`: the scripts come from the real program, and they work in the real shells — bash
 * is always there (the test runs it with COMP_WORDS set as bash sets them while completing); zsh and
 * fish are checked when installed (syntax, and fish's own completion engine), else skipped by name.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { main } from '../main.ts';
import { testIo } from '../shared/test-io.ts';

let dir: string;
const scripts: Record<string, string> = {};

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fetchml-completion-'));
  for (const shell of ['bash', 'zsh', 'fish']) {
    const io = testIo();
    expect(await main(['completion', shell], io)).toBe(0);
    expect(io.err()).toBe('');
    scripts[shell] = join(dir, `ml.${shell}`);
    await writeFile(scripts[shell], io.out());
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** What bash completes for the words of a command line (the last one being completed). */
function bashComplete(...words: string[]): string[] {
  const script = [
    `source ${JSON.stringify(scripts['bash'])}`,
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    `COMP_LINE='${words.join(' ')}'`,
    '_ml_completion',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const out = execFileSync('bash', ['--norc', '--noprofile', '-c', script], {
    cwd: dir,
    encoding: 'utf8',
  });
  return out.split('\n').filter((l) => l !== '');
}

describe('ml completion bash', () => {
  it('registers the function for ml', () => {
    const out = execFileSync(
      'bash',
      ['--norc', '--noprofile', '-c', `source ${scripts['bash']}; complete -p ml`],
      { encoding: 'utf8' },
    );
    expect(out.trim()).toBe('complete -o default -F _ml_completion ml');
  });

  it('completes `ml qu` to queue', () => {
    expect(bashComplete('ml', 'qu')).toEqual(['queue']);
  });

  it('completes command names after global options, also one taking a value', () => {
    expect(bashComplete('ml', '--json', 'wh')).toEqual(['whoami']);
    expect(bashComplete('ml', '--server', 'https://h:9101', 'sy')).toEqual(['sync']);
    expect(bashComplete('ml', 'c')).toEqual(expect.arrayContaining(['cancel', 'completion']));
    expect(bashComplete('ml', 'c').every((w) => w.startsWith('c'))).toBe(true);
  });

  it("completes a command's own options and the global ones", () => {
    expect(bashComplete('ml', 'logs', '--fo')).toEqual(['--follow']);
    expect(bashComplete('ml', 'queue', '--pr')).toEqual(['--priority']);
    expect(bashComplete('ml', 'status', '--js')).toEqual(['--json']);
  });

  it('completes fixed choices of arguments and options', () => {
    expect(bashComplete('ml', 'completion', '').sort()).toEqual(['bash', 'fish', 'zsh']);
    expect(bashComplete('ml', 'help', 'sta')).toEqual(['status']);
  });
});

describe('ml completion zsh and fish', () => {
  const skipped = (shell: string) => (has(shell) ? '' : ` (skipped: ${shell} is not installed)`);

  it.skipIf(!has('zsh'))(`zsh: the script parses${skipped('zsh')}`, () => {
    const r = spawnSync('zsh', ['-n', scripts['zsh']!], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(!has('fish'))(
    'fish: `ml qu` completes to queue (skipped: fish is not installed)',
    () => {
      const r = spawnSync(
        'fish',
        ['--no-config', '-c', `source ${scripts['fish']}; complete -C 'ml qu'`],
        { encoding: 'utf8' },
      );
      expect(r.stderr).toBe('');
      expect(r.stdout.split('\n')[0]).toMatch(/^queue\t/);
    },
  );

  it('both scripts name every command and the global options', async () => {
    const { readFile } = await import('node:fs/promises');
    for (const shell of ['zsh', 'fish']) {
      const text = await readFile(scripts[shell]!, 'utf8');
      for (const c of ['init', 'queue', 'status', 'logs', 'cancel', 'completion']) {
        expect(text, shell).toContain(c);
      }
      expect(text, shell).toContain('quiet');
      expect(text, shell).toContain('server');
    }
  });

  it('an unknown shell is a usage error naming the choices', async () => {
    const io = testIo();
    expect(await main(['completion', 'tcsh'], io)).toBe(2);
    expect(io.err()).toContain('Allowed choices are bash, zsh, fish');
    expect(io.out()).toBe('');
  });
});
