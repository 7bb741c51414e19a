// `npm run bench -- count=1000 turns=8 concurrency=200 [latencyMs=0 jitterMs=0 tokensPerSec=0
//  rpm=0 tpm=0 errorRate=0 maxEventsPerRun=8000 endpointRpm=<rpm> endpointTpm=<tpm> workers=1]`
// rpm/tpm are the fake provider's limits; endpointRpm/endpointTpm what the worker's endpoint
// config declares (the same by default; 0 to run without them).
// A dataset run against a FAKE OpenAI-compatible provider (bench/fake-provider.ts), with a real
// Temporal dev server (or TEMPORAL_ADDRESS, if set) and a worker in its own process. Prints LLM
// calls/s, dialogues/s, activity latency and the provider's share of it, the largest parent
// history, and the worker's RSS over time.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { PARROT_DATASET, PARROT_PHASE } from '../src/workflows/search-attributes';
import type { DatasetProgress } from '../src/workflows/dataset';
import { startFakeProvider } from './fake-provider';

const ROOT = path.resolve(__dirname, '..');
const arg = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
const num = (k: string, d: number) => (arg[k] === undefined ? d : Number(arg[k]));
const cfg = {
  count: num('count', 1000), turns: num('turns', 8), concurrency: num('concurrency', 200), maxEventsPerRun: num('maxEventsPerRun', 8000),
  latencyMs: num('latencyMs', 0), jitterMs: num('jitterMs', 0), tokensPerSec: num('tokensPerSec', 0), rpm: num('rpm', 0), tpm: num('tpm', 0), errorRate: num('errorRate', 0),
  endpointRpm: num('endpointRpm', num('rpm', 0)), endpointTpm: num('endpointTpm', num('tpm', 0)),
  historySample: num('historySample', 100), workers: num('workers', 1),
};

const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

/** Successful requests (or their tokens) per 60 s window, windows every 10 s inside the run's busy span: the median. */
function sustainedPerMinute(okAt: number[], weights?: number[]): number {
  const sum = (from: number, to: number) => okAt.reduce((n, t, i) => (t >= from && t < to ? n + (weights ? weights[i] : 1) : n), 0);
  if (!okAt.length || okAt.at(-1)! - okAt[0] < 60_000) return sum(-Infinity, Infinity);
  const counts: number[] = [];
  for (let start = okAt[0]; start + 60_000 <= okAt.at(-1)!; start += 10_000) counts.push(sum(start, start + 60_000));
  return pct(counts, 50);
}

