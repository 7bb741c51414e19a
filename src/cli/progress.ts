// `npm run progress -- <dataset workflow id>`: a live progress bar with rate and ETA for a
// running dataset, from its `progress` query; it ends when the dataset does.
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { DatasetProgress } from '../workflows/dataset';
import { formatUsd } from '../usage';
import { connectClient } from './connection';

async function main() {
  const { positionals } = parseArgs({ args: process.argv.slice(2), strict: true, allowPositionals: true });
  const [workflowId] = positionals;
  if (!workflowId || positionals.length > 1)
    throw new Error('usage: npm run progress -- <dataset workflow id>');
  const client = await connectClient();
  const handle = client.workflow.getHandle(workflowId);
  try {
    await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new Error(`no workflow with ID '${workflowId}' in namespace '${client.options.namespace}'`, {
        cause: err,
      });
    throw err;
  }

  const bar = new SingleBar({
    format:
      '{phase} |{bar}| {value}/{total} done · {failed} failed · {running} running (window {window}) · {rate} calls/s · ETA {eta_text} · {spend}{endpoints}{batches}',
    hideCursor: true,
    noTTYOutput: !process.stdout.isTTY,
    notTTYSchedule: 10_000,
  });
  let started = false;
  for (;;) {
    const desc = await handle.describe();
    let p: DatasetProgress | undefined;
    try {
      p = await handle.query<DatasetProgress>('progress');
    } catch {
      // No worker is polling right now: the query cannot be answered; keep the last figures.
    }
    if (p) {
      const payload = {
        phase: p.phase.padEnd(10),
        failed: p.failed,
        running: p.running,
        window: p.window,
        rate: p.llmCallsPerSecond ?? '?',
        eta_text: p.etaSeconds == null ? '?' : formatSeconds(p.etaSeconds),
        spend: formatSpend(p),
        endpoints: formatEndpoints(p),
        batches: formatBatches(p),
      };
      if (!started) {
        bar.start(p.requested, p.completed, payload);
        started = true;
      }
      bar.update(p.completed + p.failed, payload);
    }
    if (desc.status.name !== 'RUNNING') {
      bar.stop();
      console.log(
        `${workflowId}: ${desc.status.name}${p ? ` (${p.completed} completed, ${p.failed} failed)` : ''}`,
      );
      await client.connection.close();
      return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Spent so far, the projected total, why nothing starts (paused, budget), stuck groups and unpolled endpoint queues, for the bar. */
function formatSpend(p: DatasetProgress): string {
  if (!p.spent) return ''; // a dataset started before spend was reported
  const spent = `${p.spent.tokens} tokens ${formatUsd(p.spent.costUsd)}`;
  const projected = p.projected
    ? ` of ~${Math.round(p.projected.tokens)} ${formatUsd(p.projected.costUsd)}`
    : '';
  const unpriced = p.spent.unpricedCalls ? ` (+${p.spent.unpricedCalls} unpriced calls)` : '';
  const state = p.paused ? ' · PAUSED' : p.stoppedBy === 'budget' ? ' · STOPPED AT BUDGET' : '';
  const stuck = p.stuck ? ` · ${p.stuck.badDeploy ? 'BAD DEPLOY? ' : ''}${p.stuck.groups} GROUPS STUCK` : '';
  const unpolled = (p.unpolledQueues ?? [])
    .map((q) => ` · NO WORKER POLLS ${q.taskQueue} (${q.endpoint})`)
    .join('');
  return `${spent}${projected}${unpriced}${state}${stuck}${unpolled}`;
}

/** Each endpoint as a worker last reported it: requests open of its limit, calls waiting, requests abandoned. */
function formatEndpoints(p: DatasetProgress): string {
  return Object.entries(p.endpoints ?? {})
    .map(
      ([name, e]) =>
        ` · ${name} ${e.inFlight}/${e.limit} open, ${e.waiting} waiting${e.abandoned ? `, ${e.abandoned} abandoned` : ''}`,
    )
    .join('');
}

/** Each batched role's batches in flight: ID, status, answered of total, failed, age. */
function formatBatches(p: DatasetProgress): string {
  return (p.batches ?? [])
    .map(
      (v) =>
        ` · ${v.role} batches: ${v.rounds} rounds, ${v.queued} queued` +
        v.inFlight
          .map(
            (b) =>
              `, ${b.id} ${b.status} ${b.completed}/${b.total} (${b.failed} failed, ${formatSeconds(b.ageSeconds)})`,
          )
          .join('') +
        (v.note ? ` · ${v.note}` : ''),
    )
    .join('');
}

function formatSeconds(s: number): string {
  if (s < 90) return `${s}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}

main().catch((err: unknown) => {
  console.error(`progress: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
