// Endpoint names in a dataset input map to a base URL, an API key and rate limits here, on the
// worker, from its environment or a config file: keys never travel in workflow input or history.
//   PARROT_ENDPOINT_<NAME>_URL / _API_KEY / _RPM / _TPM / _MAX_CONCURRENCY   (NAME upper-cased, '-' as '_')
//   PARROT_ENDPOINT_<NAME>_PRICE_IN / _PRICE_OUT   (USD per million prompt / completion tokens; both or neither)
//   PARROT_ENDPOINTS_FILE=/path/endpoints.json
//     {"openai": {"baseURL": "...", "apiKeyEnv": "OPENAI_API_KEY", "rpm": 500, "tpm": 200000,
//                 "priceIn": 0.15, "priceOut": 0.6}}
// `local` is built in: the stack's local model server (PARROT_LOCAL_LLM_URL), priced 0.
// Prices are the user's to declare: there is no built-in price table to go stale.
// Batch API settings (_MODE=batch, batch prices and limits): ./batch-endpoints.ts.
import fs from 'node:fs';
import { z } from 'zod';
import {
  BATCH_ENV_SUFFIXES,
  batchFieldsOf,
  batchFileFields,
  batchPricesPaired,
  readBatchEnv,
  type EndpointBatchConfig,
} from './batch-endpoints';

export interface EndpointConfig extends EndpointBatchConfig {
  name: string;
  baseURL: string;
  apiKey: string;
  /** Requests per minute, for all workers together (enforced by the server: see src/workers.ts). */
  rpm?: number;
  /** Tokens (prompt + completion) per minute, enforced by each worker for its share. */
  tpm?: number;
  /** Requests one worker keeps open at most; absent: found by AIMD on 429s (src/providers/adaptive-concurrency.ts). */
  maxConcurrency?: number;
  /** USD per million prompt tokens; absent: unknown (calls are counted as unpriced). Set with priceOut. */
  priceIn?: number;
  /** USD per million completion tokens; absent: unknown. Set with priceIn. */
  priceOut?: number;
}

export type EndpointRegistry = ReadonlyMap<string, EndpointConfig>;

export const DEFAULT_LOCAL_LLM_URL = 'http://127.0.0.1:8788/v1';
const LOCAL_MAX_CONCURRENCY = 8;

const httpUrl = z.string().refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), {
  message: 'must be an http(s) URL',
});
const perMinute = z.number().int().min(1);
/** USD per million tokens. */
const price = z.number().min(0, 'must be a non-negative number (USD per million tokens)');
const fileEntry = z
  .strictObject({
    baseURL: httpUrl,
    apiKeyEnv: z.string().min(1).optional(),
    rpm: perMinute.optional(),
    tpm: perMinute.optional(),
    maxConcurrency: perMinute.optional(),
    priceIn: price.optional(),
    priceOut: price.optional(),
    ...batchFileFields,
  })
  .refine((e) => (e.priceIn === undefined) === (e.priceOut === undefined), {
    message: 'priceIn and priceOut go together: set both, or neither',
  })
  .refine(batchPricesPaired, { message: 'batchPriceIn and batchPriceOut go together: set both, or neither' });
const endpointsFile = z.record(
  z.string().regex(/^[a-z][a-z0-9_-]*$/, 'endpoint names are lowercase'),
  fileEntry,
);

/** Reads the endpoints; throws one error listing every problem, each naming its variable or field. */
export function loadEndpointRegistry(env: NodeJS.ProcessEnv = process.env): EndpointRegistry {
  const problems: string[] = [];
  // Later sources win: a variable overrides the file, and either may redefine `local`.
  const endpoints = new Map<string, EndpointConfig>(
    [
      localEndpoint(env),
      ...(env.PARROT_ENDPOINTS_FILE ? fileEndpoints(env.PARROT_ENDPOINTS_FILE, env, problems) : []),
      ...envEndpoints(env, problems),
    ].map((e) => [e.name, e]),
  );
  if (problems.length) throw new Error(`endpoint configuration:\n  - ${problems.join('\n  - ')}`);
  return endpoints;
}

function localEndpoint(env: NodeJS.ProcessEnv): EndpointConfig {
  // The local server queues rather than refuses, so AIMD would never learn its limit: a few open requests keep its sequences busy.
  return {
    name: 'local',
    baseURL: env.PARROT_LOCAL_LLM_URL ?? DEFAULT_LOCAL_LLM_URL,
    apiKey: 'local',
    maxConcurrency: LOCAL_MAX_CONCURRENCY,
    priceIn: 0,
    priceOut: 0,
  };
}

