// The Hugging Face hub cache, laid out exactly as Python's huggingface_hub does, so each side
// reuses what the other downloaded:
//   <cache>/models--{org}--{name}/blobs/<etag>                 file contents (etag = sha256 for LFS files)
//   <cache>/models--{org}--{name}/snapshots/<commit>/<file>    relative symlink to ../../blobs/<etag>
//   <cache>/models--{org}--{name}/refs/<revision>              the commit hash a branch or tag pointed to
//   <cache>/models--{org}--{name}/.no_exist/<commit>/<file>    empty marker: the repo has no such file

import { copyFile, lstat, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { ArgumentError } from '../util/errors.js';
import { writeAtomically } from './atomic-write.js';

/** `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, 'hub');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface', 'hub');
}

export function isCommitHash(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}

const SAFE_SEGMENT = /^[\w.-]+$/;

/** "org/name" or "name" (legacy canonical repos); rejects anything that could escape the cache folder. */
export function checkRepoId(repoId: string): void {
  const parts = repoId.split('/');
  if (parts.length > 2 || !parts.every((p) => SAFE_SEGMENT.test(p) && p !== '.' && p !== '..' && !p.includes('--'))) {
    throw new ArgumentError(`repo id ${JSON.stringify(repoId)} is not of the form "org/name" (letters, digits, '.', '_', '-')`);
  }
}

/** A file path inside a repo: relative, '/'-separated, no '.', '..' or empty segments. */
export function checkRepoFile(file: string): void {
  const parts = file.split('/');
  if (file === '' || !parts.every((p) => p !== '' && p !== '.' && p !== '..' && !p.includes('\\') && !p.includes('\0'))) {
    throw new ArgumentError(`repo file path ${JSON.stringify(file)} must be relative and '/'-separated, without '.' or '..'`);
  }
}

/** Branch, tag or commit; may contain '/' (e.g. "refs/pr/1") but never '..'. */
export function checkRevision(revision: string): void {
  if (revision === '' || revision.split('/').some((p) => p === '' || p === '.' || p === '..') || /[\\\0]/.test(revision)) {
    throw new ArgumentError(`revision ${JSON.stringify(revision)} is not a valid branch, tag or commit`);
  }
}

/** One repo's folder in the cache, with the paths of its parts. */
export class RepoCache {
  readonly dir: string;

  constructor(readonly cacheDir: string, readonly repoId: string) {
    checkRepoId(repoId);
    this.dir = join(cacheDir, `models--${repoId.split('/').join('--')}`);
  }

  blobPath(etag: string): string {
    return join(this.dir, 'blobs', etag);
  }

  snapshotDir(commit: string): string {
    return join(this.dir, 'snapshots', commit);
  }

  snapshotPath(commit: string, file: string): string {
    return join(this.snapshotDir(commit), ...file.split('/'));
  }

  private noExistPath(commit: string, file: string): string {
    return join(this.dir, '.no_exist', commit, ...file.split('/'));
  }

  /** The commit a branch/tag was last resolved to, or undefined. */
  async readRef(revision: string): Promise<string | undefined> {
    const text = await readFile(join(this.dir, 'refs', ...revision.split('/')), 'utf8').catch(() => undefined);
    const commit = text?.trim();
    return commit !== undefined && isCommitHash(commit) ? commit : undefined;
  }

  async writeRef(revision: string, commit: string): Promise<void> {
    const path = join(this.dir, 'refs', ...revision.split('/'));
    if ((await this.readRef(revision)) === commit) return;
    await mkdir(dirname(path), { recursive: true });
    await writeAtomically(path, (write) => write(new TextEncoder().encode(commit)));
  }

  /** The snapshot path of `file` when it resolves to an existing regular file (symlinks followed). */
  async cachedFile(commit: string, file: string): Promise<string | undefined> {
    const path = this.snapshotPath(commit, file);
    const info = await stat(path).catch(() => undefined);
    return info?.isFile() ? path : undefined;
  }

  async hasBlob(etag: string): Promise<boolean> {
    return (await stat(this.blobPath(etag)).catch(() => undefined))?.isFile() ?? false;
  }

  async isKnownMissing(commit: string, file: string): Promise<boolean> {
    return (await stat(this.noExistPath(commit, file)).catch(() => undefined)) !== undefined;
  }

  async markMissing(commit: string, file: string): Promise<void> {
    const path = this.noExistPath(commit, file);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, '');
  }

  /**
   * Point snapshots/<commit>/<file> at blobs/<etag> with a relative symlink (as huggingface_hub
   * does, so the cache folder can move); where symlinks are not allowed (Windows without developer
   * mode, some network drives) copy the blob instead.
   */
  async linkSnapshot(commit: string, file: string, etag: string): Promise<string> {
    const path = this.snapshotPath(commit, file);
    const blob = this.blobPath(etag);
    if (!path.startsWith(this.snapshotDir(commit) + sep)) throw new ArgumentError(`repo file ${file} escapes the snapshot folder`);
    await mkdir(dirname(path), { recursive: true });
    if (await lstat(path).catch(() => undefined)) await rm(path, { force: true });
    try {
      await symlink(relative(dirname(path), blob), path);
    } catch {
      await copyFile(blob, path);
    }
    return path;
  }
}
