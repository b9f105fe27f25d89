// A real HTTP hub on 127.0.0.1 for tests: `resolve` URLs answered with the Hugging Face hub's
// headers (x-repo-commit, etag, x-linked-etag/x-linked-size), LFS files redirected (302) to a
// second server on another port standing in for the storage CDN, Range requests, 404s with
// x-error-code, 401 without the right token, and fault injection (cut connections, a wrong
// sha256, a stalled transfer).

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  authorization: string | undefined;
  range: string | undefined;
}

export interface FakeHubOptions {
  repoId: string;
  commit: string;
  files: Record<string, Uint8Array>;
  /** Files served as LFS (redirected to the CDN, sha256 etag). */
  lfs: string[];
  /** When set, the hub answers 401 unless `Authorization: Bearer <token>`. */
  requireToken?: string;
  /** Another repo id that redirects (307, relative) to `repoId`, like a renamed repo. */
  renamedFrom?: string;
  /** Redirect LFS files to an absolute URL on the hub's own host (as some mirrors do) instead of the CDN. */
  lfsOnHubHost?: boolean;
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
export const gitBlobId = (bytes: Uint8Array) => createHash('sha1').update(`blob ${bytes.byteLength}\0`).update(bytes).digest('hex');

export class FakeHub {
  readonly requests: RecordedRequest[] = [];
  /** Cut this many upcoming CDN GETs after `cutAfterBytes` bytes of body. */
  cutConnections = 0;
  cutAfterBytes = 0;
  /** Announce this sha256 for LFS files instead of the real one. */
  announcedSha: string | undefined;
  /** The next `stallConnections` CDN GETs send `stallAfterBytes` then nothing (until the client goes away). */
  stallConnections = 0;
  stallAfterBytes = 0;
  hubUrl = '';
  cdnUrl = '';
  private hub: Server;
  private cdn: Server;

  private constructor(private readonly options: FakeHubOptions) {
    this.hub = createServer((req, res) => this.serveHub(req, res));
    this.cdn = createServer((req, res) => this.serveCdn(req, res));
  }

  static async start(options: FakeHubOptions): Promise<FakeHub> {
    const hub = new FakeHub(options);
    const listen = (server: Server) => new Promise<string>((resolve) => {
      server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
    });
    hub.hubUrl = await listen(hub.hub);
    hub.cdnUrl = await listen(hub.cdn);
    return hub;
  }

  async close(): Promise<void> {
    for (const server of [this.hub, this.cdn]) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  count(server: 'hub' | 'cdn', method?: string): number {
    return this.requests.filter((r) => r.server === server && (!method || r.method === method)).length;
  }

  private record(server: 'hub' | 'cdn', req: IncomingMessage): void {
    this.requests.push({ server, method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization, range: req.headers.range });
  }

  private serveHub(req: IncomingMessage, res: ServerResponse): void {
    this.record('hub', req);
    const { repoId, commit, files, lfs, requireToken, renamedFrom } = this.options;
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path.startsWith('/lfs/')) {
      this.serveStorage(req, res);
      return;
    }
    if (renamedFrom && path.startsWith(`/${renamedFrom}/`)) {
      res.writeHead(307, { location: `/${repoId}/${path.slice(renamedFrom.length + 2)}` }).end();
      return;
    }
    const match = /^\/(.+?\/.+?)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (!match || match[1] !== repoId) {
      res.writeHead(404, { 'x-error-code': 'RepoNotFound', 'x-error-message': 'Repository not found' }).end();
      return;
    }
    if (requireToken && req.headers.authorization !== `Bearer ${requireToken}`) {
      res.writeHead(401, { 'x-error-message': 'Invalid credentials in Authorization header' }).end();
      return;
    }
    const [, , revision, file] = match;
    if (revision !== 'main' && revision !== commit) {
      res.writeHead(404, { 'x-error-code': 'RevisionNotFound', 'x-error-message': `Invalid rev id: ${revision}` }).end();
      return;
    }
    const content = files[file];
    if (!content) {
      res.writeHead(404, { 'x-error-code': 'EntryNotFound', 'x-error-message': 'Entry not found', 'x-repo-commit': commit }).end();
      return;
    }
    if (lfs.includes(file)) {
      const sha = sha256(content);
      res.writeHead(302, {
        location: `${this.options.lfsOnHubHost ? this.hubUrl : this.cdnUrl}/lfs/${sha}?X-Amz-Signature=fake`,
        'x-repo-commit': commit,
        etag: `"${gitBlobId(content)}"`,
        'x-linked-etag': `"${this.announcedSha ?? sha}"`,
        'x-linked-size': String(content.byteLength),
      }).end();
      return;
    }
    res.writeHead(200, { 'x-repo-commit': commit, etag: `W/"${gitBlobId(content)}"`, 'content-length': content.byteLength });
    res.end(req.method === 'HEAD' ? undefined : content);
  }

  private serveCdn(req: IncomingMessage, res: ServerResponse): void {
    this.record('cdn', req);
    this.serveStorage(req, res);
  }

  /** LFS content by sha256, with Range and the injected faults. */
  private serveStorage(req: IncomingMessage, res: ServerResponse): void {
    const sha = /^\/lfs\/([0-9a-f]{64})/.exec(req.url ?? '')?.[1];
    const content = Object.values(this.options.files).find((c) => sha256(c) === sha);
    if (!content) {
      res.writeHead(404).end();
      return;
    }
    const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
    if (start >= content.byteLength && start > 0) {
      res.writeHead(416, { 'content-range': `bytes */${content.byteLength}` }).end();
      return;
    }
    const body = content.subarray(start);
    const headers: Record<string, string | number> = { 'content-length': body.byteLength, 'accept-ranges': 'bytes' };
    if (start > 0) headers['content-range'] = `bytes ${start}-${content.byteLength - 1}/${content.byteLength}`;
    res.writeHead(start > 0 ? 206 : 200, headers);
    if (this.cutConnections > 0) {
      this.cutConnections--;
      res.write(body.subarray(0, this.cutAfterBytes), () => res.socket?.destroy());
      return;
    }
    if (this.stallConnections > 0) {
      this.stallConnections--;
      res.write(body.subarray(0, this.stallAfterBytes)); // then nothing, until the client disconnects
      return;
    }
    res.end(body);
  }
}
