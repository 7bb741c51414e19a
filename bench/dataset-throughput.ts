// A dataset run against a FAKE OpenAI-compatible provider (test/helpers/fake-openai-server.ts) with realistic
// (lognormal) latency, a real Temporal dev server (or TEMPORAL_ADDRESS, if set) and workers in
// their own processes.
//
//   npm run bench -- [--count 1000] [--turns 8] [--concurrency N|auto] [--dialogues-per-workflow N]
//     [--max-events-per-run N] [--latency-median-ms 0] [--latency-sigma 0.5] [--latency-min-ms MS]
//     [--latency-max-ms MS] [--tokens-per-sec 0] [--rpm 0] [--tpm 0] [--error-rate 0]
//     [--endpoint-rpm <rpm>] [--endpoint-tpm <tpm>] [--endpoint-max-concurrency N] [--workers 1]
//     [--server-slots N] [--server-abort true|false] [--server-pid PID] [--input '{"llmCalls":"local"}']
//     [--cancel-after-s S]
//   e.g. npm run bench -- --count 3000 --turns 3 --latency-median-ms 5000 --latency-sigma 0.5 --latency-min-ms 200 --latency-max-ms 20000
//
// Latency: median × exp(sigma × N(0,1)), clamped to [min, max]; sigma 0 = fixed. --rpm/--tpm are
// the fake provider's limits; --endpoint-rpm/--endpoint-tpm what the worker's endpoint config
// declares (the same by default; 0 to run without them), for the endpoint as a whole (each worker
// takes its share); --endpoint-max-concurrency declares requests open at once. --server-slots: the
// fake is a bounded server, as vLLM at its batch limit: N requests at once, each for its latency,
// the rest queued in order; --server-abort false: it works on to the end of a request whose client
// left (vLLM aborts it: the default). --concurrency auto (or absent),
// --dialogues-per-workflow and --max-events-per-run absent: the workflow's defaults. --server-pid:
// the Temporal server to measure CPU of when TEMPORAL_ADDRESS points at an external one.
//
// Prints LLM calls/s (generation phase and whole run), calls in flight at the provider, its held
// time, the 429 share, with --server-slots the share of the server's capacity used during
// generation, generations abandoned after they started, requests dropped from its queue and its
// queue's peak; the endpoint as the workers see it (in flight, waiting, limit, abandoned: the
// progress query's peak), the dataset's window, worker RSS, CPU ms per LLM call of server, workers and this process
// (from /proc/<pid>/stat), the export read back, the parent's runs and largest history; and last
// a line `BENCH {json}` for scripts. Beside the outcome it prints what `npm run start -- --estimate`
// would have said of the same input (src/estimate/dataset-estimate.ts), told the fake's completion
// length (40 tokens) and its median latency: calls, tokens and wall time, estimated and measured. --cancel-after-s: instead of running to the end, samples the
// dialogues in flight for S seconds, then cancels the dataset and times how long until no group
// runs and the provider holds no request (how many dialogues one dataset holds, and a cancel at scale).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { PARROT_PHASE, PARROT_SEARCH_ATTRIBUTES } from '../src/workflows/search-attributes';
import type { DatasetProgress } from '../src/workflows/dataset';
import type { DatasetResult } from '../src/types';
import {
  startFakeOpenAiServer,
  type BoundedStats,
  type FakeOpenAiServer,
} from '../test/helpers/fake-openai-server';
import { parseDatasetInput } from '../src/config/dataset-input';
import { loadEndpointRegistry } from '../src/config/endpoints';
import { estimateDataset, formatDuration, type DatasetEstimate } from '../src/estimate/dataset-estimate';
import { firstSeeds } from '../src/seeds/seed-source';
import { cpuMs } from './dev-stack';

const ROOT = path.resolve(__dirname, '..');
// The usage is the header comment's, from `npm run bench --` to the example.
const HEADER = fs.readFileSync(__filename, 'utf8').split('\n');
const USAGE = HEADER.slice(
  HEADER.findIndex((l) => l.includes('npm run bench --')),
  HEADER.findIndex((l) => l.includes('e.g. npm run')) + 1,
)
  .map((l) => l.slice(3))
  .join('\n');

