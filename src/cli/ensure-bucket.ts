// Creates the stack's S3 bucket if it is missing (used by infra/stack.sh).
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { s3ClientFromEnv } from '../storage/s3-blob-store';

async function main() {
  const bucket = process.argv[2];
  if (!bucket) throw new Error('usage: ensure-bucket <bucket>');
  const s3 = s3ClientFromEnv();
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    console.log(`[stack] bucket s3://${bucket} created`);
  }
}

main().catch((err) => {
  console.error(`[stack] could not create the bucket: ${err.message ?? err}`);
  process.exit(1);
});
