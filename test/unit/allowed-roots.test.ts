// The worker's allow-list of seed and output roots (PARROT_ALLOWED_ROOTS): what it lets through,
// what it refuses, and how the refusal reads.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { AllowedRoots } from '../../src/config/allowed-roots';

const refused = (field: string, uri: string) => (err: unknown) =>
  err instanceof ApplicationFailure &&
  err.nonRetryable &&
  err.type === 'OutsideAllowedRoots' &&
  err.message.startsWith(`${field}: ${uri} is outside`) &&
  err.message.includes('PARROT_ALLOWED_ROOTS');

describe('allowed roots (PARROT_ALLOWED_ROOTS)', () => {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-roots-')));
  const root = path.join(base, 'data');
  const outside = path.join(base, 'elsewhere');
  const url = (p: string) => pathToFileURL(p).href;
  const roots = AllowedRoots.parse(`${url(root)}, s3://parrot s3://shared/team-a/`);
  before(() => {
    fs.mkdirSync(root);
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'x');
    fs.symlinkSync(outside, path.join(root, 'link'));
  });
  after(() => fs.rmSync(base, { recursive: true, force: true }));

  it('lets through builtin seeds, and seeds and output under a root, existing or not', () => {
    roots.check('seeds', 'builtin');
    roots.check('output', url(root));
    roots.check('output', `${url(root)}/`);
    roots.check('output', url(path.join(root, 'not/yet/made')));
    roots.check('seeds', `${url(path.join(root, 'seeds.csv'))}#question`);
    roots.check('output', 's3://parrot');
    roots.check('output', 's3://parrot/any/prefix');
    roots.check('seeds', 's3://shared/team-a/seeds.jsonl');
    roots.check('output', 's3://shared/team-a');
  });

  it("refuses the worker's own files, naming the field and the setting", () => {
    assert.throws(
      () => roots.check('seeds', 'file:///proc/self/environ'),
      refused('seeds', 'file:///proc/self/environ'),
    );
    assert.throws(() => roots.check('output', 'file:///etc/cron.d'), refused('output', 'file:///etc/cron.d'));
  });

  it('refuses a way out through .., a symbolic link, or a look-alike name', () => {
    const viaDots = `${url(root)}/../elsewhere/secret.txt`;
    assert.throws(() => roots.check('seeds', viaDots), refused('seeds', viaDots));
    const viaEncodedDots = `${url(root)}/%2e%2e/elsewhere/secret.txt`;
    assert.throws(() => roots.check('seeds', viaEncodedDots), refused('seeds', viaEncodedDots));
    const viaLink = url(path.join(root, 'link', 'secret.txt'));
    assert.throws(() => roots.check('seeds', viaLink), refused('seeds', viaLink));
    const linkAsOutput = url(path.join(root, 'link', 'new-folder'));
    assert.throws(() => roots.check('output', linkAsOutput), refused('output', linkAsOutput));
    const sibling = url(`${root}-evil`);
    assert.throws(() => roots.check('output', sibling), refused('output', sibling));
    const encodedSlash = `${url(root)}%2F..%2Felsewhere`;
    assert.throws(() => roots.check('output', encodedSlash), refused('output', encodedSlash));
  });

  it('refuses other buckets, other prefixes and dot segments in S3', () => {
    for (const uri of [
      's3://other/x',
      's3://shared/team-b/x',
      's3://shared/team-ab',
      's3://shared/team-a/../team-b',
      's3://parrot/./x',
      's3://*/x',
      'http://parrot/x',
      'file://host/etc/passwd',
    ])
      assert.throws(() => roots.check('output', uri), refused('output', uri));
  });

  it('s3://* lets any bucket through, and only buckets', () => {
    const anyBucket = AllowedRoots.parse('s3://*');
    anyBucket.check('output', 's3://whatever/x');
    assert.throws(() => anyBucket.check('output', url(root)), refused('output', url(root)));
  });

  it('refuses to parse a malformed root, naming it and the setting', () => {
    for (const bad of [
      'relative/folder',
      '/abs/without/scheme',
      'http://x',
      's3://',
      's3://Bad_Bucket',
      'file:///x?y',
      's3://*/prefix',
    ])
      assert.throws(
        () => AllowedRoots.parse(bad),
        new RegExp(`^Error: PARROT_ALLOWED_ROOTS: '${bad.replace(/[?*/]/g, '\\$&')}'`),
      );
    assert.throws(() => AllowedRoots.parse(' , '), /PARROT_ALLOWED_ROOTS: no roots given/);
  });

  it("defaults to the checkout's data folder and the configured bucket", () => {
    const data = url(path.resolve(__dirname, '../../.data'));
    assert.equal(AllowedRoots.fromEnv({}).toString(), data);
    assert.equal(AllowedRoots.fromEnv({ PARROT_S3_BUCKET: 'parrot' }).toString(), `${data}, s3://parrot`);
    assert.equal(
      AllowedRoots.fromEnv({ PARROT_S3_BUCKET: 'parrot', PARROT_ALLOWED_ROOTS: 's3://mine/out' }).toString(),
      's3://mine/out',
    );
  });
});
