// Where the built-in local model lives and what it is called; shared by the server CLI and tests.
import path from 'node:path';

export const LOCAL_MODEL_ID = 'smollm2-135m-instruct';
export const LOCAL_MODEL_PATH =
  process.env.PARROT_LOCAL_MODEL_PATH ??
  path.resolve(__dirname, '../../.tools/models/SmolLM2-135M-Instruct.Q4_1.gguf');
