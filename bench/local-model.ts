// Throughput of the built-in local endpoint (SmolLM2-135M on llama.cpp, CPU), over real HTTP
// through the openai client: completion tokens per second, one request at a time and with
// several in flight (they share one context, batched over its sequences).
//   npm run bench:local-model [-- --requests 12 --concurrency 4 --max-tokens 128]
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import { startLocalLlmServer } from '../src/local-llm/server';
import { LOCAL_MODEL_ID, LOCAL_MODEL_PATH } from '../src/local-llm/model-file';

const { values } = parseArgs({
  args: process.argv.slice(2),
  strict: true,
  options: {
    requests: { type: 'string', default: '12' },
    concurrency: { type: 'string', default: '4' },
    'max-tokens': { type: 'string', default: '128' },
  },
});
const count = (name: keyof typeof values) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--${name} must be a positive integer, got '${values[name]}'`);
  return n;
};
const requests = count('requests');
const concurrency = count('concurrency');
const maxTokens = count('max-tokens');
const questions = [
  'How do I make sourdough starter?',
  'Explain recursion simply.',
  'Why is the sky blue?',
  'How do vaccines work?',
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function run(client: OpenAI, inFlight: number) {
  const perRequest: number[] = [];
  let tokens = 0;
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < requests) {
        const i = next++;
        const t0 = Date.now();
        const r = await client.chat.completions.create({
          model: LOCAL_MODEL_ID,
          messages: [{ role: 'user', content: questions[i % questions.length] }],
          max_tokens: maxTokens,
          temperature: 0.7,
          seed: i,
        } as never);
        const n = r.usage!.completion_tokens;
        tokens += n;
        perRequest.push(n / ((Date.now() - t0) / 1000));
      }
    }),
  );
  const secs = (Date.now() - started) / 1000;
  return {
    inFlight,
    requests,
    tokens,
    seconds: secs.toFixed(1),
    aggregateTokPerSec: (tokens / secs).toFixed(1),
    medianPerRequestTokPerSec: median(perRequest).toFixed(1),
  };
}

async function main() {
  const server = await startLocalLlmServer({
    modelPath: LOCAL_MODEL_PATH,
    modelId: LOCAL_MODEL_ID,
    sequences: concurrency,
  });
  const client = new OpenAI({ baseURL: server.url, apiKey: 'local', maxRetries: 0 });
  await client.chat.completions.create({
    model: LOCAL_MODEL_ID,
    messages: [{ role: 'user', content: 'warm up' }],
    max_tokens: 8,
  });
  console.table([await run(client, 1), await run(client, concurrency)]);
  await server.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