function fail(message: string): never {
  console.error(`${message}\nusage:\n${USAGE}`);
  process.exit(2);
}

const KNOBS = [
  'count',
  'turns',
  'concurrency',
  'dialogues-per-workflow',
  'max-events-per-run',
  'latency-median-ms',
  'latency-sigma',
  'latency-min-ms',
  'latency-max-ms',
  'tokens-per-sec',
  'rpm',
  'tpm',
  'error-rate',
  'endpoint-rpm',
  'endpoint-tpm',
  'endpoint-max-concurrency',
  'server-slots',
  'server-abort',
  'workers',
  'server-pid',
  'input',
  'cancel-after-s',
] as const;
let values: Partial<Record<(typeof KNOBS)[number] | 'help', string | boolean>>;
try {
  ({ values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    allowPositionals: false,
    options: {
      ...Object.fromEntries(KNOBS.map((k) => [k, { type: 'string' as const }])),
      help: { type: 'boolean' },
    },
  }));
} catch (err) {
  fail((err as Error).message);
}
if (values.help) {
  console.log(`usage:\n${USAGE}`);
  process.exit(0);
}

/** `--name` as a number ≥ min (an integer if `int`), or `d` when absent. */
function num(name: (typeof KNOBS)[number], d: number, { min = 0, int = false } = {}): number {
  const raw = values[name] as string | undefined;
  if (raw === undefined) return d;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < min || (int && !Number.isInteger(n))) {
    fail(
      `--${name} must be ${int ? 'an integer' : 'a number'} ≥ ${min}${name === 'concurrency' ? " or 'auto'" : ''}, got '${raw}'`,
    );
  }
  return n;
}
const opt = (name: (typeof KNOBS)[number], o: { min?: number; int?: boolean } = {}) =>
  values[name] === undefined ? undefined : num(name, 0, o);

/** `--input`: more dataset input fields as JSON, checked by the workflow's own schema. */
function extraInput(): Record<string, unknown> {
  if (values.input === undefined) return {};
  try {
    return JSON.parse(values.input as string) as Record<string, unknown>;
  } catch (err) {
    fail(`--input must be a JSON object: ${(err as Error).message}`);
  }
}

const cfg = {
  count: num('count', 1000, { min: 1, int: true }),
  turns: num('turns', 8, { min: 1, int: true }),
  concurrency: values.concurrency === 'auto' ? undefined : opt('concurrency', { min: 1, int: true }),
  dialoguesPerWorkflow: opt('dialogues-per-workflow', { min: 1, int: true }),
  maxEventsPerRun: opt('max-events-per-run', { min: 1, int: true }),
  latencyMedianMs: num('latency-median-ms', 0),
  latencySigma: num('latency-sigma', 0.5),
  latencyMinMs: opt('latency-min-ms'),
  latencyMaxMs: opt('latency-max-ms'),
  tokensPerSec: num('tokens-per-sec', 0),
  rpm: num('rpm', 0, { int: true }),
  tpm: num('tpm', 0, { int: true }),
  errorRate: num('error-rate', 0),
  endpointRpm: num('endpoint-rpm', num('rpm', 0), { int: true }),
  endpointTpm: num('endpoint-tpm', num('tpm', 0), { int: true }),
  endpointMaxConcurrency: opt('endpoint-max-concurrency', { min: 1, int: true }),
  serverSlots: opt('server-slots', { min: 1, int: true }),
  serverAbort: values['server-abort'] === undefined ? true : values['server-abort'] === 'true',
  workers: num('workers', 1, { min: 1, int: true }),
  serverPid: opt('server-pid', { min: 1, int: true }),
  cancelAfterS: opt('cancel-after-s', { min: 1 }),
};
if (cfg.errorRate > 1) fail('--error-rate must be a share in [0, 1]');
if (values['server-abort'] !== undefined && !['true', 'false'].includes(values['server-abort'] as string))
  fail(`--server-abort must be true or false, got '${values['server-abort'] as string}'`);
