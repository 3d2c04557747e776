#!/usr/bin/env node
// Idle `fetchml up` resident memory: VmRSS (from /proc/<pid>/status) after start-up and a few
// seconds with nothing to do, sampled a few times. Context: the RSS of an idle bare Node process
// (`node -e "setInterval(() => {}, 1000)"`) measured in the same run. Target: <= 120 MB absolute.
//
//   npm run bench:idle-rss      (IDLE_MS=5000 by default)
import {
  finish,
  fmt,
  makeSandbox,
  median,
  rssMb,
  sleep,
  spawnNode,
  startUp,
  stop,
  verdict,
} from '../common.mjs';

const IDLE_MS = Number(process.env.IDLE_MS ?? 5000);
const SAMPLES = 5;
const TARGET_MB = 120;

async function sampleRss(pid) {
  const xs = [];
  for (let i = 0; i < SAMPLES; i++) {
    xs.push(rssMb(pid));
    await sleep(200);
  }
  return xs;
}

async function main() {
  const sb = makeSandbox('idle-rss');
  const bare = spawnNode(['-e', 'setInterval(() => {}, 1000)'], {});
  const { child, banner } = await startUp(sb);
  try {
    await sleep(IDLE_MS);
    const up = await sampleRss(child.pid);
    const base = await sampleRss(bare.pid);
    const upMb = median(up);
    const baseMb = median(base);
    process.stdout.write(
      `idle RSS after start-up + ${IDLE_MS} ms idle (median of ${SAMPLES} samples, VmRSS)\n` +
        `  fetchml up (server + worker, runtime ${banner.runtime}): ${fmt(upMb)} MB ` +
        `(samples ${up.map((x) => fmt(x)).join(', ')})\n` +
        `  bare node setInterval (context): ${fmt(baseMb)} MB\n` +
        `  fetchml up - bare node = ${fmt(upMb - baseMb)} MB; ratio ${fmt(upMb / baseMb, 2)}x\n`,
    );
    verdict('idle fetchml up RSS', upMb <= TARGET_MB, `${fmt(upMb)} MB <= ${TARGET_MB} MB`);
  } finally {
    await stop(child);
    bare.kill('SIGKILL');
    sb.remove();
  }
  finish();
}

await main();
