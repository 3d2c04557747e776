/**
 * TLS, as an attacker and an operator meet it, over real HTTPS listeners: the names the generated
 * certificate covers, a configured (CA-issued) certificate, `ml login` confirming a fingerprint on
 * first use (terminal, --yes, --fingerprint, refusal without a terminal), verification by a CA
 * instead of a pin, and a changed certificate refused with the exact re-pin command — each time
 * asserting that nothing was sent to the server and nothing was stored.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { hostname } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { main } from '../../src/cli/main.ts';
import { readClientConfig } from '../../src/cli/shared/client-config.ts';
import { testIo } from '../../src/cli/shared/test-io.ts';
import { normalizeFingerprint } from '../../src/client/index.ts';
import { isFetchmlError } from '../../src/core/errors.ts';
import { createServer } from '../../src/server/app.ts';
import type { FetchmlServer } from '../../src/server/app.ts';
import { startTestServer } from '../../src/server/test-helpers.ts';
import type { TestServer } from '../../src/server/test-helpers.ts';
import { certCovers, ensureTls } from '../../src/server/tls.ts';
import { issueCert, makeCa, tempDir } from './helpers.ts';
import type { TestCa } from './helpers.ts';

let dir: string;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let ca: TestCa;

beforeAll(async () => {
  tmp = await tempDir('fetchml-sec-tls-');
  dir = tmp.dir;
  ca = await makeCa();
  await writeFile(join(dir, 'ca.pem'), ca.cert);
});
afterAll(() => tmp.remove());

/** Runs `ml` in-process; `answer` makes stdin a terminal that answers the question with it. */
async function ml(
  args: string[],
  env: Record<string, string>,
  answer?: string,
): Promise<{ code: number; out: string; err: string; asked: string[] }> {
  const asked: string[] = [];
  const io = testIo(env, dir);
  const withTty =
    answer === undefined
      ? io
      : {
          ...io,
          confirm: (q: string) => {
            asked.push(q);
            return Promise.resolve(/^y/i.test(answer));
          },
        };
  const code = await main(args, withTty);
  return { code, out: io.out(), err: io.err(), asked };
}

/** Counts HTTP requests and WebSocket upgrades that reach `server`'s listener. */
function requestCounter(server: FetchmlServer): { count(): number } {
  let n = 0;
  server.app.server.on('request', () => (n += 1));
  server.app.server.on('upgrade', () => (n += 1));
  return { count: () => n };
}

/** GET /healthz verified by Node's own chain and host-name check, against `caPem`. */
function verifiedHealthz(port: number, servername: string, caPem: string): Promise<number> {
  return new Promise((resolve, reject) => {
    httpsGet(
      { host: '127.0.0.1', port, path: '/healthz', servername, ca: caPem, agent: false },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    ).on('error', reject);
  });
}

