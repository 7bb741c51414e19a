// A Temporal client from Temporal's own environment conventions (TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE), with a clear message when the server cannot be reached.
import { Client, Connection } from '@temporalio/client';

export async function connectClient(): Promise<Client> {
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  try {
    const connection = await Connection.connect({ address, connectTimeout: '5 seconds' });
    return new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
  } catch (err) {
    throw new Error(`cannot reach the Temporal server at ${address} (TEMPORAL_ADDRESS): ${(err as Error).message}. Is the stack running? (npm run stack:status)`);
  }
}