async function main() {
  console.log('config', cfg);
  const provider = await startFakeProvider(cfg);
  let env: TestWorkflowEnvironment | undefined;
  let address = process.env.TEMPORAL_ADDRESS;
  if (!address) {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: path.join(ROOT, '.tools/bin/temporal') }, searchAttributes: [PARROT_DATASET, PARROT_PHASE],
        // As infra/stack.sh runs it: eager activity dispatch on; BENCH_SERVER_ARGS adds to it.
        extraArgs: ['--dynamic-config-value', 'system.enableActivityEagerExecution=true', ...(process.env.BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean)],
      },
    });
    address = env.connection.options.address;
  }
  const client = new Client({ connection: await Connection.connect({ address }) });
  const taskQueue = `bench-${Date.now()}`;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-bench-'));

  // Workers in their own processes (one node process each: tsx as a require hook), so RSS is
  // theirs (the first one's is reported). Each gets the same RPM and its share of the TPM.
  const workers = await Promise.all(Array.from({ length: cfg.workers }, async () => {
    const w = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'src/worker.ts')], {
      env: { ...process.env, PARROT_LOG_LEVEL: 'ERROR', TEMPORAL_ADDRESS: address, PARROT_TASK_QUEUE: taskQueue, PARROT_ENDPOINT_FAKE_URL: provider.url,
        ...(cfg.endpointRpm && { PARROT_ENDPOINT_FAKE_RPM: String(cfg.endpointRpm) }), ...(cfg.endpointTpm && { PARROT_ENDPOINT_FAKE_TPM: String(Math.floor(cfg.endpointTpm / cfg.workers)) }) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      w.stdout!.on('data', (d) => String(d).includes('parrot worker ready') && resolve());
      w.once('exit', (code) => reject(new Error(`worker exited (${code})`)));
    });
    return w;
  }));
  const worker = workers[0];
  const rss: { t: number; mb: number }[] = [];
  const readRss = () => {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${worker.pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  };

  const workflowId = `bench-${cfg.count}-${Date.now()}`;
  const started = Date.now();
  const handle = await client.workflow.start('generateDataset', {
    taskQueue, workflowId,
    args: [{
      count: cfg.count, turns: cfg.turns, concurrency: cfg.concurrency, maxEventsPerRun: cfg.maxEventsPerRun, output: pathToFileURL(out).href,
      ask: { endpoint: 'fake', model: 'fake' }, answer: { endpoint: 'fake', model: 'fake' },
    }],
  });
  const sampler = setInterval(async () => {
    rss.push({ t: (Date.now() - started) / 1000, mb: readRss() });
    if (rss.length % 5 === 0) {
      try {
        const p = await handle.query<DatasetProgress>('progress');
        console.log(`  t=${rss.at(-1)!.t.toFixed(0)}s ${p.phase} ${p.completed}/${p.requested} done, ${p.failed} failed, ${p.llmCallsPerSecond} calls/s, run ${p.runs}, history ${p.historyLength}, worker RSS ${rss.at(-1)!.mb.toFixed(0)} MB`);
      } catch { /* a query can time out under load; the next one will do */ }
    }
  }, 2000);
  const result: any = await handle.result();
  const wall = (Date.now() - started) / 1000;
  clearInterval(sampler);

  // Activity latency (scheduled → completed, server clock) from a sample of dialogue histories.
  const activityMs: number[] = [];
  for (let i = 0; i < Math.min(cfg.historySample, cfg.count); i++) {
    const index = Math.floor((i * cfg.count) / Math.min(cfg.historySample, cfg.count));
    const history = await client.workflow.getHandle(`${workflowId}/${index}`).fetchHistory();
    const scheduled = new Map<string, { type: string; at: number }>();
    for (const e of history.events ?? []) {
      const at = Number(e.eventTime!.seconds) * 1000 + e.eventTime!.nanos! / 1e6;
      if (e.activityTaskScheduledEventAttributes) scheduled.set(String(e.eventId), { type: e.activityTaskScheduledEventAttributes.activityType!.name!, at });
      const done = e.activityTaskCompletedEventAttributes;
      if (done) {
        const s = scheduled.get(String(done.scheduledEventId));
        if (s && (s.type === 'ask' || s.type === 'answer')) activityMs.push(at - s.at);
      }
    }
  }
  const calls = result.usage.ask.calls + result.usage.answer.calls;
  // The export read back: every dialogue once, and what the manifest says of it.
  const exportedIds = new Set<string>();
  let exportedRows = 0;
  for (const shard of result.export.shards) {
    for (const line of fs.readFileSync(path.join(out, shard.key), 'utf8').split('\n')) {
      if (!line) continue;
      exportedRows++;
      exportedIds.add(JSON.parse(line).id);
    }
  }
  const held = provider.stats.heldMs;
  const rows = {
    'dialogues (completed / requested)': `${result.completed} / ${cfg.count}`,
    'LLM calls': calls,
    'export read back: rows / unique ids / shards / missing': `${exportedRows} / ${exportedIds.size} / ${result.export.shards.length} / ${result.export.missing.length}`,
    'wall time': `${wall.toFixed(1)} s`,
    'LLM calls per second': (calls / wall).toFixed(1),
    'dialogues per second': (result.completed / wall).toFixed(2),
    'activity latency p50 / p99': `${ms(pct(activityMs, 50))} / ${ms(pct(activityMs, 99))}`,
    'provider time p50 / p99': `${ms(pct(held, 50))} / ${ms(pct(held, 99))}`,
    'orchestration overhead p50 / p99 (activity − provider)': `${ms(pct(activityMs, 50) - pct(held, 50))} / ${ms(pct(activityMs, 99) - pct(held, 99))}`,
    'provider answered 429 / 500': `${provider.stats.rateLimited} / ${provider.stats.errors} (429: ${((100 * provider.stats.rateLimited) / provider.stats.requests).toFixed(2)}% of requests)`,
    ...(cfg.tpm && { 'sustained tokens per minute (median 60 s window) / tpm limit': `${sustainedPerMinute(provider.stats.okAt, provider.stats.okTokens).toFixed(0)} / ${cfg.tpm} = ${((100 * sustainedPerMinute(provider.stats.okAt, provider.stats.okTokens)) / cfg.tpm).toFixed(1)}%` }),
    ...(cfg.rpm && { 'sustained requests per minute (median 60 s window) / rpm limit': `${sustainedPerMinute(provider.stats.okAt).toFixed(0)} / ${cfg.rpm} = ${((100 * sustainedPerMinute(provider.stats.okAt)) / cfg.rpm).toFixed(1)}%` }),
    'parent runs / largest parent history': `${result.runs} / ${result.maxHistoryLength} events`,
    'worker RSS min / median / max': `${Math.min(...rss.map((r) => r.mb)).toFixed(0)} / ${pct(rss.map((r) => r.mb), 50).toFixed(0)} / ${Math.max(...rss.map((r) => r.mb)).toFixed(0)} MB`,
  };
  console.table(rows);
  const quarters = [0.25, 0.5, 0.75, 1].map((q) => rss[Math.max(0, Math.ceil(q * rss.length) - 1)]);
  console.log('worker RSS over time:', quarters.map((r) => `${r.t.toFixed(0)}s ${r.mb.toFixed(0)} MB`).join(', '));

  await Promise.all(workers.map((w) => {
    w.kill('SIGTERM');
    return new Promise((r) => w.once('exit', r));
  }));
  await client.connection.close();
  await env?.teardown();
  await provider.close();
  fs.rmSync(out, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
