// Optional end-to-end encryption of workflow payloads (inputs, results, activity arguments:
// the dialogues) and of failure messages and stack traces with AES-256-GCM. The key lives only where PARROT_PAYLOAD_KEY is set (workers,
// the CLI, the codec server of those allowed to read): the Temporal server and its UI hold only
// ciphertext. Search attributes and workflow IDs are not payloads and stay readable.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const enc = new TextEncoder();
const dec = new TextDecoder();

export class AesGcmCodec implements PayloadCodec {
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32)
      throw new Error(
        `PARROT_PAYLOAD_KEY must be 32 bytes in base64 (got ${key.length} bytes); make one with: openssl rand -base64 32`,
      );
    // Names the key in each payload (not secret): a rotated key shows which payloads need the old one.
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 12);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.key, iv);
      const body = Buffer.concat([cipher.update(serialize(p)), cipher.final()]);
      return {
        metadata: { encoding: enc.encode(ENCRYPTED_ENCODING), 'encryption-key-id': enc.encode(this.keyId) },
        data: Buffer.concat([iv, body, cipher.getAuthTag()]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (dec.decode(p.metadata?.encoding ?? new Uint8Array()) !== ENCRYPTED_ENCODING) return p; // e.g. input from the Temporal CLI
      const keyId = dec.decode(p.metadata?.['encryption-key-id'] ?? new Uint8Array());
      if (keyId !== this.keyId)
        throw new Error(`payload encrypted with key ${keyId}, but PARROT_PAYLOAD_KEY is key ${this.keyId}`);
      const data = Buffer.from(p.data ?? new Uint8Array());
      const decipher = createDecipheriv('aes-256-gcm', this.key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      return deserialize(
        Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]),
      );
    });
  }
}

// The inner payload as JSON with base64 bytes: small, and needs no protobuf schema here.
function serialize(p: Payload): Buffer {
  const metadata = Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  );
  return Buffer.from(
    JSON.stringify({ metadata, data: Buffer.from(p.data ?? new Uint8Array()).toString('base64') }),
  );
}

function deserialize(b: Buffer): Payload {
  const { metadata, data } = JSON.parse(b.toString('utf8')) as {
    metadata: Record<string, string>;
    data: string;
  };
  return {
    metadata: Object.fromEntries(
      Object.entries(metadata).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]),
    ),
    data: new Uint8Array(Buffer.from(data, 'base64')),
  };
}

/**
 * Encrypts payloads with `codec`, and failures too: their message and stack trace go into a payload
 * (./failure-converter.ts), or they would reach history in clear. Workers bundle the failure
 * converter into their workflows from the path (the workflows' own failures are converted there).
 */
export function encryptingDataConverter(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec], failureConverterPath: require.resolve('./failure-converter') };
}

/** The data converter for workers and clients: encrypting when PARROT_PAYLOAD_KEY is set. */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const codec = codecFromEnv(env);
  return codec ? encryptingDataConverter(codec) : undefined;
}

export function codecFromEnv(env: NodeJS.ProcessEnv = process.env): AesGcmCodec | undefined {
  const raw = env.PARROT_PAYLOAD_KEY;
  return raw ? new AesGcmCodec(Buffer.from(raw, 'base64')) : undefined;
}
