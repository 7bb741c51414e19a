// Endpoint names in a dataset input map to a base URL and an API key here, on the worker, from
// its environment or a config file: keys never travel in workflow input or history.
//   PARROT_ENDPOINT_<NAME>_URL / PARROT_ENDPOINT_<NAME>_API_KEY   (NAME upper-cased, '-' as '_')
//   PARROT_ENDPOINTS_FILE=/path/endpoints.json  {"openai": {"baseURL": "...", "apiKeyEnv": "OPENAI_API_KEY"}}
// `local` is built in: the stack's local model server (PARROT_LOCAL_LLM_URL).
import fs from 'node:fs';

export interface EndpointConfig {
  name: string;
  baseURL: string;
  apiKey: string;
}

export type EndpointRegistry = ReadonlyMap<string, EndpointConfig>;

export const DEFAULT_LOCAL_LLM_URL = 'http://127.0.0.1:8788/v1';

export function loadEndpointRegistry(env: NodeJS.ProcessEnv = process.env): EndpointRegistry {
  const endpoints = new Map<string, EndpointConfig>();
  endpoints.set('local', { name: 'local', baseURL: env.PARROT_LOCAL_LLM_URL ?? DEFAULT_LOCAL_LLM_URL, apiKey: 'local' });

  if (env.PARROT_ENDPOINTS_FILE) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(env.PARROT_ENDPOINTS_FILE, 'utf8'));
    } catch (err) {
      throw new Error(`PARROT_ENDPOINTS_FILE (${env.PARROT_ENDPOINTS_FILE}): cannot read it as JSON: ${(err as Error).message}`);
    }
    for (const [name, value] of Object.entries(parsed as Record<string, { baseURL?: unknown; apiKeyEnv?: unknown }>)) {
      if (typeof value?.baseURL !== 'string') throw new Error(`PARROT_ENDPOINTS_FILE: ${name}.baseURL must be a URL string`);
      const keyVar = typeof value.apiKeyEnv === 'string' ? value.apiKeyEnv : undefined;
      if (keyVar && !env[keyVar]) throw new Error(`PARROT_ENDPOINTS_FILE: ${name}.apiKeyEnv names ${keyVar}, which is not set`);
      endpoints.set(name, { name, baseURL: value.baseURL, apiKey: keyVar ? env[keyVar]! : 'none' });
    }
  }

  for (const [key, url] of Object.entries(env)) {
    const m = /^PARROT_ENDPOINT_([A-Z0-9_]+)_URL$/.exec(key);
    if (!m || !url) continue;
    const name = m[1].toLowerCase().replace(/_/g, '-');
    endpoints.set(name, { name, baseURL: url, apiKey: env[`PARROT_ENDPOINT_${m[1]}_API_KEY`] ?? 'none' });
  }
  return endpoints;
}