if (values['server-abort'] !== undefined && cfg.serverSlots === undefined)
  fail('--server-abort needs --server-slots');
if (cfg.latencyMinMs !== undefined && cfg.latencyMaxMs !== undefined && cfg.latencyMinMs > cfg.latencyMaxMs)
  fail('--latency-min-ms must be ≤ --latency-max-ms');

const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x: number) => `${x.toFixed(1)} ms`;
const fix = (x: number | undefined, d = 1) => (x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));
/** For the JSON line: rounded, and null where not measured. */
const r = (x: number | undefined, d = 2) =>
  x === undefined || !Number.isFinite(x) ? null : Number(x.toFixed(d));

/** Successful requests (or their tokens) per 60 s window, windows every 10 s inside the run's busy span: the median. */
function sustainedPerMinute(okAt: number[], weights?: number[]): number {
  const sum = (from: number, to: number) =>
    okAt.reduce((n, t, i) => (t >= from && t < to ? n + (weights ? weights[i] : 1) : n), 0);
  if (!okAt.length || okAt.at(-1)! - okAt[0] < 60_000) return sum(-Infinity, Infinity);
  const counts: number[] = [];
  for (let start = okAt[0]; start + 60_000 <= okAt.at(-1)!; start += 10_000)
    counts.push(sum(start, start + 60_000));
  return pct(counts, 50);
}

const rssMb = (pid: number | undefined) => {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  } catch {
    return NaN;
  }
};

/** The `temporal server start-dev` that TestWorkflowEnvironment started for us: our binary, our port (other dev servers may run). */
function findDevServerPid(port: string): number | undefined {
  const bin = path.join(ROOT, '.tools/bin/temporal');
  const found: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let argv: string[];
    try {
      argv = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (
      argv[0] === bin &&
      argv.includes('start-dev') &&
      (argv.includes(port) || argv.some((a) => a === `--port=${port}`))
    )
      found.push(Number(d));
  }
  return found.length === 1 ? found[0] : undefined;
}

/** completion_tokens of every fake chat reply. */
const COMPLETION_TOKENS = 40;

/** What `npm run start -- --estimate` says of the input, told what the fake provider does. */
async function estimateOf(
  input: Record<string, unknown>,
  endpointEnv: NodeJS.ProcessEnv,
): Promise<DatasetEstimate> {
  const parsed = parseDatasetInput(input);
  const { seeds, complete } = await firstSeeds(parsed.seeds, 10_000);
  return estimateDataset(
    parsed,
    loadEndpointRegistry(endpointEnv),
    { meanChars: seeds.reduce((n, q) => n + q.length, 0) / seeds.length, sampled: seeds.length, complete },
    {
      // The fake's latency: its median, plus the time its tokens take; at least a millisecond.
      latencyMs: Math.max(
        1,
        cfg.latencyMedianMs + (cfg.tokensPerSec ? (COMPLETION_TOKENS / cfg.tokensPerSec) * 1000 : 0),
      ),
      questionTokens: COMPLETION_TOKENS,
      answerTokens: COMPLETION_TOKENS,
    },
  );
}

