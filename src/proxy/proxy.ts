/**
 * bottle's egress proxy: the only way out of a bottle. It MITMs metered routes (and always the known model
 * API hosts), tunnels `mitm: false` routes untouched, denies everything else with a readable 403, and reports
 * every step to hooks; it holds no policy and imports no budget or ledger code.
 *
 * API (used by the sandbox backends, `bottle proxy` and enforce):
 *
 *   const proxy = createProxy({ hooks, caDir });        // CA loaded or created under caDir
 *   const run = await proxy.openRun({ runId, routes, log: "blocks", provider: "claude" });
 *   run.socketPath  // unix socket (0600, in a 0700 dir): bridge the sandbox to it; no credential needed
 *   run.port        // loopback TCP port, requires Proxy-Authorization for user `bottle` / run.credential
 *   run.proxyUrl    // http://bottle:<credential>@127.0.0.1:<port>: what HTTPS_PROXY / HTTP_PROXY should be
 *   run.caCertPath  // the CA agents must trust (NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, CODEX_CA_CERTIFICATE)
 *   await run.close();  await proxy.close();
 *
 * Each run has its own listeners, so every hook call carries the run's id. `openRun` throws a ProxyError
 * for a route that cannot work (an `auth:` secret missing from the host environment, a bad `upstream:`, a
 * known API host with `mitm: false`). Compression: the proxy asks upstreams for `identity`; if one
 * compresses anyway, the body is decoded before the hooks see it and reaches the client without
 * `content-encoding`, so headers always match the bytes. WebSocket upgrades inside a MITM tunnel are refused
 * with 426 (clients fall back to HTTPS streaming), see docs.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { loadOrCreateCa, type CertificateAuthority } from "../ca/authority.ts";
import { LeafIssuer } from "../ca/leaf.ts";
import { ProxyError } from "../errors.ts";
import type { EgressLogLevel, ProviderName, Route } from "../manifest/types.ts";
import type { ExchangeTarget } from "./exchange.ts";
import type { ProxyHooks } from "./hooks.ts";
import { startFront, type Front } from "./front.ts";
import { startMitmListener, type MitmListener } from "./mitm-listener.ts";
import { createRunServer, PROXY_USER } from "./run-listener.ts";
import { validateRoutes } from "./validate-routes.ts";
import { DEFAULT_LIMITS, type ProxyLimits, type RunContext } from "./run-context.ts";

export interface CreateProxyOptions {
  hooks?: ProxyHooks;
  /** Where the CA lives (created on first use), normally homePaths().ca. */
  caDir?: string;
  /** An already-loaded CA (tests); wins over caDir. */
  ca?: CertificateAuthority;
  /** Extra PEM CAs trusted for upstream TLS (tests' fake upstreams, corporate gateways). */
  upstreamCa?: string[];
  limits?: Partial<ProxyLimits>;
  /** Environment the `auth:` secrets are read from; default process.env. */
  env?: Record<string, string | undefined>;
}

export interface OpenRunOptions {
  runId: string;
  routes: Route[];
  log?: EgressLogLevel;
  /** The run's provider: attributes metered routes on hosts bottle does not know (gateways). */
  provider?: ProviderName;
  /**
   * How a "no route" denial names this run's allowlist and the way to change it, after "HOST is not on ";
   * default a bottle's (`egress.routes`). `bottle proxy` has no bottle and says what applies to it instead.
   */
  allowlist?: string;
  /** Per-run hooks; default the proxy's. */
  hooks?: ProxyHooks;
  /** Listen on a loopback TCP port as well as the unix socket (default true). */
  port?: boolean;
  /** Require the per-run credential on the TCP port (default true). */
  requireCredential?: boolean;
  /** A fixed loopback port instead of a free one. */
  listenPort?: number;
}

export interface RunHandle {
  runId: string;
  socketPath: string;
  port?: number;
  /** `http://bottle:<credential>@127.0.0.1:<port>` (no credential part when not required). */
  proxyUrl?: string;
  credential?: string;
  caCertPath: string;
  close(): Promise<void>;
}

export interface EgressProxy {
  ca: CertificateAuthority;
  openRun(o: OpenRunOptions): Promise<RunHandle>;
  close(): Promise<void>;
}

