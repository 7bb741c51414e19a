// A ShareGPT-shaped JSON array of a given size, written row by row (never whole in memory), for
// tests and benchmarks of seed files at real size. Row i's first human turn is `questionOf(i)`.
import fs from 'node:fs';
import { once } from 'node:events';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

export const questionOf = (i: number) => `Question ${i}: how does thing ${i} work?`;

/** Like ShareGPT's long answers: each row is ~5 KB, most of it the assistant's. */
const ANSWER = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(40);

/** Writes rows until the file reaches `bytes`; resolves to the number of rows. */
export async function writeShareGptFile(file: string, bytes: number): Promise<number> {
  const out = fs.createWriteStream(file);
  let written = 0;
  let rows = 0;
  const write = async (text: string) => {
    written += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('[\n');
  while (written < bytes) {
    const row = {
      id: `row-${rows}`,
      conversations: [
        { from: 'human', value: questionOf(rows) },
        { from: 'gpt', value: ANSWER },
        { from: 'human', value: 'And then?' },
        { from: 'gpt', value: ANSWER },
      ],
    };
    await write(`${rows ? ',\n' : ''}${JSON.stringify(row)}`);
    rows++;
  }
  await write('\n]\n');
  out.end();
  await once(out, 'finish');
  return rows;
}

/**
 * Samples the heap that stays reachable (a full collection before each sample, so that garbage
 * not yet collected does not count) until stopped: the largest growth over the start.
 */
export function sampleRetainedHeap(everyMs = 1000): { stop(): number } {
  const gc = collectGarbage();
  const retained = () => {
    gc();
    return process.memoryUsage().heapUsed;
  };
  const start = retained();
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, retained())), everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, retained()) - start;
    },
  };
}

/** V8's full collection, which node exposes only with --expose-gc: enabled here for this process. */
function collectGarbage(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