async function main() {
  console.log('config', cfg);
  const provider = await startFakeOpenAiServer({
    completionTokens: COMPLETION_TOKENS,
    recordRequests: false,
    ...cfg,
    slots: cfg.serverSlots,
    abortOnClientLeave: cfg.serverAbort,
  });
  let env: TestWorkflowEnvironment | undefined;
  let address = process.env.TEMPORAL_ADDRESS;
  if (!address) {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: path.join(ROOT, '.tools/bin/temporal') },
        searchAttributes: PARROT_SEARCH_ATTRIBUTES,
        // As infra/stack.sh runs it: eager activity dispatch on; BENCH_SERVER_ARGS adds to it.
        extraArgs: [
          '--dynamic-config-value',
          'system.enableActivityEagerExecution=true',
          ...(process.env.BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean),
        ],
      },
    });
    address = env.connection.options.address;
  }
  const serverPid = cfg.serverPid ?? (env ? findDevServerPid(address.split(':').at(-1)!) : undefined);
  if (!serverPid)
    console.log(
      `Temporal server process not found${env ? '' : ' (external server: --server-pid PID to measure it)'}: its CPU is reported n/a`,
    );
  const client = new Client({ connection: await Connection.connect({ address }) });
  const taskQueue = `bench-${Date.now()}`;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-bench-'));

  // Workers in their own processes (one node process each: tsx as a require hook), so RSS and
  // CPU are theirs. The limits declared are the endpoint's: each worker takes its share.
  const endpointEnv = {
    PARROT_ENDPOINT_FAKE_URL: provider.url,
    ...(cfg.endpointRpm && { PARROT_ENDPOINT_FAKE_RPM: String(cfg.endpointRpm) }),
    ...(cfg.endpointTpm && { PARROT_ENDPOINT_FAKE_TPM: String(cfg.endpointTpm) }),
    ...(cfg.endpointMaxConcurrency && {
      PARROT_ENDPOINT_FAKE_MAX_CONCURRENCY: String(cfg.endpointMaxConcurrency),
    }),
  };
  const workers = await Promise.all(
    Array.from({ length: cfg.workers }, async () => {
      const w = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'src/worker.ts')], {
        env: {
          ...process.env,
          PARROT_LOG_LEVEL: 'ERROR',
          TEMPORAL_ADDRESS: address,
          PARROT_TASK_QUEUE: taskQueue,
          // Its output folder, and the roots the caller set (for seeds of an --input of its own).
          PARROT_ALLOWED_ROOTS: [pathToFileURL(out).href, process.env.PARROT_ALLOWED_ROOTS].join(' '),
          ...endpointEnv,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        w.stdout.on('data', (d) => String(d).includes('parrot worker ready') && resolve());
        w.once('exit', (code) => reject(new Error(`worker exited (${code})`)));
      });
      return w;
    }),
  );
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const cpu = () => ({
    server: cpuMs(serverPid),
    worker: sum(workers.map((w) => cpuMs(w.pid))),
    bench: cpuMs(process.pid),
  });
  const rss: { t: number; mb: number }[] = []; // summed over workers

  const workflowId = `bench-${cfg.count}-${Date.now()}`;
  const input = {
    count: cfg.count,
    turns: cfg.turns,
    output: pathToFileURL(out).href,
    ask: { endpoint: 'fake', model: 'fake' },
    answer: { endpoint: 'fake', model: 'fake' },
    ...extraInput(),
    ...(cfg.concurrency !== undefined && { concurrency: cfg.concurrency }),
    ...(cfg.dialoguesPerWorkflow !== undefined && { dialoguesPerWorkflow: cfg.dialoguesPerWorkflow }),
    ...(cfg.maxEventsPerRun !== undefined && { maxEventsPerRun: cfg.maxEventsPerRun }),
  };
  const estimate = await estimateOf(input, endpointEnv);
  const cpuStart = cpu();
  const started = Date.now();
  const handle = await client.workflow.start('generateDataset', { taskQueue, workflowId, args: [input] });

  const tearDown = async () => {
    await Promise.all(
      workers.map((w) => {
        w.kill('SIGTERM');
        return new Promise((res) => w.once('exit', res));
      }),
    );
    await client.connection.close();
    await env?.teardown();
    await provider.close();
    fs.rmSync(out, { recursive: true, force: true });
  };
  if (cfg.cancelAfterS) {
    await holdThenCancel(
      client,
      handle,
      provider,
      workers.map((w) => w.pid),
    );
    return tearDown();
  }

  // Each second: worker RSS, and whether generation is over (the phase search attribute, read
  // from the server so no worker is asked); CPU is read again at the first second it is.
  let genEnd: { at: number; cpu: ReturnType<typeof cpu> } | undefined;
  let sampling = true;
  const flow = new FlowSamples();
  const sampler = (async () => {
    for (let tick = 1; sampling; tick++) {
      await new Promise((res) => setTimeout(res, 1000));
      rss.push({ t: (Date.now() - started) / 1000, mb: sum(workers.map((w) => rssMb(w.pid))) });
      if (!genEnd) {
        try {
          const d = await handle.describe();
          const phase = d.typedSearchAttributes.get(PARROT_PHASE);
          if ((phase && phase !== 'generating') || d.status.name !== 'RUNNING')
            genEnd = { at: Date.now(), cpu: cpu() };
        } catch {
          /* a describe can fail under load; the next one will do */
        }
      }
      if (tick % 5 === 0) {
        handle.query<DatasetProgress>('progress').then(
          (p) => {
            flow.observe(p);
            if (tick % 10 === 0)
              console.log(
                `  t=${rss.at(-1)!.t.toFixed(0)}s ${p.phase} ${p.completed}/${p.requested} done, ${p.failed} failed, ${p.llmCallsPerSecond} calls/s, run ${p.runs}, history ${p.historyLength}, provider holds ${provider.stats.inFlight}, window ${p.window}, ${flow.describe(p)}, worker RSS ${rss.at(-1)!.mb.toFixed(0)} MB`,
              );
          },
          () => {
            /* a query can time out under load; the next one will do */
          },
        );
      }
    }
  })();
  const result = (await handle.result()) as DatasetResult;
  const end = Date.now();
  genEnd ??= { at: end, cpu: cpu() }; // finished before a sample saw the phase change
  sampling = false;
  await sampler;

  const calls = result.usage.ask.calls + result.usage.answer.calls;
  // Generation ends with the last LLM answer (the phase is seen up to a second later).
  const genOkAt = provider.stats.okAt.filter((t) => t <= genEnd!.at);
  const genSeconds = ((genOkAt.at(-1) ?? genEnd.at) - started) / 1000;
  const wall = (end - started) / 1000;
  // Calls in flight at the provider: the per-second samples of the busy part (first to last non-zero in generation).
  const series = provider.stats.inFlightSeries
    .filter((s) => s.at >= started && s.at <= genEnd!.at)
    .map((s) => s.n);
  const busy = series.slice(
    series.findIndex((n) => n > 0),
    series.findLastIndex((n) => n > 0) + 1,
  );
  const cpuPerCall = {
    server: (genEnd.cpu.server - cpuStart.server) / calls,
    worker: (genEnd.cpu.worker - cpuStart.worker) / calls,
    bench: (genEnd.cpu.bench - cpuStart.bench) / calls,
  };
  const cores = (k: keyof typeof cpuStart) => (genEnd!.cpu[k] - cpuStart[k]) / (genEnd!.at - started);

  // The export read back: every dialogue once, and what the manifest says of it.
  const exportedIds = new Set<string>();
  let exportedRows = 0;
  for (const shard of result.export.shards) {
    for (const line of fs.readFileSync(path.join(out, shard.key), 'utf8').split('\n')) {
      if (!line) continue;
      exportedRows++;
      exportedIds.add((JSON.parse(line) as { id: string }).id);
    }
  }
  const { stats } = provider;
  const bounded = stats.bounded && boundedFigures(stats.bounded, genEnd.at);
  const held = stats.okHeldMs;
  const share429 = stats.rateLimited / stats.requests;
  const rssMbs = rss.map((x) => x.mb).filter(Number.isFinite);
  const perWorkers = cfg.workers > 1 ? ` (sum of ${cfg.workers})` : '';
  const rows = {
    'dialogues (completed / requested)': `${result.completed} / ${cfg.count}`,
    'LLM calls (ok) / provider requests': `${calls} / ${stats.requests}`,
    'export read back: rows / unique ids / shards / missing': `${exportedRows} / ${exportedIds.size} / ${result.export.shards.length} / ${result.export.missing.count}`,
    'wall time: generation / whole run': `${genSeconds.toFixed(1)} s / ${wall.toFixed(1)} s`,
    'LLM calls per second: generation / whole run': `${(calls / genSeconds).toFixed(1)} / ${(calls / wall).toFixed(1)}`,
    'dialogues per second (whole run)': (result.completed / wall).toFixed(2),
    'provider held time of 200s p50 / p99': `${ms(pct(held, 50))} / ${ms(pct(held, 99))}`,
    'calls in flight at the provider: peak / median (busy part)': `${stats.peakInFlight} / ${fix(pct(busy, 50), 0)}`,
    'provider answered 429 / 500': `${stats.rateLimited} / ${stats.errors} (429: ${(100 * share429).toFixed(2)}% of requests)`,
    ...(cfg.tpm && {
      'sustained tokens per minute (median 60 s window) / tpm limit': `${sustainedPerMinute(stats.okAt, stats.okTokens).toFixed(0)} / ${cfg.tpm} = ${((100 * sustainedPerMinute(stats.okAt, stats.okTokens)) / cfg.tpm).toFixed(1)}%`,
    }),
    ...(cfg.rpm && {
      'sustained requests per minute (median 60 s window) / rpm limit': `${sustainedPerMinute(stats.okAt).toFixed(0)} / ${cfg.rpm} = ${((100 * sustainedPerMinute(stats.okAt)) / cfg.rpm).toFixed(1)}%`,
    }),
    ...(bounded && {
      'bounded server: share of its capacity used in generation / generations abandoned after they started / dropped from its queue': `${(100 * bounded.capacityShare).toFixed(1)}% / ${bounded.abandoned} / ${bounded.dropped}`,
      'bounded server: requests queued, peak / median (busy part)': `${bounded.queuePeak} / ${bounded.queueMedian}`,
    }),
    'parent runs / largest parent history': `${result.runs} / ${result.maxHistoryLength} events`,
    [`worker RSS${perWorkers} min / median / max`]: `${fix(Math.min(...rssMbs), 0)} / ${fix(pct(rssMbs, 50), 0)} / ${fix(Math.max(...rssMbs), 0)} MB`,
    [`CPU ms per LLM call: server / worker${perWorkers} / server+worker / bench`]: `${fix(cpuPerCall.server, 2)} / ${fix(cpuPerCall.worker, 2)} / ${fix(cpuPerCall.server + cpuPerCall.worker, 2)} / ${fix(cpuPerCall.bench, 2)}`,
    'CPU cores busy in generation: server / worker / bench': `${fix(cores('server'), 2)} / ${fix(cores('worker'), 2)} / ${fix(cores('bench'), 2)}`,
  };
  console.table(rows);
  const usage = {
    promptTokens: result.usage.ask.promptTokens + result.usage.answer.promptTokens,
    completionTokens: result.usage.ask.completionTokens + result.usage.answer.completionTokens,
  };
  console.log(
    `estimate (npm run start -- --estimate, told ${COMPLETION_TOKENS}-token replies and the latency median) vs outcome:`,
  );
  console.table({
    'LLM calls': { estimate: estimate.total.calls, outcome: calls },
    'prompt tokens': { estimate: estimate.total.promptTokens, outcome: usage.promptTokens },
    'completion tokens': { estimate: estimate.total.completionTokens, outcome: usage.completionTokens },
    'wall time: generation / whole run': {
      estimate: `${formatDuration(estimate.wallSeconds)} (${estimate.bounds[0].what})`,
      outcome: `${genSeconds.toFixed(1)} s / ${wall.toFixed(1)} s`,
    },
  });
  if (rss.length) {
    const quarters = [0.25, 0.5, 0.75, 1].map((q) => rss[Math.max(0, Math.ceil(q * rss.length) - 1)]);
    console.log(
      `worker RSS${perWorkers} over time:`,
      quarters.map((x) => `${x.t.toFixed(0)}s ${x.mb.toFixed(0)} MB`).join(', '),
    );
  }
  console.log(
    `BENCH ${JSON.stringify({
      count: cfg.count,
      turns: cfg.turns,
      concurrency: cfg.concurrency ?? 'auto',
      dialoguesPerWorkflow: cfg.dialoguesPerWorkflow ?? null,
      input: extraInput(),
      workers: cfg.workers,
      latencyMedianMs: cfg.latencyMedianMs,
      latencySigma: cfg.latencySigma,
      latencyMinMs: cfg.latencyMinMs ?? null,
      latencyMaxMs: cfg.latencyMaxMs ?? null,
      rpm: cfg.rpm,
      tpm: cfg.tpm,
      errorRate: cfg.errorRate,
      completed: result.completed,
      calls,
      requests: stats.requests,
      genSeconds: r(genSeconds),
      wallSeconds: r(wall),
      callsPerSecGen: r(calls / genSeconds),
      callsPerSecWall: r(calls / wall),
      dialoguesPerSec: r(result.completed / wall),
      heldP50Ms: r(pct(held, 50), 1),
      heldP99Ms: r(pct(held, 99), 1),
      inFlightPeak: stats.peakInFlight,
      inFlightMedian: r(pct(busy, 50), 1),
      rateLimited: stats.rateLimited,
      errors: stats.errors,
      share429: r(share429, 4),
      exportRows: exportedRows,
      exportUniqueIds: exportedIds.size,
      exportMissing: result.export.missing.count,
      runs: result.runs,
      maxHistoryLength: result.maxHistoryLength,
      workerRssMaxMb: r(Math.max(...rssMbs), 0),
      workerRssMedianMb: r(pct(rssMbs, 50), 0),
      cpuMsPerCallServer: r(cpuPerCall.server, 3),
      cpuMsPerCallWorker: r(cpuPerCall.worker, 3),
      cpuMsPerCallServerWorker: r(cpuPerCall.server + cpuPerCall.worker, 3),
      cpuMsPerCallBench: r(cpuPerCall.bench, 3),
      serverPid: serverPid ?? null,
      estimate: {
        calls: estimate.total.calls,
        promptTokens: estimate.total.promptTokens,
        completionTokens: estimate.total.completionTokens,
        wallSeconds: r(estimate.wallSeconds),
        boundBy: estimate.bounds[0].what,
      },
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      windowPeak: flow.windowPeak,
      windowMedian: r(pct(flow.windows, 50), 0),
      endpointLimitPeak: flow.limitPeak,
      endpointLimitMedian: r(pct(flow.limits, 50), 0),
      endpointWaitingPeak: flow.waitingPeak,
      endpointAbandoned: flow.abandoned,
      serverSlots: cfg.serverSlots ?? null,
      serverAbort: cfg.serverSlots ? cfg.serverAbort : null,
      ...(bounded && {
        capacityShare: r(bounded.capacityShare, 4),
        abandoned: bounded.abandoned,
        dropped: bounded.dropped,
        queuePeak: bounded.queuePeak,
        queueMedian: bounded.queueMedian,
      }),
    })}`,
  );
  await tearDown();
}

