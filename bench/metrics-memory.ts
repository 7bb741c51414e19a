// Heap and time of the dataset metrics over synthetic records (bench/synthetic-dialogues.ts),
// streamed through the same accumulator the metrics activity uses. Node runs with --expose-gc so
// memory is measured after a full collection: what the metrics retain, not garbage. Memory is the
// JS heap plus ArrayBuffers (typed arrays' contents live outside the heap).
//
//   npm run bench:metrics-memory -- [--count 40000]
//
// Prints memory before and after (and at every tenth of the run), the time, and the metrics
// that grow with the data (distinct-n, near-duplicates: the true count is floor(count / 100));
// last a line `BENCH {json}` for scripts.
import { parseArgs } from 'node:util';
import { DatasetMetricsAccumulator } from '../src/metrics/dataset-metrics';
import { syntheticRecord } from './synthetic-dialogues';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run node with --expose-gc (npm run bench:metrics-memory does)');
  process.exit(2);
}
const { values } = parseArgs({
  args: process.argv.slice(2),
  strict: true,
  options: { count: { type: 'string', default: '40000' } },
});
const count = Number(values.count);
if (!Number.isInteger(count) || count <= 0)
  throw new Error(`--count must be a positive integer, got ${values.count}`);

/** Heap used plus ArrayBuffers, after a full collection, in MiB. */
function heapMb(): number {
  gc!();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return (heapUsed + arrayBuffers) / 2 ** 20;
}

const baseline = heapMb();
const started = performance.now();
const metrics = new DatasetMetricsAccumulator();
let words = 0;
for (let i = 0; i < count; i++) {
  const record = syntheticRecord(i);
  for (const turn of record.conversations) words += turn.value.split(' ').length;
  metrics.add(record);
  if ((i + 1) % Math.max(1, Math.floor(count / 10)) === 0) {
    console.log(
      `${i + 1} records  heap+buffers ${(heapMb() - baseline).toFixed(1)} MiB above baseline  ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
}
const result = metrics.result();
const seconds = (performance.now() - started) / 1000;
const retainedMb = heapMb() - baseline;
const report = {
  count,
  words,
  seconds: Math.round(seconds * 10) / 10,
  recordsPerSecond: Math.round(count / seconds),
  baselineHeapMb: Math.round(baseline * 10) / 10,
  retainedHeapMb: Math.round(retainedMb * 10) / 10,
  distinct1Questions: result.distinct1Questions,
  distinct2Questions: result.distinct2Questions,
  distinct1Answers: result.distinct1Answers,
  distinct2Answers: result.distinct2Answers,
  nearDuplicateDialogues: result.nearDuplicateDialogues,
  standardError: result.nearDuplicateDialoguesStandardError ?? 0,
  trueNearDuplicates: Math.floor(count / 100),
};
console.log(
  `${count} records, ${words} words in ${report.seconds} s (${report.recordsPerSecond}/s); metrics retain ${report.retainedHeapMb} MiB of heap and ArrayBuffers after gc`,
);
console.log(`BENCH ${JSON.stringify(report)}`);
// Keeps the accumulator alive until the last measurement.
if (metrics.result().dialogues !== count) throw new Error('lost records');