function listen(server: Server, target: { path: string } | { port: number; host: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(target, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
  });
}

export function createProxy(opts: CreateProxyOptions = {}): EgressProxy {
  if (!opts.ca && !opts.caDir) throw new ProxyError("createProxy needs a CA", { fix: "pass caDir (normally homePaths().ca) or ca" });
  const ca = opts.ca ?? loadOrCreateCa(opts.caDir!);
  const leaves = new LeafIssuer(ca);
  const limits: ProxyLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const socketRoot = mkdtempSync(join(tmpdir(), "bottle-px-"));
  chmodSync(socketRoot, 0o700);
  const runs = new Set<RunHandle>();
  let n = 0;

  async function openRun(o: OpenRunOptions): Promise<RunHandle> {
    const auth = validateRoutes(o.routes, opts.env ?? process.env);
    const run: RunContext = {
      runId: o.runId,
      routes: o.routes,
      log: o.log ?? "blocks",
      ...(o.provider ? { provider: o.provider } : {}),
      ...(o.allowlist ? { allowlist: o.allowlist } : {}),
      hooks: o.hooks ?? opts.hooks ?? {},
      auth,
      limits,
      upstreamCa: opts.upstreamCa ?? [],
    };
    n++;
    const mitm = new Map<string, MitmListener>();
    const deps = {
      run,
      mitmSocket(t: ExchangeTarget): string {
        const key = `${t.host}:${t.port}`;
        let l = mitm.get(key);
        if (!l) {
          l = startMitmListener(run, t, leaves.issue(t.host), socketRoot);
          mitm.set(key, l);
        }
        return l.socketPath;
      },
    };
    // node:http serves what the native fronts hand over (see front.ts), on private sockets in the 0700 dir.
    const socketPath = join(socketRoot, `run${n}.sock`);
    const fallbackPath = join(socketRoot, `run${n}-http.sock`);
    const unixServer = createRunServer(deps);
    await listen(unixServer, { path: fallbackPath });
    const servers = [unixServer];
    const sockets = [socketPath, fallbackPath];
    const fronts: Front[] = [];
    const undo = async (): Promise<void> => {
      for (const f of fronts) f.stop();
      await Promise.all(servers.map(closeServer));
      for (const p of sockets) rmSync(p, { force: true });
    };
    fronts.push(startFront({ deps, fallbackPath, listen: { unix: socketPath } }));
    chmodSync(socketPath, 0o600);
    let port: number | undefined;
    let credential: string | undefined;
    let proxyUrl: string | undefined;
    if (o.port !== false) {
      if (o.requireCredential !== false) credential = randomBytes(18).toString("base64url");
      const tcpFallback = join(socketRoot, `run${n}-http-tcp.sock`);
      const tcp = createRunServer(deps, credential);
      await listen(tcp, { path: tcpFallback });
      servers.push(tcp);
      sockets.push(tcpFallback);
      try {
        const front = startFront({ deps, ...(credential ? { credential } : {}), fallbackPath: tcpFallback, listen: { hostname: "127.0.0.1", port: o.listenPort ?? 0 } });
        fronts.push(front);
        port = front.port!;
      } catch (e) {
        await undo();
        throw new ProxyError(`cannot listen on 127.0.0.1:${o.listenPort ?? 0}: ${(e as Error).message}`, {
          key: "port",
          fix: "choose another port, or omit it to use a free one",
        });
      }
      proxyUrl = credential ? `http://${PROXY_USER}:${credential}@127.0.0.1:${port}` : `http://127.0.0.1:${port}`;
    }
    let closed = false;
    const handle: RunHandle = {
      runId: o.runId,
      socketPath,
      ...(port !== undefined ? { port } : {}),
      ...(proxyUrl ? { proxyUrl } : {}),
      ...(credential ? { credential } : {}),
      caCertPath: ca.certPath,
      async close() {
        if (closed) return;
        closed = true;
        runs.delete(handle);
        for (const l of mitm.values()) l.stop();
        await undo();
      },
    };
    runs.add(handle);
    return handle;
  }

  return {
    ca,
    openRun,
    async close() {
      await Promise.all([...runs].map((r) => r.close()));
      rmSync(socketRoot, { recursive: true, force: true });
    },
  };
}
