// Which storage errors are configuration errors: retrying cannot fix them, so they fail at once
// (non-retryable) with a message naming the bucket or folder. Everything else (S3 down, a
// timeout, a full disk) is retried within the storage retry budget.
import { ApplicationFailure } from '@temporalio/common';

export const STORAGE_CONFIG_ERROR = 'StorageConfig';

/** S3 error names that mean the bucket, the credentials or the permissions are wrong. */
const S3_CONFIG_ERRORS: Record<string, (bucket: string) => string> = {
  NoSuchBucket: (b) => `bucket '${b}' does not exist`,
  InvalidBucketName: (b) => `'${b}' is not a valid bucket name`,
  AccessDenied: (b) => `access denied to bucket '${b}'`,
  AllAccessDisabled: (b) => `access to bucket '${b}' is disabled`,
  InvalidAccessKeyId: (b) => `the access key is unknown to the server of bucket '${b}'`,
  SignatureDoesNotMatch: (b) => `the secret key does not match the access key for bucket '${b}'`,
  CredentialsProviderError: (b) =>
    `no S3 credentials found for bucket '${b}' (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`,
};

/** Local file errors that mean the folder is wrong or not writable. */
const FILE_CONFIG_ERRORS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR']);

/** The error to throw for a failed S3 call on `uri`: a non-retryable failure if it is a configuration error. */
export function s3Failure(err: unknown, bucket: string, uri: string): unknown {
  const name = (err as Error | undefined)?.name ?? '';
  const describe = S3_CONFIG_ERRORS[name];
  if (!describe) return err;
  return ApplicationFailure.create({
    message: `storage: ${describe(bucket)} (${name} on ${uri})`,
    type: STORAGE_CONFIG_ERROR,
    nonRetryable: true,
    cause: err instanceof Error ? err : undefined,
  });
}

/** The error to throw for a failed file operation on `path`: non-retryable if it is a configuration error. */
export function fileFailure(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  if (!FILE_CONFIG_ERRORS.has(code)) return err;
  return ApplicationFailure.create({
    message: `storage: cannot write ${path} (${code}: ${(err as Error).message})`,
    type: STORAGE_CONFIG_ERROR,
    nonRetryable: true,
    cause: err as Error,
  });
}