/** The endpoints of PARROT_ENDPOINTS_FILE; a file that is not JSON throws, other problems are listed. */
function fileEndpoints(file: string, env: NodeJS.ProcessEnv, problems: string[]): EndpointConfig[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`PARROT_ENDPOINTS_FILE (${file}): cannot read it as JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const checked = endpointsFile.safeParse(parsed);
  if (!checked.success) {
    problems.push(
      ...checked.error.issues.map(
        (i) => `PARROT_ENDPOINTS_FILE: ${i.path.join('.') || '(root)'}: ${i.message}`,
      ),
    );
    return [];
  }
  return Object.entries(checked.data).map(([name, e]) => {
    if (e.apiKeyEnv && !env[e.apiKeyEnv])
      problems.push(`PARROT_ENDPOINTS_FILE: ${name}.apiKeyEnv names ${e.apiKeyEnv}, which is not set`);
    return {
      name,
      baseURL: e.baseURL,
      apiKey: e.apiKeyEnv ? (env[e.apiKeyEnv] ?? '') : 'none',
      rpm: e.rpm,
      tpm: e.tpm,
      ...(e.maxConcurrency && { maxConcurrency: e.maxConcurrency }),
      ...(e.priceIn !== undefined && { priceIn: e.priceIn, priceOut: e.priceOut }),
      ...batchFieldsOf(e),
    };
  });
}

/** The endpoints of PARROT_ENDPOINT_<NAME>_* variables, one per NAME that has any of them. */
function envEndpoints(env: NodeJS.ProcessEnv, problems: string[]): EndpointConfig[] {
  const names = new Set<string>();
  for (const key of Object.keys(env)) {
    const m = new RegExp(
      `^PARROT_ENDPOINT_([A-Z0-9_]+?)_(URL|API_KEY|RPM|TPM|MAX_CONCURRENCY|PRICE_IN|PRICE_OUT|${BATCH_ENV_SUFFIXES.join('|')})$`,
    ).exec(key);
    if (m) names.add(m[1]);
  }
  return [...names].flatMap((NAME) => envEndpoint(NAME, env, problems) ?? []);
}

/** One PARROT_ENDPOINT_<NAME>_* endpoint; undefined when it has no URL (a problem then listed). */
function envEndpoint(NAME: string, env: NodeJS.ProcessEnv, problems: string[]): EndpointConfig | undefined {
  const v = (suffix: string) => env[`PARROT_ENDPOINT_${NAME}_${suffix}`];
  const url = v('URL');
  if (!url) {
    problems.push(
      `PARROT_ENDPOINT_${NAME}_URL is not set, but other PARROT_ENDPOINT_${NAME}_* variables are`,
    );
    return undefined;
  }
  if (!httpUrl.safeParse(url).success)
    problems.push(`PARROT_ENDPOINT_${NAME}_URL: '${url}' is not an http(s) URL`);
  const limit = (suffix: 'RPM' | 'TPM' | 'MAX_CONCURRENCY') => {
    const raw = v(suffix);
    if (raw === undefined || raw === '') return undefined;
    if (!perMinute.safeParse(Number(raw)).success)
      problems.push(`PARROT_ENDPOINT_${NAME}_${suffix}: '${raw}' is not a positive integer`);
    return Number(raw);
  };
  const priced = (suffix: 'PRICE_IN' | 'PRICE_OUT') => {
    const raw = v(suffix);
    if (raw === undefined || raw === '') return undefined;
    if (!/^\d+(\.\d+)?$/.test(raw.trim()))
      problems.push(
        `PARROT_ENDPOINT_${NAME}_${suffix}: '${raw}' is not a non-negative decimal (USD per million tokens)`,
      );
    return Number(raw);
  };
  const priceIn = priced('PRICE_IN');
  const priceOut = priced('PRICE_OUT');
  if ((priceIn === undefined) !== (priceOut === undefined))
    problems.push(
      `PARROT_ENDPOINT_${NAME}_${priceIn === undefined ? 'PRICE_IN' : 'PRICE_OUT'} is not set, but PARROT_ENDPOINT_${NAME}_${priceIn === undefined ? 'PRICE_OUT' : 'PRICE_IN'} is: set both, or neither`,
    );
  const name = NAME.toLowerCase().replace(/_/g, '-');
  const maxConcurrency = limit('MAX_CONCURRENCY');
  return {
    name,
    baseURL: url,
    apiKey: v('API_KEY') ?? 'none',
    rpm: limit('RPM'),
    tpm: limit('TPM'),
    ...(maxConcurrency && { maxConcurrency }),
    ...(priceIn !== undefined && { priceIn, priceOut }),
    ...readBatchEnv(NAME, v, problems),
  };
}

/** A one-line description for logs: names, URLs, limits and prices, never keys. */
export function describeEndpoints(endpoints: EndpointRegistry): string {
  return [...endpoints.values()]
    .map(
      (e) =>
        `${e.name} (${e.baseURL}${e.rpm ? `, ${e.rpm} rpm` : ''}${e.tpm ? `, ${e.tpm} tpm` : ''}${
          e.priceIn !== undefined ? `, $${e.priceIn}/$${e.priceOut} per M tokens in/out` : ''
        }${e.mode === 'batch' ? ', batch' : ''})`,
    )
    .join(', ');
}

/** USD of one call's tokens at the endpoint's prices; undefined when the endpoint has none. */
export function callCostUsd(
  endpoint: Pick<EndpointConfig, 'priceIn' | 'priceOut'>,
  promptTokens: number,
  completionTokens: number,
): number | undefined {
  if (endpoint.priceIn === undefined || endpoint.priceOut === undefined) return undefined;
  return (promptTokens * endpoint.priceIn + completionTokens * endpoint.priceOut) / 1_000_000;
}