describe('the generated certificate covers the names clients use', () => {
  it('covers localhost, 127.0.0.1, ::1, the host name, server.host and server.tls.hostnames', async () => {
    const home = join(dir, 'names');
    const tls = await ensureTls(home, {
      host: '10.1.2.3',
      hostnames: ['gpu-box.lab', '192.168.7.9', '*.fetchml.lab'],
    });
    const cert = new X509Certificate(tls.cert);
    for (const name of [
      'localhost',
      '127.0.0.1',
      '::1',
      'gpu-box.lab',
      '10.1.2.3',
      '192.168.7.9',
    ]) {
      expect(certCovers(cert, name), name).toBe(true);
    }
    expect(certCovers(cert, 'node1.fetchml.lab')).toBe(true);
    if (/^[A-Za-z0-9.-]+$/.test(hostname())) expect(certCovers(cert, hostname())).toBe(true);
    expect(certCovers(cert, 'elsewhere.example')).toBe(false);
    expect(tls.warnings).toEqual([]);
  });

  it('is verified by a real TLS client under a configured name, and refused under another', async () => {
    const t = await startTestServer({ tls: { hostnames: ['fetchml.test'] } });
    try {
      const { port } = await t.server.listen();
      const certPem = readFileSync(join(t.home, 'tls', 'cert.pem'), 'utf8');
      expect(await verifiedHealthz(port, 'fetchml.test', certPem)).toBe(200);
      const err = await verifiedHealthz(port, 'other.test', certPem).catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    } finally {
      await t.cleanup();
    }
  });

  it('a name added later is reported, not silently regenerated (pinned clients keep working)', async () => {
    const home = join(dir, 'later');
    const first = await ensureTls(home, {});
    const again = await ensureTls(home, { host: '10.9.8.7', hostnames: ['new-name.lab'] });
    expect(again.fingerprint).toBe(first.fingerprint);
    expect(again.generated).toBe(false);
    expect(again.warnings).toHaveLength(1);
    const w = again.warnings[0]!;
    expect(w).toContain('does not cover 10.9.8.7, new-name.lab');
    expect(w).toContain(
      `delete ${join(home, 'tls', 'cert.pem')} and ${join(home, 'tls', 'key.pem')}`,
    );
    expect(w).toContain('ml login --force');
  });

  it('refuses a host name that is neither a DNS name nor an address', async () => {
    const err = await ensureTls(join(dir, 'bad'), { hostnames: ['not a name'] }).catch(
      (e: unknown) => e,
    );
    expect(isFetchmlError(err, 'ML_ERR_CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toBe(
      'server.tls.hostnames: "not a name" is neither a DNS name nor an IP address',
    );
    expect(existsSync(join(dir, 'bad', 'tls'))).toBe(false);
  });
});

describe('a configured certificate', () => {
  it('refuses a key that does not belong to the certificate', async () => {
    const a = await issueCert(ca, ['127.0.0.1']);
    const b = await issueCert(ca, ['127.0.0.1']);
    await writeFile(join(dir, 'a.crt'), a.cert);
    await writeFile(join(dir, 'b.key'), b.key);
    const err = await ensureTls(dir, { cert: join(dir, 'a.crt'), key: join(dir, 'b.key') }).catch(
      (e: unknown) => e,
    );
    expect(isFetchmlError(err, 'ML_ERR_CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toBe(
      `server.tls.key: ${join(dir, 'b.key')} is not the key of the certificate ${join(dir, 'a.crt')}`,
    );
  });

  it('warns when it does not cover a configured name', async () => {
    const c = await issueCert(ca, ['ml.lab.example']);
    await writeFile(join(dir, 'c.crt'), c.cert);
    await writeFile(join(dir, 'c.key'), c.key);
    const tls = await ensureTls(dir, {
      cert: join(dir, 'c.crt'),
      key: join(dir, 'c.key'),
      hostnames: ['ml.lab.example', 'gpu-box.lab'],
    });
    expect(tls.warnings).toHaveLength(1);
    expect(tls.warnings[0]).toContain('does not cover gpu-box.lab (it covers ml.lab.example)');
  });
});

describe('ml login: first use', () => {
  let t: TestServer;
  let url: string;
  let fp: string;
  let requests: { count(): number };
  let keyFile: string;
  beforeAll(async () => {
    t = await startTestServer();
    ({ url } = await t.server.listen());
    fp = normalizeFingerprint(t.server.fingerprint);
    requests = requestCounter(t.server);
    keyFile = join(dir, 'admin.key');
    await writeFile(keyFile, `${t.key}\n`);
  });
  afterAll(() => t.cleanup());

  /** A fresh client config and no local server base dir (so nothing confirms by itself). */
  const env = (name: string) => ({
    FETCHML_CLIENT_CONFIG: join(dir, `${name}.json`),
    FETCHML_HOME: join(dir, 'no-such-home'),
  });

  it('without a terminal and without --yes: refused, naming the fingerprint; nothing sent or stored', async () => {
    const before = requests.count();
    const r = await ml(['login', '--server', url, '--key-file', keyFile], env('no-tty'));
    expect(r.code).toBe(1);
    expect(r.err).toContain(`not pinning the certificate of ${url} without confirmation`);
    expect(r.err).toContain(fp);
    expect(r.err).toContain('`fetchml up` / `fetchml server`');
    expect(r.err).toContain('run again with --yes');
    expect(r.err).toContain(`--fingerprint ${fp}`);
    expect(requests.count()).toBe(before);
    expect(existsSync(join(dir, 'no-tty.json'))).toBe(false);
  });

  it('--json reports the refusal with its code', async () => {
    const r = await ml(['--json', 'login', '--server', url, '--key-file', keyFile], env('no-tty'));
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ error: { code: 'ML_ERR_CERT_UNCONFIRMED' } });
  });

  it('on a terminal: shows the fingerprint and pins only after a yes', async () => {
    const before = requests.count();
    const no = await ml(['login', '--server', url, '--key-file', keyFile], env('tty'), 'n');
    expect(no.code).toBe(1);
    expect(no.asked).toHaveLength(1);
    expect(no.asked[0]).toContain(`sha256 fingerprint: ${fp}`);
    expect(no.asked[0]).toContain('Trust and pin it? [y/N]');
    expect(no.err).toContain('not confirmed');
    expect(requests.count()).toBe(before);
    expect(existsSync(join(dir, 'tty.json'))).toBe(false);

    const yes = await ml(['login', '--server', url, '--key-file', keyFile], env('tty'), 'y');
    expect(yes.err).toBe('');
    expect(yes.code).toBe(0);
    expect(yes.out).toContain(`certificate: ${fp} (pinned now; you confirmed it)`);
    expect(readClientConfig(join(dir, 'tty.json')).servers[url]).toMatchObject({
      fingerprint: fp,
      api_key: t.key,
    });
    // Pinned: the next login checks the pin and asks nothing.
    const again = await ml(['login', '--key-file', keyFile], env('tty'), 'n');
    expect(again.code).toBe(0);
    expect(again.asked).toEqual([]);
    expect(again.out).toContain('matches the pin');
  });

  it('--yes pins without asking (scripts)', async () => {
    const r = await ml(['login', '--server', url, '--key-file', keyFile, '--yes'], env('yes'));
    expect(r.code).toBe(0);
    expect(r.out).toContain('trusted on first use (--yes)');
    expect(readClientConfig(join(dir, 'yes.json')).servers[url]!.fingerprint).toBe(fp);
  });

  it('--fingerprint pins the given one; a different one is refused and nothing is stored', async () => {
    const ok = await ml(
      ['login', '--server', url, '--key-file', keyFile, '--fingerprint', fp.toLowerCase()],
      env('fp'),
    );
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('as given with --fingerprint');

    const before = requests.count();
    const wrong = 'AB:'.repeat(31) + 'AB';
    const bad = await ml(
      ['login', '--server', url, '--key-file', keyFile, '--fingerprint', wrong],
      env('fp-bad'),
    );
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(`pinned:    ${wrong}`);
    expect(bad.err).toContain(`presented: ${fp}`);
    expect(bad.err).toContain('does not match what the server presents');
    expect(requests.count()).toBe(before);
    expect(existsSync(join(dir, 'fp-bad.json'))).toBe(false);

    const malformed = await ml(
      ['login', '--server', url, '--key-file', keyFile, '--fingerprint', 'AB:CD'],
      env('fp-bad'),
    );
    expect(malformed.code).toBe(1);
    expect(malformed.err).toContain('--fingerprint: "AB:CD" is not a sha256 fingerprint');
  });

  it('needs no confirmation when the certificate is the local server own (the quickstart)', async () => {
    const r = await ml(['login', '--server', url, '--key-file', keyFile], {
      FETCHML_CLIENT_CONFIG: join(dir, 'local.json'),
      FETCHML_HOME: t.home,
    });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`pinned now; matches ${join(t.home, 'tls', 'cert.pem')}`);
  });
});