/** The dataset's window and its endpoint as the progress query shows them, sampled while generating. */
class FlowSamples {
  windows: number[] = [];
  limits: number[] = [];
  windowPeak = 0;
  limitPeak = 0;
  waitingPeak = 0;
  inFlightPeak = 0;
  abandoned = 0;

  observe(p: DatasetProgress) {
    if (p.phase !== 'generating') return;
    this.windows.push(p.window);
    this.windowPeak = Math.max(this.windowPeak, p.window);
    for (const e of Object.values(p.endpoints ?? {})) {
      this.limits.push(e.limit);
      this.limitPeak = Math.max(this.limitPeak, e.limit);
      this.waitingPeak = Math.max(this.waitingPeak, e.waiting);
      this.inFlightPeak = Math.max(this.inFlightPeak, e.inFlight);
      this.abandoned = Math.max(this.abandoned, e.abandoned);
    }
  }

  describe(p: DatasetProgress): string {
    return Object.entries(p.endpoints ?? {})
      .map(
        ([n, e]) =>
          `${n}: limit ${e.limit}, ${e.inFlight} open, ${e.waiting} waiting, ${e.abandoned} abandoned`,
      )
      .join('; ');
  }

  summary(): string {
    return `${this.limitPeak} / ${fix(pct(this.limits, 50), 0)}, ${this.waitingPeak}, ${this.inFlightPeak}, ${this.abandoned}`;
  }
}

