/**
 * The sandbox backend: bubblewrap on Linux. No daemon, starts in milliseconds, the agent binary comes from
 * the host. Each exec is one bwrap instance with its own user, pid, ipc, uts and network namespaces; the
 * run's home and workspace live on the host (under the run directory, or the user's cwd in bind mode), so
 * several execs of one run see the same files. See args.ts for the mount layout.
 *
 * Freeze semantics, honestly: a process cannot be checkpointed without CRIU, so freeze keeps files. It
 * first stops every process of the bottle at once, by killing each PID namespace's init (the kernel then
 * kills every member, and no fork can outrun it; see pid-namespace.ts), and checks that none is left, so
 * the files no longer change. Only then is home (and a copied workspace) copied into the run's snapshot
 * directory, without following any symlink (snapshot-copy.ts). Resume restores those files and starts a fresh bottle;
 * the agent continues from its own on-disk session state (the provider's resume arguments), not from
 * its memory. A bind-mounted workspace is the user's own directory and is kept in place, not copied.
 *
 * Launched by root, the agent is an unprivileged uid (args.ts), so its home, workspace and proxy socket are
 * lent to that uid while the bottle lives and given back to root by freeze and teardown (../ownership.ts).
 */
import { chmodSync, closeSync, existsSync, lchownSync, mkdirSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { BackendError } from "../../errors.ts";
import { bottleHome, runDir } from "../../paths.ts";
import { bottleEnv } from "../env.ts";
import { isAlive, processTree, signalTree, waitGone } from "../procs.ts";
import { copySnapshotTree } from "../snapshot-copy.ts";
import { killNamespaces, namespaceTargets } from "./pid-namespace.ts";
import { selfCommand } from "../self.ts";
import { spawnBottleProcess } from "../spawn.ts";
import { allRecords, liveProcesses, readRecord, stateOf, toActive, trackInRecord, updateRecord, writeRecord } from "../state.ts";
import { type ActiveBottle, type Availability, type Backend, type BottleHandle, type BottlePlan, type ExecOptions, type ExecResult, type RunningProcess, type Snapshot } from "../types.ts";
import { guardPolicyDir } from "../policy-dir.ts";
import { ARGS_FD, bwrapInvocation, type AgentIdentity, type BwrapInvocation } from "./args.ts";
import { agentIdentity, etcMasks, linkTarget, loginHomes } from "./host-view.ts";
import { lendPath, lendRun, ROOT, takeBackRun } from "../ownership.ts";
import { copyTree, insideToHost, validateRunId } from "../files.ts";
import { guardAfter, guardBefore } from "../git-guard/index.ts";
import { DEFAULT_PIDS_LIMIT } from "../process-limit.ts";
import { ensureCgroup, joinArgv, pidsLimitFor, removeCgroup, rlimitPrefix, type PidsLimit } from "./pids-limit.ts";

export interface SandboxOptions {
  /** bubblewrap executable; default `bwrap` from PATH. */
  bwrap?: string;
  home?: string;
}

export class SandboxBackend implements Backend {
  readonly name = "sandbox" as const;
  private readonly bwrap: string;
  private readonly home: string;

  constructor(opts: SandboxOptions = {}) {
    this.bwrap = opts.bwrap ?? "bwrap";
    this.home = opts.home ?? bottleHome();
  }

  async available(): Promise<Availability> {
    if (process.platform !== "linux") return { ok: false, reason: "the sandbox backend needs Linux", fix: "use --backend docker" };
    const exe = Bun.which(this.bwrap);
    if (!exe) return { ok: false, reason: "bubblewrap (bwrap) is not installed", fix: "install it: apt-get install bubblewrap (or dnf install bubblewrap)" };
    // Root's bottles use no user namespace (args.ts), so root needs setpriv and a free agent id instead.
    let identity: AgentIdentity;
    try {
      identity = agentIdentity();
    } catch (e) {
      if (e instanceof BackendError) return { ok: false, reason: e.message, fix: e.context.fix ?? "run bottle as an ordinary user" };
      throw e;
    }
    // A bottle never runs without its process limit: no way to enforce it means no sandbox here.
    try {
      pidsLimitFor(identity, DEFAULT_PIDS_LIMIT);
    } catch (e) {
      if (e instanceof BackendError) return { ok: false, reason: e.message, fix: e.context.fix ?? "install util-linux" };
      throw e;
    }
    const userns = identity.kind === "userns" ? ["--unshare-user"] : [];
    const probe = Bun.spawnSync([exe, ...userns, "--unshare-net", "--ro-bind", "/", "/", "--", "true"], { env: process.env, stderr: "pipe" });
    if (probe.exitCode !== 0) {
      const why = new TextDecoder().decode(probe.stderr).trim();
      return { ok: false, reason: `bwrap cannot create namespaces here (${why})`, fix: "enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) or use --backend docker" };
    }
    return { ok: true };
  }

  async create(plan: BottlePlan): Promise<BottleHandle> {
    validateRunId(plan.runId);
    const dir = runDir(plan.runId, this.home);
    const cwd = resolve(plan.cwd);
    const rel = relative(this.home, cwd);
    if (rel === "" || (!rel.startsWith("..") && !isAbsolute(rel))) {
      throw new BackendError(`the workspace ${cwd} is inside $BOTTLE_HOME, which a bottle never sees`, { key: "cwd", fix: "run bottle from your project directory" });
    }
    if (!existsSync(plan.proxySocket)) throw new BackendError(`proxy socket ${plan.proxySocket} does not exist`, { key: "proxySocket", fix: "open the run on the proxy before creating its bottle" });
    const hostHome = join(dir, "home");
    mkdirSync(hostHome, { recursive: true, mode: 0o700 });
    let hostWorkspace = cwd;
    if (plan.workspace === "copy") {
      hostWorkspace = join(dir, "workspace");
      if (!existsSync(hostWorkspace)) copyTree(cwd, hostWorkspace);
    }
    guardPolicyDir(hostWorkspace);
    const who = agentIdentity();
    const guard = guardBefore(plan, this.home, hostWorkspace);
    const handle: BottleHandle = { runId: plan.runId, backend: "sandbox", plan: { ...plan, cwd }, hostHome, hostWorkspace, workspace: cwd, ...(guard ? { guard } : {}) };
    lendRun(handle, this.home, who);
    writeRecord({ version: 1, handle, createdAt: Date.now(), processes: [] }, this.home);
    return handle;
  }

  /** The process limit of this host's sandbox bottles and what enforces it (pids-limit.ts). */
  pidsLimit(max = DEFAULT_PIDS_LIMIT): PidsLimit {
    return pidsLimitFor(agentIdentity(), max);
  }

  /** The bwrap invocation of one exec (exposed for tests): its options go to bwrap through a descriptor. */
  invocationFor(handle: BottleHandle, argv: string[], opts: ExecOptions = {}): { invocation: BwrapInvocation; env: Record<string, string>; limit: PidsLimit } {
    if (argv.length === 0) throw new BackendError("nothing to run in the bottle", { fix: "pass the agent's argv" });
    const identity = agentIdentity();
    const limit = pidsLimitFor(identity, handle.plan.pidsLimit ?? DEFAULT_PIDS_LIMIT);
    // The agent's group may connect to its run's proxy socket; its directory stays root's and private.
    if (identity.kind === "drop") {
      lchownSync(handle.plan.proxySocket, 0, identity.gid);
      chmodSync(handle.plan.proxySocket, 0o660);
    }
    const invocation = bwrapInvocation({
      handle,
      self: selfCommand(),
      bottleHome: this.home,
      hostHomes: loginHomes(),
      etcMasks: etcMasks(),
      attach: opts.attach ?? "inherit",
      cwd: opts.cwd ?? handle.workspace,
      argv,
      identity,
      ...(handle.plan.caCertPath ? { caCert: readFileSync(handle.plan.caCertPath, "utf8") } : {}),
      exists: existsSync,
      linkTarget,
      limitPrefix: rlimitPrefix(limit),
    });
    const env = bottleEnv({ plan: handle.plan, path: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin", extra: opts.env });
    return { invocation, env, limit };
  }

  /** The full host argv of one exec, options inline (for tests and diagnostics). */
  commandFor(handle: BottleHandle, argv: string[], opts: ExecOptions = {}): { argv: string[]; env: Record<string, string> } {
    const { invocation, env } = this.invocationFor(handle, argv, opts);
    return { argv: [this.bwrap, ...invocation.options, "--", ...invocation.command], env };
  }

  /**
   * bwrap's options are read from descriptor 3 (`--args 3`), not its argv, and passwd/group from 4 and 5: the bottle's PID 1 is bwrap, and
   * its /proc/1/cmdline would otherwise show every host path the bottle is built from ($BOTTLE_HOME, the
   * run id, the proxy's socket directory).
   */
  exec(handle: BottleHandle, argv: string[], opts: ExecOptions = {}): RunningProcess {
    const { invocation, env, limit } = this.invocationFor(handle, argv, opts);
    // Under a pids cgroup, bwrap joins it before it starts, so the bottle's first process is already counted.
    const bwrapArgv = [this.bwrap, "--args", String(ARGS_FD), "--", ...invocation.command];
    const hostArgv = limit.kind === "cgroup" ? joinArgv(ensureCgroup(limit, handle.runId), bwrapArgv) : bwrapArgv;
    const dir = runDir(handle.runId, this.home);
    const fds = [invocation.options.map((o) => `${o}\0`).join(""), ...invocation.data].map((text) => {
      const file = join(dir, `.bwrap-${process.pid}-${++argsFiles}`);
      writeFileSync(file, text, { mode: 0o600 });
      const fd = openSync(file, "r");
      unlinkSync(file);
      return fd;
    });
    try {
      const proc = spawnBottleProcess({ argv: hostArgv, env, attach: opts.attach ?? "inherit", stdin: opts.stdin, extraFds: fds });
      return trackInRecord(handle.runId, proc, this.home);
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  }

  provision(handle: BottleHandle, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.exec(handle, argv, { ...opts, attach: "capture" }).exited;
  }

  async copyIn(handle: BottleHandle, hostPath: string, insidePath: string): Promise<void> {
    const to = insideToHost(handle, insidePath);
    copyTree(hostPath, to);
    const who = agentIdentity();
    if (who.kind === "drop") {
      const base = relative(handle.hostHome, to).startsWith("..") ? handle.hostWorkspace : handle.hostHome;
      lendPath(base, to, ROOT, who);
    }
  }

  async list(): Promise<ActiveBottle[]> {
    const out: ActiveBottle[] = [];
    for (const rec of allRecords(this.home)) {
      if (rec.handle.backend !== "sandbox") continue;
      const live = liveProcesses(rec);
      const state = stateOf(rec, live);
      if (state !== "stopped") out.push(toActive(rec, state, live[0]?.pid));
    }
    return out;
  }

  async stop(handle: BottleHandle): Promise<void> {
    const rec = readRecord(handle.runId, this.home);
    const roots = rec ? liveProcesses(rec).map((p) => p.pid) : [];
    // Every process of the bottle, not just bwrap: the kernel reaps a pid namespace asynchronously.
    const all = roots.flatMap((r) => processTree(r));
    const namespaces = namespaceTargets(roots);
    for (const r of roots) signalTree(r, "SIGTERM");
    const left = await waitGone(all, 3000);
    // Whatever ignored SIGTERM goes with its namespace, all at once (a fork chain cannot outrun it).
    if (left.length > 0) await killNamespaces(namespaces, 5000);
    for (const p of await waitGone(left, 5000)) signalTree(p, "SIGKILL");
    updateRecord(handle.runId, (r) => ({ ...r, processes: r.processes.filter((p) => isAlive(p.pid, p.startTime)) }), this.home);
  }

  async freeze(handle: BottleHandle): Promise<Snapshot> {
    const rec = readRecord(handle.runId, this.home);
    const roots = rec ? liveProcesses(rec).map((p) => p.pid) : [];
    const left = await killNamespaces(roots, 10_000);
    if (left.length > 0) {
      throw new BackendError(`freeze could not stop every process of run ${handle.runId} (still running: ${left.join(", ")}), so nothing was saved`, {
        fix: `stop the run with \`bottle stop ${handle.runId}\`; if those processes remain, kill them by pid`,
      });
    }
    await removeCgroup(handle.runId);
    const dir = join(runDir(handle.runId, this.home), "snapshot");
    rmSync(dir, { recursive: true, force: true });
    copySnapshotTree(handle.hostHome, join(dir, "home"));
    if (handle.plan.workspace === "copy") copySnapshotTree(handle.hostWorkspace, join(dir, "workspace"));
    takeBackRun(handle, this.home);
    guardAfter(handle, this.home);
    const snapshot: Snapshot = { runId: handle.runId, backend: "sandbox", takenAt: Date.now(), ref: dir, handle };
    updateRecord(handle.runId, (r) => ({ ...r, processes: [], snapshot }), this.home);
    return snapshot;
  }

  async resume(snapshot: Snapshot, plan: Partial<BottlePlan> = {}): Promise<BottleHandle> {
    const h: BottleHandle = { ...snapshot.handle, plan: { ...snapshot.handle.plan, ...plan } };
    rmSync(h.hostHome, { recursive: true, force: true });
    copyTree(join(snapshot.ref, "home"), h.hostHome);
    if (h.plan.workspace === "copy") {
      rmSync(h.hostWorkspace, { recursive: true, force: true });
      copyTree(join(snapshot.ref, "workspace"), h.hostWorkspace);
    }
    guardPolicyDir(h.hostWorkspace);
    // The git surface as it is now (restored when the bottle froze) is the new record, with its mounts.
    const guard = guardBefore(h.plan, this.home, h.hostWorkspace);
    const handle: BottleHandle = { ...h, ...(guard ? { guard } : {}), resumedFrom: snapshot.ref };
    lendRun(handle, this.home, agentIdentity());
    updateRecord(h.runId, (r) => ({ ...r, handle, snapshot: undefined, tornDown: false }), this.home);
    return handle;
  }

  async teardown(handle: BottleHandle): Promise<void> {
    await this.stop(handle);
    takeBackRun(handle, this.home);
    guardAfter(handle, this.home);
    await removeCgroup(handle.runId);
    // A snapshot nobody will resume (the run was resumed from it, or never frozen) is not kept.
    if (!readRecord(handle.runId, this.home)?.snapshot) rmSync(join(runDir(handle.runId, this.home), "snapshot"), { recursive: true, force: true });
    updateRecord(handle.runId, (r) => ({ ...r, processes: [], tornDown: true }), this.home);
  }
}

let argsFiles = 0;