describe('a changed server certificate', () => {
  it('is refused with both fingerprints and the exact re-pin command; nothing is sent', async () => {
    const t = await startTestServer();
    let second: FetchmlServer | null = null;
    try {
      const { url, port } = await t.server.listen();
      const env = { FETCHML_CLIENT_CONFIG: join(dir, 'changed.json'), FETCHML_HOME: t.home };
      expect((await ml(['login', '--server', url], env)).code).toBe(0);
      const oldFp = normalizeFingerprint(t.server.fingerprint);

      // The server is re-keyed: same base dir and keys, another certificate, same port.
      await t.server.close();
      const pair = await issueCert(ca, ['127.0.0.1']);
      await writeFile(join(dir, 'rekey.crt'), pair.cert);
      await writeFile(join(dir, 'rekey.key'), pair.key);
      second = await createServer(
        {
          home: t.home,
          port,
          reapIntervalMs: 0,
          tls: { cert: join(dir, 'rekey.crt'), key: join(dir, 'rekey.key') },
        },
        t.deps,
      );
      await second.listen();
      const requests = requestCounter(second);
      const newFp = normalizeFingerprint(second.fingerprint);

      for (const args of [['status'], ['whoami'], ['--json', 'whoami']]) {
        const r = await ml(args, { FETCHML_CLIENT_CONFIG: env.FETCHML_CLIENT_CONFIG });
        expect(r.code, args.join(' ')).toBe(1);
        if (args[0] === '--json') {
          expect(JSON.parse(r.out)).toMatchObject({ error: { code: 'ML_ERR_CERT_CHANGED' } });
          continue;
        }
        expect(r.err).toContain(`the certificate of ${url} changed — refusing to connect`);
        expect(r.err).toContain(`pinned:    ${oldFp}`);
        expect(r.err).toContain(`presented: ${newFp}`);
        expect(r.err).toContain('re-keyed');
        expect(r.err).toContain('man in the middle');
        expect(r.err).toContain(`ml login --force --fingerprint ${newFp} --server ${url}`);
      }
      expect(requests.count()).toBe(0);
      expect(readClientConfig(env.FETCHML_CLIENT_CONFIG).servers[url]!.fingerprint).toBe(oldFp);

      // The command the message gives re-pins (no prompt: the fingerprint was given).
      const repin = await ml(
        ['login', '--force', '--fingerprint', newFp, '--server', url, '--key', t.key],
        { FETCHML_CLIENT_CONFIG: env.FETCHML_CLIENT_CONFIG },
      );
      expect(repin.err).toBe('');
      expect(repin.code).toBe(0);
      expect(
        (await ml(['whoami'], { FETCHML_CLIENT_CONFIG: env.FETCHML_CLIENT_CONFIG })).code,
      ).toBe(0);
    } finally {
      await second?.close();
      await t.cleanup();
    }
  });
});

