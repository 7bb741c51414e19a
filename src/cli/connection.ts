// A Temporal client from Temporal's own environment conventions (@temporalio/envconfig:
// TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_CONFIG_FILE),
// with a clear message when the server cannot be reached; payloads encrypted if PARROT_PAYLOAD_KEY is set.
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { dataConverterFromEnv } from '../codec/aes-gcm-codec';

export async function connectClient(): Promise<Client> {
  const config = loadClientConnectConfig();
  const address = config.connectionOptions.address ?? 'localhost:7233';
  try {
    const connection = await Connection.connect({ ...config.connectionOptions, connectTimeout: '5 seconds' });
    return new Client({
      connection,
      namespace: config.namespace ?? 'default',
      dataConverter: dataConverterFromEnv(),
    });
  } catch (err) {
    throw new Error(
      `cannot reach the Temporal server at ${address} (TEMPORAL_ADDRESS): ${(err as Error).message}. Is the stack running? (npm run stack:status)`,
      { cause: err },
    );
  }
}
