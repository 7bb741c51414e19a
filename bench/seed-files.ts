// Seed files at real size: generates a ShareGPT-shaped JSON array (1 GiB by default, in the temp
// folder, deleted after), normalises it into chunks as a dataset's inspectSeeds does, then picks
// seeds from the chunks as a fresh worker would. Prints time, peak RSS and peak heap for each.
//   npm run bench:seeds [-- --mib 1024 --picks 10000]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { SeedSource } from '../src/seeds/seed-source';
import { writeShareGptFile } from '../test/helpers/sharegpt-file';

const { values } = parseArgs({
  args: process.argv.slice(2),
  strict: true,
  options: { mib: { type: 'string', default: '1024' }, picks: { type: 'string', default: '10000' } },
});
const MiB = 2 ** 20;

/** Peak RSS and heap while `step` runs, sampled every 20 ms. */
async function measure<T>(name: string, step: () => Promise<T>): Promise<T> {
  const peak = { rss: 0, heap: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heap = Math.max(peak.heap, m.heapUsed);
  };
  sample();
  const timer = setInterval(sample, 20);
  const started = process.hrtime.bigint();
  const result = await step();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  clearInterval(timer);
  sample();
  console.log(
    `${name}: ${(ms / 1000).toFixed(1)} s, peak RSS ${(peak.rss / MiB).toFixed(0)} MiB, peak heap ${(peak.heap / MiB).toFixed(0)} MiB`,
  );
  return result;
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-bench-seeds-'));
  const file = path.join(dir, 'sharegpt.json');
  try {
    const rows = await writeShareGptFile(file, Number(values.mib) * MiB);
    const size = fs.statSync(file).size;
    console.log(
      `source: ${(size / MiB).toFixed(0)} MiB, ${rows} rows; node ${process.version}, ${os.cpus().length} cores`,
    );
    const output = pathToFileURL(path.join(dir, 'out')).href;
    const report = await measure('normalise (stream, hash, write chunks)', () =>
      new SeedSource().normalize(pathToFileURL(file).href, output, 'bench'),
    );
    console.log(
      `  ${report.seeds} seeds in ${Math.ceil(report.seeds / report.chunks!.perChunk)} chunks, ${report.skippedLines} skipped`,
    );
    const worker = new SeedSource();
    const picks = Number(values.picks);
    await measure(`pick ${picks} seeds in a fresh worker`, async () => {
      for (let i = 0; i < picks; i++) await worker.pick('unused', 1, i, report.chunks);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