describe('a CA instead of a pin', () => {
  it('verifies a CA-issued certificate, accepts a renewal, refuses another CA and a wrong name', async () => {
    const t = await startTestServer();
    const servers: FetchmlServer[] = [];
    const start = async (cert: { cert: string; key: string }, name: string, port = 0) => {
      await writeFile(join(dir, `${name}.crt`), cert.cert);
      await writeFile(join(dir, `${name}.key`), cert.key);
      const s = await createServer(
        {
          home: t.home,
          port,
          reapIntervalMs: 0,
          tls: { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) },
        },
        t.deps,
      );
      servers.push(s);
      const listening = await s.listen();
      return { server: s, ...listening };
    };
    try {
      await t.server.close();
      const first = await start(await issueCert(ca, ['localhost', '127.0.0.1']), 'ca1');
      const url = first.url;
      const env = { FETCHML_CLIENT_CONFIG: join(dir, 'ca.json') };
      const login = await ml(
        ['login', '--server', url, '--key', t.key, '--ca', join(dir, 'ca.pem')],
        env,
      );
      expect(login.err).toBe('');
      expect(login.code).toBe(0);
      expect(login.out).toContain(`verified by the CA in ${join(dir, 'ca.pem')}`);
      expect(readClientConfig(env.FETCHML_CLIENT_CONFIG).servers[url]).toMatchObject({
        ca_file: join(dir, 'ca.pem'),
      });
      expect((await ml(['whoami'], env)).code).toBe(0);

      // Renewal: a new certificate from the same CA is accepted without re-pinning.
      await first.server.close();
      await start(await issueCert(ca, ['localhost', '127.0.0.1']), 'ca2', first.port);
      const renewed = await ml(['whoami'], env);
      expect(renewed.err).toBe('');
      expect(renewed.code).toBe(0);

      // Another CA: refused before anything is sent.
      await servers.at(-1)!.close();
      const rogueCa = await makeCa('rogue CA');
      const rogue = await start(
        await issueCert(rogueCa, ['localhost', '127.0.0.1']),
        'rogue',
        first.port,
      );
      const rogueRequests = requestCounter(rogue.server);
      const r = await ml(['whoami'], env);
      expect(r.code).toBe(1);
      expect(r.err).toContain(
        `the certificate of ${url} is not signed by the CA in ${join(dir, 'ca.pem')}`,
      );
      expect(r.err).toContain('nothing was sent');
      const j = await ml(['--json', 'whoami'], env);
      expect(JSON.parse(j.out)).toMatchObject({ error: { code: 'ML_ERR_CERT_UNTRUSTED' } });
      expect(rogueRequests.count()).toBe(0);

      // Signed by the CA, but for another name.
      await rogue.server.close();
      const other = await start(await issueCert(ca, ['fetchml.test']), 'other', first.port);
      const otherRequests = requestCounter(other.server);
      const n = await ml(['whoami'], env);
      expect(n.code).toBe(1);
      expect(n.err).toContain('does not name 127.0.0.1 (it names DNS:fetchml.test)');
      expect(otherRequests.count()).toBe(0);
    } finally {
      for (const s of servers) await s.close();
      await t.cleanup();
    }
  });
});
