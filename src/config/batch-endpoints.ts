// What a worker knows of an endpoint's Batch API, from its environment or endpoints file:
//   PARROT_ENDPOINT_<NAME>_MODE=batch                 its roles' calls go to /v1/batches (an input's
//                                                     `"batch": false` keeps a role online)
//   PARROT_ENDPOINT_<NAME>_BATCH_PRICE_IN / _OUT      USD per million tokens in a batch (both or neither)
//   PARROT_ENDPOINT_<NAME>_BATCH_DISCOUNT             or: the batch price is the online price × (1 − this); default 0.5
//   PARROT_ENDPOINT_<NAME>_BATCH_MAX_ENQUEUED_TOKENS  the provider's queue limit (prompt tokens in unfinished batches)
//   PARROT_ENDPOINT_<NAME>_BATCH_MAX_REQUESTS / _BATCH_MAX_BYTES   a batch's limits (default 50,000 and 200 MB)
// In PARROT_ENDPOINTS_FILE: "mode", "batchPriceIn", "batchPriceOut", "batchDiscount",
// "batchMaxEnqueuedTokens", "batchMaxRequests", "batchMaxBytes".
import { z } from 'zod';

export interface EndpointBatchConfig {
  mode?: 'online' | 'batch';
  batchPriceIn?: number;
  batchPriceOut?: number;
  /** Share of the online price a batched call saves (absent: DEFAULT_BATCH_DISCOUNT). */
  batchDiscount?: number;
  batchMaxEnqueuedTokens?: number;
  batchMaxRequests?: number;
  batchMaxBytes?: number;
}

/** OpenAI's and Azure OpenAI's: a batched call costs half the online one. */
export const DEFAULT_BATCH_DISCOUNT = 0.5;
/** OpenAI's limits on one batch file. */
export const MAX_BATCH_REQUESTS = 50_000;
export const MAX_BATCH_BYTES = 200 * 1024 * 1024;

export const BATCH_ENV_SUFFIXES = [
  'MODE',
  'BATCH_PRICE_IN',
  'BATCH_PRICE_OUT',
  'BATCH_DISCOUNT',
  'BATCH_MAX_ENQUEUED_TOKENS',
  'BATCH_MAX_REQUESTS',
  'BATCH_MAX_BYTES',
] as const;

const positiveInt = z.number().int().min(1);
const price = z.number().min(0, 'must be a non-negative number (USD per million tokens)');

/** The endpoints file's batch fields. */
export const batchFileFields = {
  mode: z.enum(['online', 'batch']).optional(),
  batchPriceIn: price.optional(),
  batchPriceOut: price.optional(),
  batchDiscount: z.number().min(0).max(1).optional(),
  batchMaxEnqueuedTokens: positiveInt.optional(),
  batchMaxRequests: positiveInt.max(MAX_BATCH_REQUESTS).optional(),
  batchMaxBytes: positiveInt.max(MAX_BATCH_BYTES).optional(),
};

/** The batch fields an endpoints-file entry sets. */
export const batchFieldsOf = (e: EndpointBatchConfig): EndpointBatchConfig =>
  Object.fromEntries(
    Object.keys(batchFileFields)
      .map((k) => [k, e[k as keyof EndpointBatchConfig]])
      .filter(([, x]) => x !== undefined),
  ) as EndpointBatchConfig;

/** Batch prices go together, as online ones do. */
export const batchPricesPaired = (e: EndpointBatchConfig) =>
  (e.batchPriceIn === undefined) === (e.batchPriceOut === undefined);

/** The batch settings an endpoint's variables declare; each bad one adds a problem naming it. */
export function readBatchEnv(
  NAME: string,
  v: (suffix: (typeof BATCH_ENV_SUFFIXES)[number]) => string | undefined,
  problems: string[],
): EndpointBatchConfig {
  const name = (suffix: string) => `PARROT_ENDPOINT_${NAME}_${suffix}`;
  const read = (suffix: (typeof BATCH_ENV_SUFFIXES)[number], check: z.ZodType, what: string) => {
    const raw = v(suffix);
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (raw.trim() === '' || !check.safeParse(n).success)
      problems.push(`${name(suffix)}: '${raw}' is not ${what}`);
    return n;
  };
  const mode = v('MODE');
  if (mode !== undefined && mode !== '' && mode !== 'online' && mode !== 'batch')
    problems.push(`${name('MODE')}: '${mode}' is not 'online' or 'batch'`);
  const config: EndpointBatchConfig = {
    ...(mode === 'batch' || mode === 'online' ? { mode } : {}),
    batchPriceIn: read('BATCH_PRICE_IN', price, 'a non-negative decimal (USD per million tokens)'),
    batchPriceOut: read('BATCH_PRICE_OUT', price, 'a non-negative decimal (USD per million tokens)'),
    batchDiscount: read('BATCH_DISCOUNT', batchFileFields.batchDiscount, 'a share between 0 and 1'),
    batchMaxEnqueuedTokens: read('BATCH_MAX_ENQUEUED_TOKENS', positiveInt, 'a positive integer'),
    batchMaxRequests: read(
      'BATCH_MAX_REQUESTS',
      batchFileFields.batchMaxRequests,
      `an integer 1–${MAX_BATCH_REQUESTS}`,
    ),
    batchMaxBytes: read('BATCH_MAX_BYTES', batchFileFields.batchMaxBytes, `an integer 1–${MAX_BATCH_BYTES}`),
  };
  if (!batchPricesPaired(config))
    problems.push(
      `${name('BATCH_PRICE_IN')} and ${name('BATCH_PRICE_OUT')} go together: set both, or neither`,
    );
  return Object.fromEntries(Object.entries(config).filter(([, x]) => x !== undefined));
}

/** USD per million tokens of a batched call: declared, or the online price less the discount; undefined when neither is known. */
export function batchPrices(e: EndpointBatchConfig & { priceIn?: number; priceOut?: number }) {
  if (e.batchPriceIn !== undefined && e.batchPriceOut !== undefined)
    return { priceIn: e.batchPriceIn, priceOut: e.batchPriceOut };
  if (e.priceIn === undefined || e.priceOut === undefined) return undefined;
  const keep = 1 - (e.batchDiscount ?? DEFAULT_BATCH_DISCOUNT);
  return { priceIn: e.priceIn * keep, priceOut: e.priceOut * keep };
}

/** A batch's limits at this endpoint. */
export const batchLimits = (e: EndpointBatchConfig) => ({
  maxRequests: e.batchMaxRequests ?? MAX_BATCH_REQUESTS,
  maxBytes: e.batchMaxBytes ?? MAX_BATCH_BYTES,
  ...(e.batchMaxEnqueuedTokens !== undefined && { maxEnqueuedTokens: e.batchMaxEnqueuedTokens }),
});