/**
 * What the bounded server did in generation: its slots' useful time over the slots × the span from
 * the first request to the last generation delivered; work abandoned; its queue.
 */
function boundedFigures(b: BoundedStats, genEndAt: number) {
  const span = (b.lastServedAt ?? genEndAt) - (b.firstAt ?? genEndAt);
  const queue = b.queueSeries.filter((q) => q.at >= (b.firstAt ?? 0) && q.at <= genEndAt).map((q) => q.n);
  return {
    capacityShare: span > 0 ? b.busyMs / (b.slots * span) : NaN,
    abandoned: b.abandoned,
    dropped: b.dropped,
    queuePeak: b.queuePeak,
    queueMedian: queue.length ? pct(queue, 50) : 0,
  };
}

/** --cancel-after-s: the most dialogues in flight, then a cancel and how long it takes to stop everything. */
async function holdThenCancel(
  client: Client,
  handle: WorkflowHandle,
  provider: FakeOpenAiServer,
  workerPids: (number | undefined)[],
) {
  const started = Date.now();
  let peak = { running: 0, window: 0, at: 0 };
  let rssMax = 0;
  while (Date.now() - started < cfg.cancelAfterS! * 1000) {
    await new Promise((res) => setTimeout(res, 5000));
    rssMax = Math.max(
      rssMax,
      workerPids.reduce<number>((n, pid) => n + rssMb(pid), 0),
    );
    const p = await handle.query<DatasetProgress>('progress').catch(() => undefined);
    if (p && p.running > peak.running)
      peak = { running: p.running, window: p.window, at: (Date.now() - started) / 1000 };
    if (p)
      console.log(
        `  t=${((Date.now() - started) / 1000).toFixed(0)}s ${p.running} dialogues in flight (window ${p.window}), ${p.completed} done, provider holds ${provider.stats.inFlight}, worker RSS ${rssMax.toFixed(0)} MB max`,
      );
  }
  const cancelAt = Date.now();
  await handle.cancel();
  await handle.result().catch(() => undefined);
  const datasetClosedS = (Date.now() - cancelAt) / 1000;
  const running = async () =>
    (await client.workflow.count(`ParrotDataset="${handle.workflowId}" AND ExecutionStatus="Running"`)).count;
  while ((await running()) > 0) await new Promise((res) => setTimeout(res, 1000));
  const groupsClosedS = (Date.now() - cancelAt) / 1000;
  while (provider.stats.inFlight > 0) await new Promise((res) => setTimeout(res, 500));
  const requestsClosedS = (Date.now() - cancelAt) / 1000;
  const requestsAfter = provider.stats.requests;
  await new Promise((res) => setTimeout(res, 5000));
  const rows = {
    'dialogues in flight, peak (window)': `${peak.running} (${peak.window}) at ${peak.at.toFixed(0)} s`,
    'calls in flight at the provider, peak': provider.stats.peakInFlight,
    'worker RSS max': `${rssMax.toFixed(0)} MB`,
    'cancel: dataset closed / every group closed / provider holds nothing': `${datasetClosedS.toFixed(1)} s / ${groupsClosedS.toFixed(1)} s / ${requestsClosedS.toFixed(1)} s`,
    'requests in the 5 s after': provider.stats.requests - requestsAfter,
  };
  console.table(rows);
  console.log(
    `BENCH ${JSON.stringify({ count: cfg.count, turns: cfg.turns, concurrency: cfg.concurrency ?? 'auto', latencyMedianMs: cfg.latencyMedianMs, peakRunning: peak.running, peakWindow: peak.window, inFlightPeak: provider.stats.peakInFlight, workerRssMaxMb: Math.round(rssMax), datasetClosedS, groupsClosedS, requestsClosedS, requestsAfterCancel: provider.stats.requests - requestsAfter })}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
