import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { resolveModelFiles, type ResolveOptions } from '../../src/io/hub.js';
import { ArgumentError, IOError } from '../../src/util/errors.js';
import { FakeHub, gitBlobId, sha256 } from './fake-hub.js';
import { makeTempDir, sharedFixtures } from './fixture-paths.js';

const COMMIT = 'a'.repeat(8) + '0123456789abcdef0123456789abcdef';
const REPO = 'dissect-test/llama-tiny';
const model = new Uint8Array(readFileSync(join(sharedFixtures, 'llama-tiny', 'model.safetensors')));
const config = new Uint8Array(readFileSync(join(sharedFixtures, 'llama-tiny', 'config.json')));
const nested = new TextEncoder().encode('a file in a sub-folder\n');
const FILES = { 'config.json': config, 'model.safetensors': model, 'extra/notes.txt': nested };

/** A fake hub and an empty cache; `run` gets both and everything is closed and deleted afterwards. */
async function withHub(
  run: (hub: FakeHub, cacheDir: string, resolve: (o?: Partial<ResolveOptions>) => ReturnType<typeof resolveModelFiles>) => Promise<void>,
  extra: { requireToken?: string; renamedFrom?: string; lfsOnHubHost?: boolean } = {},
): Promise<void> {
  const hub = await FakeHub.start({ repoId: REPO, commit: COMMIT, files: FILES, lfs: ['model.safetensors'], ...extra });
  const { dir, cleanup } = makeTempDir('hub');
  try {
    await run(hub, dir, (o = {}) => resolveModelFiles(REPO, {
      files: ['config.json', 'model.safetensors'], endpoint: hub.hubUrl, cacheDir: dir, token: false, offline: false, retryDelayMs: 1, ...o,
    }));
  } finally {
    await hub.close();
    cleanup();
  }
}

