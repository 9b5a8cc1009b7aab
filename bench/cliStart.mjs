// CLI start: wall time of `rnn-jacobian analyze` on a config with a schema error (exit 2: the whole start-up,
// the validation and nothing else). Given a second CLI bundle (another build, e.g. before a change), the two
// are run alternately, so that load on the machine falls on both alike, and the ratio of medians is printed.
//   node bench/cliStart.mjs [RUNS] [OTHER/dist/cli.js]        (after node scripts/build.mjs)
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const runs = Number(process.argv[2] ?? 21);
const clis = [join(root, 'dist/cli.js'), ...(process.argv[3] ? [process.argv[3]] : [])];
const config = join(root, 'examples/invalid/unknown-cell.jacobian.json');

const times = clis.map(() => []);
for (let i = 0; i < runs; i++) {
  clis.forEach((cli, k) => {
    const started = process.hrtime.bigint();
    const run = spawnSync(process.execPath, [cli, 'analyze', config], { encoding: 'utf8' });
    times[k].push(Number(process.hrtime.bigint() - started) / 1e6);
    if (run.status !== 2) throw new Error(`${cli}: expected exit 2, got ${run.status}: ${run.stderr}`);
  });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
clis.forEach((cli, k) => console.log(`cli start to a schema error: median ${median(times[k]).toFixed(0)} ms over ${runs} runs — ${cli}`));
if (clis.length === 2) console.log(`ratio this build / other: ${(median(times[0]) / median(times[1])).toFixed(2)}`);
