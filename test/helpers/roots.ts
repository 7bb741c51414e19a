// Where test workers let datasets read and write (PARROT_ALLOWED_ROOTS, src/config/allowed-roots.ts):
// the system's temporary folder, where every suite makes its own, and any bucket of the test MinIO.
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { AllowedRoots } from '../../src/config/allowed-roots';

export const TEST_ROOTS_LIST = `${pathToFileURL(os.tmpdir()).href} s3://*`;
export const TEST_ROOTS = AllowedRoots.parse(TEST_ROOTS_LIST);
