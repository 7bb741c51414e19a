// `npm run demo [-- examples/batch.json]`: starts examples/quickstart.json (or the input given) the
// way a user would (the Temporal CLI), each run into a folder of its own under the example's
// output, waits for it, and prints where to watch it, where the export landed and the dataset's
// metrics.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openBlobStore } from '../storage/open-blob-store';
import { REPORT_KEY } from '../storage/dataset-layout';
import type { DatasetResult } from '../types';
import type { DatasetProgress } from '../workflows/dataset';
import { connectClient } from './connection';

/** The report lives beside the data (in MinIO for the demo): a copy on disk opens in any browser. */
async function copyReport(root: string, workflowId: string, reportUri: string): Promise<string> {
  const folder = reportUri.slice(0, reportUri.lastIndexOf('/'));
  const html = await openBlobStore(folder).get(REPORT_KEY);
  const local = path.join(root, '.data/reports', `${workflowId}.html`);
  fs.mkdirSync(path.dirname(local), { recursive: true });
  fs.writeFileSync(local, html ?? '');
  return local;
}

/**
 * The example's input with an output of the run's own, under the example's (one output holds one
 * dataset: a second demo into the same one would be refused), written beside the reports.
 */
function inputOfRun(root: string, inputFile: string, workflowId: string): string {
  const input = JSON.parse(fs.readFileSync(inputFile, 'utf8')) as { output: string };
  input.output = `${input.output.replace(/\/+$/, '')}/${workflowId}`;
  const file = path.join(root, '.data/inputs', `${workflowId}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(input, null, 2));
  return file;
}

async function main() {
  const root = path.resolve(__dirname, '../..');
  const { positionals } = parseArgs({ args: process.argv.slice(2), strict: true, allowPositionals: true });
  if (positionals.length > 1) throw new Error('usage: demo.ts [input.json]');
  const inputFile = positionals[0] ?? path.join(root, 'examples/quickstart.json');
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const uiPort = process.env.PARROT_UI_PORT ?? '8233';
  const workflowId = `${path.basename(inputFile, '.json')}-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`;
  const runInput = inputOfRun(root, inputFile, workflowId);
  const started = Date.now();

  const args = [
    'workflow',
    'start',
    '--address',
    address,
    '--task-queue',
    'parrot',
    '--type',
    'generateDataset',
    '--workflow-id',
    workflowId,
    '--input-file',
    runInput,
  ];
  console.log(`$ temporal ${args.join(' ')}`);
  execFileSync(path.join(root, '.tools/bin/temporal'), args, { stdio: 'inherit' });
  const ui = `http://localhost:${uiPort}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`;
  console.log(`\nWatch it in the Temporal UI: ${ui}\n`);

  const client = await connectClient();
  const handle = client.workflow.getHandle(workflowId);
  const timer = setInterval(() => {
    handle.query<DatasetProgress>('progress').then(
      (p) =>
        console.log(
          `  ${p.phase}: ${p.completed}/${p.requested} done, ${p.failed} failed, ${p.running} running${(
            p.batches ?? []
          )
            .map(
              (b) =>
                `; ${b.role} batches: ${b.rounds} rounds${b.inFlight.map((x) => `, ${x.id} ${x.status} ${x.completed}/${x.total}`).join('')}`,
            )
            .join('')}`,
        ),
      () => undefined, // the query needs a worker; skip a beat
    );
  }, 10_000);
  let result: DatasetResult;
  try {
    result = (await handle.result()) as DatasetResult;
  } finally {
    clearInterval(timer);
  }
  await printResult(root, workflowId, result, started);
  console.log(`\nThe stack is still running: UI http://localhost:${uiPort}; list runs with`);
  console.log(`  .tools/bin/temporal workflow list -q 'ParrotDataset="${workflowId}"'`);
  console.log('Stop it with: npm run stack:stop');
  await client.connection.close();
}

/** The dataset's result: counts, where the export and report are, tokens and metrics. */
async function printResult(root: string, workflowId: string, result: DatasetResult, started: number) {
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `\nDataset ${result.datasetId}: ${result.completed}/${result.requested} dialogues in ${secs} s, ${result.failed.length} failed`,
  );
  for (const shard of result.export.shards)
    console.log(
      `  export: ${shard.uri} (${shard.dialogues} dialogues, sha256 ${shard.sha256.slice(0, 12)}…)`,
    );
  console.log(`  manifest: ${result.export.manifestUri}`);
  if (result.export.reportUri)
    console.log(
      `  report:   ${result.export.reportUri} (copy here: ${await copyReport(root, workflowId, result.export.reportUri)})`,
    );
  const batched = (u: DatasetResult['usage']['ask']) => (u.batchCalls ? ` (${u.batchCalls} in batches)` : '');
  console.log(
    `  tokens: ask ${result.usage.ask.completionTokens} out / ${result.usage.ask.calls} calls${batched(result.usage.ask)}, answer ${result.usage.answer.completionTokens} out / ${result.usage.answer.calls} calls${batched(result.usage.answer)}`,
  );
  if (result.metricsError) console.log(`  metrics failed (the export stands): ${result.metricsError}`);
  console.log('  metrics:');
  const { histograms: _charts, ...metrics } = result.metrics ?? {};
  for (const [k, v] of Object.entries(metrics))
    console.log(`    ${k.padEnd(38)} ${typeof v === 'object' ? JSON.stringify(v) : v}`);
}

main().catch((err: unknown) => {
  console.error('demo failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