async function withEnv(vars: Record<string, string | undefined>, body: () => Promise<void>): Promise<void> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  try {
    await body();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

test('fresh download: files, huggingface_hub cache layout (blobs, relative symlinks, refs), progress', async () => {
  await withHub(async (hub, cacheDir, resolve) => {
    const progress: [number, number | undefined, string][] = [];
    const result = await resolve({ files: ['config.json', 'model.safetensors', 'extra/notes.txt'], onProgress: (b, t, f) => progress.push([b, t, f]) });
    assert.equal(result.commit, COMMIT);
    for (const [file, bytes] of Object.entries(FILES)) assert.deepEqual(new Uint8Array(readFileSync(result.files[file])), bytes, file);
    const repoDir = join(cacheDir, 'models--dissect-test--llama-tiny');
    assert.equal(readFileSync(join(repoDir, 'refs', 'main'), 'utf8'), COMMIT);
    assert.deepEqual(readdirSync(join(repoDir, 'blobs')).sort(), [gitBlobId(config), gitBlobId(nested), sha256(model)].sort());
    const link = join(repoDir, 'snapshots', COMMIT, 'model.safetensors');
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(readlinkSync(link), join('..', '..', 'blobs', sha256(model)));
    assert.equal(readlinkSync(join(repoDir, 'snapshots', COMMIT, 'extra', 'notes.txt')), join('..', '..', '..', 'blobs', gitBlobId(nested)));
    assert.equal(result.files['model.safetensors'], link);
    const modelProgress = progress.filter(([, , f]) => f === 'model.safetensors');
    assert.ok(modelProgress.length > 0);
    assert.deepEqual(modelProgress.at(-1), [model.byteLength, model.byteLength, 'model.safetensors']);
    assert.ok(modelProgress.every(([b], i) => i === 0 || b > modelProgress[i - 1][0]));
    assert.ok(hub.requests.every((r) => r.authorization === undefined));
    // A second resolve of the branch checks with HEADs but downloads nothing.
    const gets = hub.count('cdn', 'GET') + hub.count('hub', 'GET');
    await resolve();
    assert.equal(hub.count('cdn', 'GET') + hub.count('hub', 'GET'), gets);
  });
});

test('token: sent as Bearer to the hub, never forwarded to the storage host; 401 without it names HF_TOKEN', async () => {
  await withHub(async (hub, _cacheDir, resolve) => {
    await assert.rejects(resolve(), (e: Error) => e instanceof IOError && /401/.test(e.message) && /HF_TOKEN/.test(e.message));
    await withEnv({ HF_TOKEN: 'hf_secret' }, async () => {
      await resolve({ token: undefined });
    });
    const hubWithToken = hub.requests.filter((r) => r.server === 'hub' && r.authorization === 'Bearer hf_secret');
    assert.ok(hubWithToken.length >= 2);
    const cdn = hub.requests.filter((r) => r.server === 'cdn');
    assert.ok(cdn.length >= 1);
    assert.ok(cdn.every((r) => r.authorization === undefined), 'token leaked to the CDN host');
  }, { requireToken: 'hf_secret' });
});

test('HF_ENDPOINT and HF_HUB_CACHE from the environment are honoured', async () => {
  await withHub(async (hub, cacheDir) => {
    await withEnv({ HF_ENDPOINT: `${hub.hubUrl}/`, HF_HUB_CACHE: cacheDir, HF_TOKEN: undefined, HF_HUB_OFFLINE: undefined }, async () => {
      const result = await resolveModelFiles(REPO, { files: ['config.json'] });
      assert.ok(result.files['config.json'].startsWith(cacheDir));
      assert.equal(hub.count('hub', 'HEAD'), 1);
    });
  });
});

test('connection cut mid-file: retries resume with Range and produce the exact file', async () => {
  await withHub(async (hub, _cacheDir, resolve) => {
    hub.cutConnections = 2;
    hub.cutAfterBytes = 100_000;
    const result = await resolve();
    assert.deepEqual(new Uint8Array(readFileSync(result.files['model.safetensors'])), model);
    const gets = hub.requests.filter((r) => r.server === 'cdn');
    assert.equal(gets.length, 3);
    assert.equal(gets[0].range, undefined);
    const offsets = gets.slice(1).map((r) => Number(/^bytes=(\d+)-$/.exec(r.range ?? '')?.[1]));
    assert.ok(offsets[0] > 0 && offsets[1] > offsets[0], `resume offsets ${offsets}`);
  });
});

test('too many cuts: clear IOError, a resumable .incomplete and no final file', async () => {
  await withHub(async (hub, cacheDir, resolve) => {
    hub.cutConnections = 10;
    hub.cutAfterBytes = 50_000;
    await assert.rejects(resolve({ maxRetries: 1 }), (e: Error) => e instanceof IOError && /connection/.test(e.message));
    const blobs = readdirSync(join(cacheDir, 'models--dissect-test--llama-tiny', 'blobs'));
    assert.ok(blobs.includes(`${sha256(model)}.incomplete`));
    assert.ok(!blobs.includes(sha256(model)));
    hub.cutConnections = 0;
    const result = await resolve();
    assert.deepEqual(new Uint8Array(readFileSync(result.files['model.safetensors'])), model);
  });
});

test('AbortSignal: rejects with its reason, keeps a resumable .incomplete; the next call resumes', async () => {
  await withHub(async (hub, cacheDir, resolve) => {
    hub.stallConnections = 1;
    hub.stallAfterBytes = 200_000;
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    await assert.rejects(resolve({ signal: controller.signal, onProgress: (_b, _t, file) => file === 'model.safetensors' && controller.abort(reason) }), (e) => e === reason);
    const repoDir = join(cacheDir, 'models--dissect-test--llama-tiny');
    const incomplete = join(repoDir, 'blobs', `${sha256(model)}.incomplete`);
    const partial = readFileSync(incomplete).byteLength;
    assert.ok(partial > 0 && partial < model.byteLength);
    assert.ok(!existsSync(join(repoDir, 'blobs', sha256(model))));
    assert.ok(!existsSync(join(repoDir, 'snapshots', COMMIT, 'model.safetensors')));
    const result = await resolve();
    assert.deepEqual(new Uint8Array(readFileSync(result.files['model.safetensors'])), model);
    assert.equal(hub.requests.filter((r) => r.server === 'cdn').at(-1)?.range, `bytes=${partial}-`);
  });
});

test('a stalled transfer is dropped after stallTimeoutMs and resumed', async () => {
  await withHub(async (hub, _cacheDir, resolve) => {
    hub.stallConnections = 2;
    hub.stallAfterBytes = 150_000;
    const started = Date.now();
    const result = await resolve({ stallTimeoutMs: 150 });
    assert.deepEqual(new Uint8Array(readFileSync(result.files['model.safetensors'])), model);
    const ranges = hub.requests.filter((r) => r.server === 'cdn').map((r) => r.range);
    assert.equal(ranges.length, 3);
    assert.ok(ranges[1]?.startsWith('bytes=') && ranges[2]?.startsWith('bytes='), ranges.join());
    assert.ok(Date.now() - started < 5000);
  });
});

test('wrong sha256: clear error, nothing cached under the final name, no partial left', async () => {
  await withHub(async (hub, cacheDir, resolve) => {
    hub.announcedSha = sha256(new TextEncoder().encode('something else'));
    await assert.rejects(resolve(), (e: Error) => e instanceof IOError && /sha256/.test(e.message) && e.message.includes(hub.announcedSha as string));
    const blobs = readdirSync(join(cacheDir, 'models--dissect-test--llama-tiny', 'blobs'));
    assert.deepEqual(blobs, [gitBlobId(config)]);
    assert.ok(!existsSync(join(cacheDir, 'models--dissect-test--llama-tiny', 'snapshots', COMMIT, 'model.safetensors')));
  });
});

test('offline: cache only, no requests; clear IOError when something is missing', async () => {
  await withHub(async (hub, cacheDir, resolve) => {
    await assert.rejects(resolve({ offline: true }), (e: Error) => e instanceof IOError && /offline/.test(e.message) && e.message.includes(cacheDir));
    await resolve();
    const before = hub.requests.length;
    await withEnv({ HF_HUB_OFFLINE: '1' }, async () => {
      const result = await resolve({ offline: undefined });
      assert.equal(result.commit, COMMIT);
      await assert.rejects(resolve({ offline: undefined, files: ['config.json', 'tokenizer.json'] }), (e: Error) => e instanceof IOError && /tokenizer\.json/.test(e.message));
    });
    assert.equal(hub.requests.length, before);
  });
});

test('a cache populated the way Python huggingface_hub does is reused without downloads', async () => {
  const { mkdirSync, writeFileSync, symlinkSync } = await import('node:fs');
  await withHub(async (hub, cacheDir, resolve) => {
    const repoDir = join(cacheDir, 'models--dissect-test--llama-tiny');
    mkdirSync(join(repoDir, 'blobs'), { recursive: true });
    mkdirSync(join(repoDir, 'snapshots', COMMIT), { recursive: true });
    mkdirSync(join(repoDir, 'refs'), { recursive: true });
    writeFileSync(join(repoDir, 'blobs', sha256(model)), model);
    writeFileSync(join(repoDir, 'blobs', gitBlobId(config)), config);
    symlinkSync(join('..', '..', 'blobs', sha256(model)), join(repoDir, 'snapshots', COMMIT, 'model.safetensors'));
    symlinkSync(join('..', '..', 'blobs', gitBlobId(config)), join(repoDir, 'snapshots', COMMIT, 'config.json'));
    writeFileSync(join(repoDir, 'refs', 'main'), COMMIT);
    // A commit hash needs no network at all.
    const pinned = await resolve({ revision: COMMIT });
    assert.deepEqual(new Uint8Array(readFileSync(pinned.files['model.safetensors'])), model);
    assert.equal(hub.requests.length, 0);
    // Offline, refs/main is trusted.
    assert.equal((await resolve({ offline: true })).commit, COMMIT);
    assert.equal(hub.requests.length, 0);
    // Online on a branch: HEAD per file, no download.
    await resolve();
    assert.equal(hub.count('hub', 'HEAD'), 2);
    assert.equal(hub.count('cdn') + hub.count('hub', 'GET'), 0);
  });
});

test('missing files: required → IOError naming it; optional → listed as missing and remembered for offline use', async () => {
  await withHub(async (_hub, cacheDir, resolve) => {
    await assert.rejects(resolve({ files: ['config.json', 'tokenizer.json'] }), (e: Error) => e instanceof IOError && /tokenizer\.json/.test(e.message) && /404/.test(e.message));
    await assert.rejects(resolve({ revision: 'no-such-branch' }), (e: Error) => e instanceof IOError && /Invalid rev id: no-such-branch/.test(e.message));
    await assert.rejects(resolve({ optionalFiles: ['x'], endpoint: `${_hub.hubUrl}/other` }), (e: Error) => e instanceof IOError && /Repository not found/.test(e.message));
    const result = await resolve({ optionalFiles: ['tokenizer_config.json', 'extra/notes.txt'] });
    assert.deepEqual(result.missing, ['tokenizer_config.json']);
    assert.ok(result.files['extra/notes.txt']);
    assert.ok(existsSync(join(cacheDir, 'models--dissect-test--llama-tiny', '.no_exist', COMMIT, 'tokenizer_config.json')));
    const offline = await resolve({ offline: true, optionalFiles: ['tokenizer_config.json'] });
    assert.deepEqual(offline.missing, ['tokenizer_config.json']);
  });
});

test('hub unreachable: falls back to a complete cached snapshot with a notice, else IOError', async () => {
  const { setNoticeHandler } = await import('../../src/util/log.js');
  await withHub(async (hub, cacheDir, resolve) => {
    await resolve();
    const notices: string[] = [];
    const previous = setNoticeHandler((m) => notices.push(m));
    try {
      await hub.close();
      const result = await resolve();
      assert.equal(result.commit, COMMIT);
      assert.ok(notices.some((m) => /using cached/.test(m)), notices.join('\n'));
      await assert.rejects(resolveModelFiles('other/repo', { files: ['config.json'], endpoint: hub.hubUrl, cacheDir, token: false, offline: false }),
        (e: Error) => e instanceof IOError && /cannot reach/.test(e.message));
    } finally {
      setNoticeHandler(previous);
    }
  });
});

test('renamed repo: HEAD follows the hub\'s relative redirect', async () => {
  await withHub(async (_hub, cacheDir) => {
    const result = await resolveModelFiles('dissect-test/old-name', {
      files: ['config.json'], endpoint: _hub.hubUrl, cacheDir, token: false, offline: false,
    });
    assert.deepEqual(new Uint8Array(readFileSync(result.files['config.json'])), config);
  }, { renamedFrom: 'dissect-test/old-name' });
});

test('LFS redirect to an absolute URL on the hub host itself (mirror style) is followed for the content', async () => {
  await withHub(async (hub, _cacheDir, resolve) => {
    const result = await resolve();
    assert.deepEqual(new Uint8Array(readFileSync(result.files['model.safetensors'])), model);
    assert.equal(hub.count('cdn'), 0);
    assert.ok(hub.requests.some((r) => r.method === 'GET' && r.path.startsWith('/lfs/')));
  }, { lfsOnHubHost: true });
});

test('two concurrent resolves of the same file share one download', async () => {
  await withHub(async (hub, _cacheDir, resolve) => {
    const [a, b] = await Promise.all([resolve(), resolve()]);
    assert.equal(a.files['model.safetensors'], b.files['model.safetensors']);
    assert.equal(hub.count('cdn', 'GET'), 1);
  });
});

test('hostile input: repo ids and file paths that would escape the cache are rejected', async () => {
  await withHub(async (_hub, _cacheDir, resolve) => {
    await assert.rejects(resolveModelFiles('../evil', { files: ['config.json'], offline: true }), ArgumentError);
    await assert.rejects(resolveModelFiles('a/b/c', { files: ['config.json'], offline: true }), ArgumentError);
    await assert.rejects(resolve({ files: ['../../etc/passwd'] }), ArgumentError);
    await assert.rejects(resolve({ files: ['/etc/passwd'] }), ArgumentError);
    await assert.rejects(resolve({ revision: '../main' }), ArgumentError);
  });
});
