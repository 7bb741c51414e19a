// Where a worker lets a dataset read seeds and write output: local folders and S3 buckets (or
// prefixes) its operator allows, PARROT_ALLOWED_ROOTS. Anyone who can start a workflow chooses
// `seeds` and `output`; without this, `file:///proc/self/environ` would turn the worker's
// secrets into seed questions, and `output` could write into any folder the worker can.
// Default: the checkout's data folder (.data/, the stack's) and the bucket PARROT_S3_BUCKET names.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';

export const ALLOWED_ROOTS_ENV = 'PARROT_ALLOWED_ROOTS';

/** A local folder (its path), or an S3 bucket with a key prefix ('' for the whole bucket; bucket '*': any bucket). */
type Root = { kind: 'file'; dir: string } | { kind: 's3'; bucket: string; prefix: string };

const S3_URI = /^s3:\/\/([^/]+)\/?(.*)$/;
const BUCKET = /^(\*|[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])$/;
/** S3 does not resolve `..` in keys, but some S3-compatible servers do: such prefixes are refused. */
const badPrefix = (prefix: string) => prefix.split('/').some((s) => s === '' || s === '.' || s === '..');

export class AllowedRoots {
  private constructor(private readonly roots: readonly Root[]) {}

  /** Roots separated by commas or white space; a malformed one throws, naming it. */
  static parse(list: string): AllowedRoots {
    const entries = list.split(/[\s,]+/).filter(Boolean);
    if (entries.length === 0) throw new Error(`${ALLOWED_ROOTS_ENV}: no roots given`);
    return new AllowedRoots(entries.map(parseRoot));
  }

  /** PARROT_ALLOWED_ROOTS, or the default: `<checkout>/.data` and s3://$PARROT_S3_BUCKET when set. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): AllowedRoots {
    const set = env[ALLOWED_ROOTS_ENV];
    if (set !== undefined && set.trim() !== '') return AllowedRoots.parse(set);
    const data = pathToFileURL(path.resolve(__dirname, '../../.data')).href;
    return AllowedRoots.parse([data, env.PARROT_S3_BUCKET && `s3://${env.PARROT_S3_BUCKET}`].join(' '));
  }

  toString(): string {
    return this.roots
      .map((r) =>
        r.kind === 'file' ? pathToFileURL(r.dir).href : `s3://${r.bucket}${r.prefix && `/${r.prefix}`}`,
      )
      .join(', ');
  }

  /**
   * Throws a non-retryable failure, naming the input field and the setting, unless `uri` lies
   * under a root. `builtin` seeds are always allowed. A local path is taken as the file system
   * resolves it: `..` and symbolic links that lead out of a root are refused.
   */
  check(field: string, uri: string): void {
    if (field === 'seeds' && uri === 'builtin') return;
    if (!this.allows(field === 'seeds' ? uri.replace(/#.*$/, '') : uri))
      throw ApplicationFailure.nonRetryable(
        `${field}: ${uri} is outside the folders and buckets this worker may use (${ALLOWED_ROOTS_ENV}: ${this.toString()}); use one of them, or have the workers' operator add it to ${ALLOWED_ROOTS_ENV}`,
        'OutsideAllowedRoots',
      );
  }

  private allows(uri: string): boolean {
    if (uri.startsWith('file:///')) {
      try {
        const target = realPath(fileURLToPath(uri));
        return this.roots.some((r) => r.kind === 'file' && isWithin(realPath(r.dir), target));
      } catch {
        return false; // not a path this platform reads (an encoded slash), or one it may not look into
      }
    }
    const m = S3_URI.exec(uri);
    if (!m || !BUCKET.test(m[1]) || m[1] === '*') return false;
    const [, bucket, key] = m;
    const prefix = key.replace(/\/+$/, '');
    if (prefix !== '' && badPrefix(prefix)) return false;
    return this.roots.some(
      (r) =>
        r.kind === 's3' &&
        (r.bucket === '*' || r.bucket === bucket) &&
        (r.prefix === '' || prefix === r.prefix || prefix.startsWith(`${r.prefix}/`)),
    );
  }
}

function parseRoot(entry: string): Root {
  const malformed = (why: string) =>
    new Error(
      `${ALLOWED_ROOTS_ENV}: '${entry}' ${why} (roots are file:///absolute/folder or s3://bucket[/prefix], or s3://* for any bucket the worker's credentials reach)`,
    );
  if (entry.startsWith('file:///')) {
    if (/[?#]/.test(entry)) throw malformed('has a query or fragment');
    try {
      return { kind: 'file', dir: path.resolve(fileURLToPath(entry)) };
    } catch (err) {
      throw malformed(`is not a local folder: ${(err as Error).message}`);
    }
  }
  const m = S3_URI.exec(entry);
  if (!m) throw malformed('is neither');
  const prefix = m[2].replace(/\/+$/, '');
  if (!BUCKET.test(m[1])) throw malformed('does not name a bucket');
  if (prefix !== '' && (m[1] === '*' || badPrefix(prefix))) throw malformed('has a bad prefix');
  return { kind: 's3', bucket: m[1], prefix };
}

/** The path with every symbolic link of its existing part resolved; the part that does not exist yet as given. */
function realPath(p: string): string {
  const absolute = path.resolve(p);
  let existing = absolute;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync.native(existing), ...rest);
    } catch (err) {
      const parent = path.dirname(existing);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === existing) throw err;
      rest.unshift(path.basename(existing));
      existing = parent;
    }
  }
}

const isWithin = (root: string, target: string) =>
  target === root || target.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
