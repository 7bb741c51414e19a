// Paths of the binaries infra/install.sh puts in .tools/ (npm test runs it first).
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const TEMPORAL_BIN = path.join(ROOT, '.tools/bin/temporal');
export const MINIO_BIN = path.join(ROOT, '.tools/bin/minio');

export function requireTool(p: string): string {
  if (!fs.existsSync(p))
    throw new Error(`${p} is missing: run 'bash infra/install.sh' (npm test does it first)`);
  return p;
}
