// The processes a fault or benchmark script runs and breaks: a Temporal dev server on a file
// database (so that it can be killed and started again), parrot workers in their own processes,
// and the CPU time each has used (from /proc).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { requireTool, TEMPORAL_BIN } from '../test/helpers/tools';

const ROOT = path.resolve(__dirname, '..');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `temporal server start-dev` on `port`, with parrot's search attributes and eager activities; its
 * database in `dbFile` (it can be restarted), or in memory (as `npm run bench`'s: cheaper in CPU).
 */
export function startTemporalServer(port: number, dbFile?: string): ChildProcess {
  return spawn(
    requireTool(TEMPORAL_BIN),
    [
      'server',
      'start-dev',
      '--headless',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      ...(dbFile ? ['--db-filename', dbFile] : []),
      '--search-attribute',
      'ParrotDataset=Keyword',
      '--search-attribute',
      'ParrotPhase=Keyword',
      '--search-attribute',
      'ParrotDialogues=KeywordList',
      '--log-level',
      'error',
      '--dynamic-config-value',
      'system.enableActivityEagerExecution=true',
    ],
    { stdio: 'ignore' },
  );
}

export async function waitForServer(address: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      const c = await Connection.connect({ address, connectTimeout: 1000 });
      await c.healthService.check({});
      await c.close();
      return;
    } catch {
      await sleep(200);
    }
  }
  throw new Error(`Temporal at ${address} did not come up`);
}

/** A worker (src/worker.ts through tsx's require hook: one process) with `env` added; resolves once it is ready. */
export function spawnWorker(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const worker = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'src/worker.ts')], {
    env: { ...process.env, PARROT_LOG_LEVEL: 'ERROR', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    worker.stdout.on('data', (d) => String(d).includes('parrot worker ready') && resolve(worker));
    worker.once('exit', (code) => reject(new Error(`worker exited at start (${code})`)));
  });
}

export async function stopProcess(p: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill(signal);
  await exited;
}

// CPU time from /proc/<pid>/stat: utime + stime (fields 14, 15, in clock ticks), all threads.
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (ms) a process has used so far; NaN when it is gone. */
export function cpuMs(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) ": f[0] is field 3
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}
