// Creates the stack's S3 bucket if it is missing (used by infra/stack.sh).
import { parseArgs } from 'node:util';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { s3ClientFromEnv } from '../storage/s3-blob-store';

async function main() {
  const { positionals } = parseArgs({ args: process.argv.slice(2), strict: true, allowPositionals: true });
  const [bucket] = positionals;
  if (!bucket || positionals.length > 1) throw new Error('usage: ensure-bucket <bucket>');
  const s3 = s3ClientFromEnv();
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    console.log(`[stack] bucket s3://${bucket} created`);
  }
}

main().catch((err: unknown) => {
  console.error(`[stack] could not create the bucket: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
