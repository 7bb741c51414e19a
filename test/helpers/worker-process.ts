// A parrot worker as its own process (`tsx src/worker.ts`, as `npm run worker:dev` runs it), for
// tests of what is set once per process: Runtime.install's telemetry, the tracer. The test
// process has its own runtime (test/global-fixtures.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { eventually, GiveUp } from './eventually';
import { ROOT } from './tools';
import { TEST_ROOTS_LIST } from './roots';

export interface WorkerProcess {
  /** stdout and stderr so far. */
  log(): string;
  /** SIGTERM, and waits for it to exit. */
  stop(): Promise<void>;
  /** SIGKILL (no grace: its activities and workflow tasks are left to time out), and waits for it to exit. */
  kill(): Promise<void>;
}

/** Starts the worker with `env` added to the test's (and the tests' roots), and resolves once it says it is ready. */
export async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  let log = '';
  const proc: ChildProcess = spawn(
    path.join(ROOT, 'node_modules/.bin/tsx'),
    [path.join(ROOT, 'src/worker.ts')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        PARROT_SHUTDOWN_GRACE_SECONDS: '1',
        PARROT_LOG_LEVEL: 'WARN',
        PARROT_ALLOWED_ROOTS: TEST_ROOTS_LIST,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: tsx runs the worker in a child process, which a SIGKILL must reach too.
      detached: true,
    },
  );
  proc.stdout!.on('data', (c) => (log += c));
  proc.stderr!.on('data', (c) => (log += c));
  const end = async (signal: NodeJS.Signals) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    if (signal === 'SIGKILL') process.kill(-proc.pid!, signal);
    else proc.kill(signal); // tsx passes it on, and waits for the worker to exit
    await exited;
  };
  const stop = () => end('SIGTERM');
  await eventually(
    () => {
      if (proc.exitCode !== null) throw new GiveUp(`the worker exited (${proc.exitCode}):\n${log}`);
      return log.includes('parrot worker ready');
    },
    { what: 'the worker to start', timeout: 120_000 },
  ).catch(async (err: Error) => {
    await stop();
    throw new Error(`${err.message}:\n${log}`, { cause: err });
  });
  return { log: () => log, stop, kill: () => end('SIGKILL') };
}
