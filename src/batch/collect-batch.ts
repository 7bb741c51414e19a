// A finished batch, read: its output and error files become one outcome file per group (every
// request it held gets an outcome: one the files do not mention failed, to be asked again). A
// batch that failed validation becomes a message naming its first bad lines, their custom_ids
// and fields; one refused for the provider's queue limit gives its pieces back.
import type { BlobStore } from '../storage/blob-store';
import type { TokenUsage } from '../types';
import { addUsage, emptyUsage } from '../usage';
import { readEarlier, type SubmittedManifest } from './batch-store';
import { outcomeOfLine, unanswered, type ReplyContext } from './batch-results';
import type { BatchOutcome, CollectedBatch, PolledBatch } from './batch-types';
import { quotaRefusal, type Batch, type ProviderBatches } from './provider-batches';

export interface CollectArgs {
  store: BlobStore;
  manifest: SubmittedManifest;
  batch: PolledBatch;
  provider: ProviderBatches;
  context: Omit<ReplyContext, 'earlier'>;
  resultKeyOf(group: string): string;
  signal: AbortSignal;
  /** Told each request's outcome: `ok` or its failure's type. */
  onOutcome(outcome: string): void;
}

/** Validation problems shown in a rejection. */
const SHOWN_PROBLEMS = 3;

export async function collectOutcomes(a: CollectArgs): Promise<CollectedBatch> {
  const batch = a.batch.status === 'missing' ? undefined : await a.provider.retrieve(a.batch.id, a.signal);
  if (batch?.status === 'failed') return refusal(a, batch);
  const groupOf = new Map<string, string>();
  for (const p of a.manifest.pieces) for (const id of p.ids) groupOf.set(id, p.group);
  const context: ReplyContext = {
    ...a.context,
    ...(a.context.role === 'ask' && { earlier: await readEarlier(a.store, a.manifest.pieces) }),
  };
  const lines = new Map<string, string[]>();
  let usage: TokenUsage = emptyUsage();
  let ok = 0;
  const add = (o: BatchOutcome) => {
    const group = groupOf.get(o.customId);
    if (group === undefined) return; // not ours, or seen already
    groupOf.delete(o.customId);
    if (o.reply) {
      ok++;
      usage = addUsage(usage, o.reply.usage);
    }
    a.onOutcome(o.reply ? 'ok' : o.error!.type);
    let list = lines.get(group);
    if (!list) lines.set(group, (list = []));
    list.push(JSON.stringify(o));
  };
  for (const fileId of [batch?.output_file_id, batch?.error_file_id])
    if (fileId)
      for await (const line of a.provider.lines(fileId, a.signal)) {
        const o = outcomeOfLine(line, context);
        if (o) add(o);
      }
  const why = batch
    ? `batch ${a.batch.id} (${batch.status}) returned nothing for this request`
    : `batch ${a.batch.id} is no longer known to the provider`;
  for (const id of [...groupOf.keys()]) add(unanswered(id, a.context.endpoint.name, why));
  const results = [];
  for (const [group, list] of lines) {
    const key = a.resultKeyOf(group.slice(group.lastIndexOf('/') + 1));
    await a.store.put(key, `${list.join('\n')}\n`);
    results.push({ group, key, count: list.length });
  }
  const total = a.manifest.pieces.reduce((n, p) => n + p.ids.length, 0);
  return { results, ok, failed: total - ok, usage };
}

/** Why the provider failed the batch: its queue was full (the pieces go back), or what its lines got wrong. */
function refusal(a: CollectArgs, batch: Batch): CollectedBatch {
  const errors = batch.errors?.data ?? [];
  const ids = a.manifest.pieces.flatMap((p) => p.ids);
  const none = { results: [], ok: 0, failed: 0, usage: emptyUsage() };
  const quota = errors.map((e) => quotaRefusal(e.code, e.message)).find(Boolean);
  const first = errors[0];
  if (quota === 'queue')
    return {
      ...none,
      quota: {
        message: `${first.code}: ${first.message}`,
        pieces: a.manifest.pieces.map(({ ids: _, ...p }) => p),
      },
    };
  const problems = errors.slice(0, SHOWN_PROBLEMS).map((e) => {
    const where = e.line
      ? `line ${e.line}${ids[e.line - 1] ? ` (custom_id ${ids[e.line - 1]})` : ''}`
      : 'the file';
    return `${where}${e.param ? `, field ${e.param}` : ''}: ${e.message ?? e.code ?? 'invalid'}`;
  });
  const more = errors.length > SHOWN_PROBLEMS ? ` (and ${errors.length - SHOWN_PROBLEMS} more)` : '';
  const what = quota === 'billing' ? 'refused for quota' : 'rejected at validation';
  return {
    ...none,
    rejection: `${a.context.endpoint.name}: ${a.context.role} batch ${batch.id} ${what}: ${problems.join('; ') || 'no reason given'}${more}`,
  };
}
