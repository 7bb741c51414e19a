// Runs the built-in `local` endpoint (see local-llm/server.ts) until SIGTERM/SIGINT.
import { startLocalLlmServer } from '../local-llm/server';
import { LOCAL_MODEL_ID, LOCAL_MODEL_PATH } from '../local-llm/model-file';

async function main() {
  const port = Number(process.env.PARROT_LOCAL_LLM_PORT ?? 8788);
  const server = await startLocalLlmServer(
    {
      modelPath: LOCAL_MODEL_PATH,
      modelId: LOCAL_MODEL_ID,
      sequences: Number(process.env.PARROT_LOCAL_LLM_SEQUENCES ?? 4),
      contextSize: Number(process.env.PARROT_LOCAL_LLM_CONTEXT ?? 4096),
      threads: process.env.PARROT_LOCAL_LLM_THREADS
        ? Number(process.env.PARROT_LOCAL_LLM_THREADS)
        : undefined,
    },
    { host: '127.0.0.1', port },
  );
  console.log(`local LLM endpoint ready at ${server.url} serving '${server.modelId}'`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error('local LLM endpoint failed to start:', err);
  process.exit(1);
});
