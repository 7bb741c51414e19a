// `npm run codec-server`: serves PARROT_PAYLOAD_KEY's codec for the Temporal UI on
// PARROT_CODEC_PORT (default 8234), allowing the UI origin PARROT_UI_ORIGIN (default http://localhost:8233).
// In the UI: Settings (the data encoder icon) → codec server http://127.0.0.1:8234.
import { codecFromEnv } from '../codec/aes-gcm-codec';
import { startCodecServer } from '../codec/codec-server';

async function main() {
  const codec = codecFromEnv();
  if (!codec) throw new Error('PARROT_PAYLOAD_KEY is not set: there is nothing to decrypt with');
  const server = await startCodecServer(codec, {
    port: Number(process.env.PARROT_CODEC_PORT ?? 8234),
    allowOrigin: process.env.PARROT_UI_ORIGIN,
  });
  console.log(`codec server (key ${codec.keyId}) on ${server.url}`);
}

main().catch((err) => {
  console.error(`codec server: ${(err as Error).message}`);
  process.exit(1);
});
