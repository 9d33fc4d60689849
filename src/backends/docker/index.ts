/**
 * The docker backend. One long-lived container per bottle whose main process is the bridge; the agent and
 * provisioning steps run in it with `docker exec`. Home and workspace are host directories bind-mounted in
 * (the same layout as the sandbox), so copyIn is a host copy and they survive the container.
 *
 * Freeze: pause the container (cgroup freezer), copy home (and a copied workspace) into the run's
 * snapshot directory without following symlinks (snapshot-copy.ts), `docker commit` the container's own file-system changes (installed packages, files
 * outside home and workspace) to a snapshot image, then remove the container. Resume starts a new
 * container from that image with the saved home and workspace; the agent continues from its on-disk
 * session (provider resume arguments), not from its memory.
 *
 * Launched by root, the agent is an unprivileged uid (args.ts agentUser), so its home and workspace are lent
 * to that uid while the container lives, its group may connect to the run's proxy socket, and freeze and
 * teardown give everything back to root once the container is gone (../ownership.ts).
 */
import { chmodSync, existsSync, lchownSync, mkdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { BackendError } from "../../errors.ts";
import { log } from "../../log.ts";
import type { ProviderName } from "../../manifest/types.ts";
import { bottleHome, runDir } from "../../paths.ts";
import { bottleEnv } from "../env.ts";
import { copyTree, insideToHost, validateRunId } from "../files.ts";
import { copySnapshotTree } from "../snapshot-copy.ts";
import { BRIDGE_READY } from "../bridge.ts";
import { guardAfter, guardBefore } from "../git-guard/index.ts";
import { selfCommand } from "../self.ts";
import { spawnBottleProcess } from "../spawn.ts";
import { allRecords, readRecord, stateOf, toActive, trackInRecord, updateRecord, writeRecord } from "../state.ts";
import type { ActiveBottle, Availability, Backend, BottleHandle, BottlePlan, ExecOptions, ExecResult, RunningProcess, Snapshot } from "../types.ts";
import { guardPolicyDir } from "../policy-dir.ts";
import { lendPath, lendRun, ROOT, takeBackRun } from "../ownership.ts";
import { clearNewSetIdBits } from "../setid-sweep.ts";
import { agentUser, containerName, execArgs, IMAGE_PATH, RUN_LABEL, runArgs, SNAPSHOT_LABEL } from "./args.ts";
import { docker, dockerClientEnv, dockerFailure, dockerOk, engineStatus, type DockerResult } from "./cli.ts";
import { missingBase } from "./build-failure.ts";
import { execStarted, freezerOf, procsIn, runcInits, settled, thaw, type FreezerCgroup } from "./freezer.ts";
import { DEFAULT_NODE_IMAGE, ensureImage, imageExists, imageTag, providerDockerfile } from "./images.ts";

export interface DockerOptions {
  home?: string;
  /** Image for every bottle (tests, or a site image); default: the provider's embedded image. */
  image?: string;
}

export class DockerBackend implements Backend {
  readonly name = "docker" as const;
  private readonly home: string;
  /** Containers a freeze is pausing: no exec starts in them (an exec being set up would hang the pause). */
  private readonly freezing = new Set<string>();
  /** Each running container's freezer cgroup, found when it starts (exec must not wait for docker). */
  private readonly cgroups = new Map<string, FreezerCgroup>();
  /** Execs not yet running inside their container: a freeze waits for them before it pauses. */
  private readonly starting = new Map<string, Set<Promise<void>>>();

  constructor(private readonly opts: DockerOptions = {}) {
    this.home = opts.home ?? bottleHome();
  }

  async available(): Promise<Availability> {
    const s = await engineStatus();
    if (s.ok) return { ok: true };
    return { ok: false, reason: `no docker engine answers (${s.reason})`, fix: "install docker (apt-get install docker.io) and start it (dockerd), or use --backend sandbox" };
  }

  private async image(plan: BottlePlan): Promise<string> {
    return this.prepareImage(plan.provider, { ...(plan.image ? { image: plan.image } : {}), build: true });
  }

  /**
   * The image a bottle of `provider` runs: a given one (a bottle's `backend.image`) must be on this host; the
   * provider's own is built on first use, with its steps logged as progress. Without `build` nothing is
   * built: the image, or at least its base image, must already be here. Throws a BackendError naming what
   * is missing and how to provide it.
   */
  async prepareImage(provider: ProviderName, o: { image?: string; build: boolean }): Promise<string> {
    const given = o.image ?? this.opts.image;
    if (given) {
      if (await imageExists(given)) return given;
      throw new BackendError(`the docker image ${given} (the bottle's backend.image) is not on this host`, {
        key: "backend.image",
        fix: `load it (\`docker load -i image.tar\`, or \`docker pull ${given}\` where a registry answers), change backend.image, or use --backend sandbox`,
      });
    }
    const dockerfile = providerDockerfile(provider);
    if (!o.build) {
      const tag = imageTag(`agent-${provider}`, dockerfile);
      if ((await imageExists(tag)) || (await imageExists(DEFAULT_NODE_IMAGE))) return tag;
      throw missingBase(`agent-${provider}`, DEFAULT_NODE_IMAGE);
    }
    return (await ensureImage(`agent-${provider}`, dockerfile, { onProgress: (l) => log.info(`docker build: ${l}`) })).tag;
  }

  /**
   * Starts the bottle's container. A container that cannot start (docker refuses it, or it dies before its
   * bridge listens) leaves nothing behind: no record exists yet that a later `bottle stop` could act on, so
   * the workspace and home go back to root and the git surface's placeholders are removed here.
   */
  private async start(handle: BottleHandle, image: string): Promise<BottleHandle> {
    guardPolicyDir(handle.hostWorkspace);
    const user = agentUser({ uid: process.getuid?.() ?? 1000, gid: process.getgid?.() ?? 1000 });
    await this.remove(containerName(handle.runId));
    try {
      if (user.uid !== process.getuid?.()) {
        lendRun(handle, this.home, user);
        // The agent's group may connect to its run's proxy socket (mounted read-only: no chmod through it).
        lchownSync(handle.plan.proxySocket, 0, user.gid);
        chmodSync(handle.plan.proxySocket, 0o660);
      }
      const args = runArgs({ handle, image, self: selfCommand(), user, exists: existsSync });
      const id = (await dockerOk(args, `start the bottle container for run ${handle.runId}`, { timeoutMs: 120_000 })).trim();
      await this.waitForBridge(id, handle.runId);
      const pid = Number((await docker(["inspect", "--format", "{{.State.Pid}}", id], { timeoutMs: 30_000 })).stdout.trim());
      const cg = pid > 0 ? freezerOf(pid) : undefined;
      if (cg) this.cgroups.set(containerName(handle.runId), cg);
      return { ...handle, container: id };
    } catch (e) {
      try {
        await this.remove(containerName(handle.runId));
      } finally {
        this.giveBack(handle);
      }
      throw e;
    }
  }

  /** The container is usable once its bridge listens; if it dies first, its log says why. */
  private async waitForBridge(id: string, runId: string): Promise<void> {
    for (let i = 0; i < 600; i++) {
      const logs = await docker(["logs", id], { timeoutMs: 30_000 });
      if (logs.stderr.includes(BRIDGE_READY) || logs.stdout.includes(BRIDGE_READY)) return;
      const state = await docker(["inspect", "--format", "{{.State.Running}}", id], { timeoutMs: 30_000 });
      if (state.stdout.trim() !== "true") {
        await docker(["rm", "--force", id], { timeoutMs: 60_000 });
        throw new BackendError(`the bottle container for run ${runId} stopped at start: ${(logs.stderr + logs.stdout).trim() || "no output"}`, {
          fix: "the image needs the C library that bottle's binary links against (a glibc-based image such as node:*-bookworm-slim)",
        });
      }
      await Bun.sleep(50);
    }
    throw new BackendError(`the bottle container for run ${runId} did not start its bridge within 30 s`, { fix: "check `docker logs` of the container" });
  }

  async create(plan: BottlePlan): Promise<BottleHandle> {
    validateRunId(plan.runId);
    if (!existsSync(plan.proxySocket)) throw new BackendError(`proxy socket ${plan.proxySocket} does not exist`, { key: "proxySocket", fix: "open the run on the proxy before creating its bottle" });
    const dir = runDir(plan.runId, this.home);
    const hostHome = join(dir, "home");
    mkdirSync(hostHome, { recursive: true, mode: 0o700 });
    let hostWorkspace = plan.cwd;
    if (plan.workspace === "copy") {
      hostWorkspace = join(dir, "workspace");
      if (!existsSync(hostWorkspace)) copyTree(plan.cwd, hostWorkspace);
    }
    const guard = guardBefore(plan, this.home, hostWorkspace);
    const base: BottleHandle = { runId: plan.runId, backend: "docker", plan, hostHome, hostWorkspace, workspace: plan.cwd, ...(guard ? { guard } : {}) };
    const handle = await this.start(base, await this.image(plan));
    writeRecord({ version: 1, handle, createdAt: Date.now(), processes: [] }, this.home);
    return handle;
  }

  exec(handle: BottleHandle, argv: string[], opts: ExecOptions = {}): RunningProcess {
    if (!handle.container) throw new BackendError(`run ${handle.runId} has no container`, { fix: "create or resume the bottle first" });
    if (this.freezing.has(containerName(handle.runId))) throw new BackendError(`run ${handle.runId} is being frozen`, { fix: `resume it first: bottle resume ${handle.runId}` });
    const env = bottleEnv({ plan: handle.plan, path: IMAGE_PATH, extra: opts.env });
    const attach = opts.attach ?? "inherit";
    const { args, clientEnv } = execArgs({ container: handle.container, env, attach, cwd: opts.cwd ?? handle.workspace, argv, withStdin: opts.stdin !== undefined });
    const bin = Bun.which("docker") ?? "docker";
    const name = containerName(handle.runId);
    const cg = this.cgroups.get(name);
    const before = new Set(cg ? procsIn(cg) : []);
    const proc = trackInRecord(handle.runId, spawnBottleProcess({ argv: [bin, ...args], env: dockerClientEnv(clientEnv), attach, stdin: opts.stdin }), this.home);
    if (cg) {
      const set = this.starting.get(name) ?? new Set<Promise<void>>();
      this.starting.set(name, set);
      const started: Promise<void> = execStarted(cg, before, proc.exited).finally(() => set.delete(started));
      set.add(started);
    }
    return proc;
  }

  provision(handle: BottleHandle, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.exec(handle, argv, { ...opts, attach: "capture" }).exited;
  }

  async copyIn(handle: BottleHandle, hostPath: string, insidePath: string): Promise<void> {
    const to = insideToHost(handle, insidePath);
    copyTree(hostPath, to);
    const user = agentUser({ uid: process.getuid?.() ?? 1000, gid: process.getgid?.() ?? 1000 });
    if (user.uid !== process.getuid?.()) lendPath(relative(handle.hostHome, to).startsWith("..") ? handle.hostWorkspace : handle.hostHome, to, ROOT, user);
  }

  /** Run ids of containers that are running now. */
  private async runningRuns(): Promise<Set<string>> {
    const r = await docker(["ps", "--filter", `label=${RUN_LABEL}`, "--format", `{{.Label "${RUN_LABEL}"}}`], { timeoutMs: 30_000 });
    return new Set(r.code === 0 ? r.stdout.split("\n").filter(Boolean) : []);
  }

  async list(): Promise<ActiveBottle[]> {
    const records = allRecords(this.home).filter((r) => r.handle.backend === "docker");
    if (records.length === 0) return [];
    const running = await this.runningRuns();
    const out: ActiveBottle[] = [];
    for (const rec of records) {
      const state = !rec.tornDown && running.has(rec.handle.runId) ? "running" : stateOf({ ...rec, processes: [] }, []);
      if (state !== "stopped") out.push(toActive(rec, state));
    }
    return out;
  }

  /**
   * Removes a container and makes sure it is gone: a paused container is unpaused first (so its
   * processes can be killed), and a removal already in progress elsewhere is waited for. Only docker's own
   * "no such container" means gone: an inspect or rm that fails otherwise, or times out (a hung engine),
   * is an error that says so, so a freeze never reports success over a container that is still there.
   */
  private async remove(name: string): Promise<void> {
    const gone = (r: DockerResult) => !r.timedOut && /no such (container|object)/i.test(r.stderr);
    for (let i = 0; i < 100; i++) {
      const st = await docker(["inspect", "--format", "{{.State.Paused}}", name], { timeoutMs: 30_000 });
      if (st.code !== 0) {
        if (gone(st)) return;
        throw new BackendError(`docker could not inspect container ${name}: ${dockerFailure(st, 30_000)}`, { fix: `check the engine (\`docker info\`), then remove the container by hand: docker rm --force ${name}` });
      }
      if (st.stdout.trim() === "true") {
        // An exec frozen half set up would make the unpause (and every later call) hang: thaw it first.
        const pid = Number((await docker(["inspect", "--format", "{{.State.Pid}}", name], { timeoutMs: 30_000 })).stdout.trim());
        const cg = pid > 0 ? freezerOf(pid) : undefined;
        if (cg && runcInits(cg).length > 0) thaw(cg);
        await docker(["unpause", name], { timeoutMs: 30_000 });
      }
      const r = await docker(["rm", "--force", name], { timeoutMs: 60_000 });
      if (r.code === 0 || gone(r)) return;
      if (r.timedOut) throw new BackendError(`docker could not remove container ${name}: ${dockerFailure(r, 60_000)}`, { fix: `check the engine (\`docker info\`), then: docker rm --force ${name}` });
      await Bun.sleep(100);
    }
    throw new BackendError(`docker could not remove container ${name}`, { fix: `remove it by hand: docker rm --force ${name}` });
  }

  async stop(handle: BottleHandle): Promise<void> {
    await this.remove(containerName(handle.runId));
    this.cgroups.delete(containerName(handle.runId));
    this.starting.delete(containerName(handle.runId));
    updateRecord(handle.runId, (r) => ({ ...r, processes: [] }), this.home);
  }

  /**
   * Pauses the container with no exec half set up inside (see freezer.ts): bottle starts no exec on a
   * container it is freezing, waits for one being set up, and thaws and retries if one slipped in anyway.
   */
  private async pauseSettled(name: string, runId: string): Promise<void> {
    const pid = Number((await dockerOk(["inspect", "--format", "{{.State.Pid}}", name], `inspect run ${runId}`, { timeoutMs: 30_000 })).trim());
    const cg = pid > 0 ? freezerOf(pid) : undefined;
    if (cg) await settled(cg);
    await dockerOk(["pause", name], `pause run ${runId}`, { timeoutMs: 60_000 });
    if (!cg) return;
    for (let attempt = 0; attempt < 5; attempt++) {
      const stuck = runcInits(cg);
      if (stuck.length === 0) return;
      // An exec slipped in as the freezer struck. Thaw it, let the exec finish, freeze again (docker still
      // records the container as paused, which it is again afterwards).
      if (!thaw(cg)) {
        throw new BackendError(`run ${runId} was paused while a docker exec was being set up (runc init, pid ${stuck.join(", ")}); docker hangs on such a container until it is thawed`, {
          fix: `as root: echo ${cg.thawed} > ${cg.control}; then docker rm --force ${name}`,
        });
      }
      log.debug(`docker: run ${runId} was paused with an exec half set up (runc init ${stuck.join(", ")}); thawed, freezing again`);
      await settled(cg);
      thaw(cg, "frozen");
    }
    throw new BackendError(`run ${runId} could not be paused without catching a docker exec half set up (5 attempts)`, { fix: `as root: echo ${cg.thawed} > ${cg.control}; then docker rm --force ${name}` });
  }

  async freeze(handle: BottleHandle): Promise<Snapshot> {
    const name = containerName(handle.runId);
    this.freezing.add(name);
    try {
      // Every exec bottle started in it is running inside (or over) before the freezer strikes.
      await Promise.all(this.starting.get(name) ?? []);
      await this.pauseSettled(name, handle.runId);
      return await this.saveAndRemove(handle, name);
    } finally {
      this.freezing.delete(name);
    }
  }

  private async saveAndRemove(handle: BottleHandle, name: string): Promise<Snapshot> {
    const dir = join(runDir(handle.runId, this.home), "snapshot");
    const tag = `bottle-snapshot-${handle.runId.toLowerCase()}:${Date.now()}`;
    try {
      rmSync(dir, { recursive: true, force: true });
      copySnapshotTree(handle.hostHome, join(dir, "home"));
      if (handle.plan.workspace === "copy") copySnapshotTree(handle.hostWorkspace, join(dir, "workspace"));
      await dockerOk(["commit", "--pause=false", "--change", `LABEL ${SNAPSHOT_LABEL}=${handle.runId}`, name, tag], `commit run ${handle.runId}`, { timeoutMs: 10 * 60_000 });
    } finally {
      // Removing a paused container hangs some engines (a frozen process never takes its SIGKILL), and a
      // failed freeze must not leave the bottle paused either way: remove() unpauses first.
      try {
        await this.stop(handle);
      } finally {
        // Even when docker fails to remove the container, the workspace's git surface is restored.
        this.giveBack(handle);
      }
    }
    const snapshot: Snapshot = { runId: handle.runId, backend: "docker", takenAt: Date.now(), ref: tag, handle };
    updateRecord(handle.runId, (r) => ({ ...r, processes: [], snapshot }), this.home);
    return snapshot;
  }

  async resume(snapshot: Snapshot, plan: Partial<BottlePlan> = {}): Promise<BottleHandle> {
    const h: BottleHandle = { ...snapshot.handle, plan: { ...snapshot.handle.plan, ...plan } };
    const saved = join(runDir(h.runId, this.home), "snapshot");
    rmSync(h.hostHome, { recursive: true, force: true });
    copyTree(join(saved, "home"), h.hostHome);
    if (h.plan.workspace === "copy") {
      rmSync(h.hostWorkspace, { recursive: true, force: true });
      copyTree(join(saved, "workspace"), h.hostWorkspace);
    }
    // The git surface as it is now (restored when the bottle froze) is the new record, with its mounts.
    const guard = guardBefore(h.plan, this.home, h.hostWorkspace);
    const handle = { ...(await this.start({ ...h, ...(guard ? { guard } : {}) }, snapshot.ref)), resumedFrom: snapshot.ref };
    updateRecord(h.runId, (r) => ({ ...r, handle, snapshot: undefined, tornDown: false }), this.home);
    return handle;
  }

  /**
   * Once the container is gone (torn down, frozen, or failed to start): set-id bits the agent made are
   * cleared, what was lent to the agent's uid is given back, and the workspace's git surface is restored.
   */
  private giveBack(handle: BottleHandle): void {
    this.clearSetId(handle);
    takeBackRun(handle, this.home);
    guardAfter(handle, this.home);
  }

  /** Set-id bits the agent gave files during the run are cleared (setid-sweep.ts), each with a warning. */
  private clearSetId(handle: BottleHandle): void {
    // File times come from a coarse clock that can lag Date.now() by a tick: a second's margin.
    const since = (readRecord(handle.runId, this.home)?.createdAt ?? 0) - 1000;
    try {
      for (const c of clearNewSetIdBits([handle.hostWorkspace, handle.hostHome], since)) {
        log.warn(`run ${handle.runId}: ${c.path} was made set-user-ID or set-group-ID in the bottle (mode ${c.was}); those bits were cleared`);
      }
    } catch (e) {
      log.error(`run ${handle.runId}: could not check ${handle.hostWorkspace} for set-id files the agent made (${(e as Error).message}); look for files with mode 4000 or 2000 before other users can reach it`);
    }
  }

  async teardown(handle: BottleHandle): Promise<void> {
    try {
      await this.stop(handle);
    } finally {
      // A docker failure is reported (it propagates), but never skips restoring the workspace's git surface.
      this.giveBack(handle);
    }
    const rec = readRecord(handle.runId, this.home);
    if (!rec?.snapshot) {
      // A failed listing or removal is reported, never read as "no snapshot images".
      const images = await dockerOk(["images", "--quiet", "--filter", `label=${SNAPSHOT_LABEL}=${handle.runId}`], `list the snapshot images of run ${handle.runId}`, { timeoutMs: 30_000 });
      const ids = [...new Set(images.split("\n").filter(Boolean))];
      if (ids.length > 0) await removeImageChain(ids, `remove the snapshot images of run ${handle.runId}`);
    }
    updateRecord(handle.runId, (r) => ({ ...r, processes: [], tornDown: true }), this.home);
  }
}

/**
 * Removes images that may be a chain: a run frozen, resumed and frozen again commits each snapshot on top of
 * the last, and docker refuses to delete a parent before its children ("image has dependent child images",
 * even with --force) in whatever order it is handed them. So removal goes in passes, each retrying only the
 * images held by a child, until none is left; any other failure, or a pass that frees nothing, is an error.
 */
async function removeImageChain(ids: readonly string[], what: string): Promise<void> {
  let left = [...ids];
  for (;;) {
    const r = await docker(["rmi", "--force", ...left], { timeoutMs: 120_000 });
    if (r.code === 0) return;
    const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
    const held = left.filter((id) => lines.some((l) => l.includes(`unable to delete ${id.slice(0, 12)}`) && l.includes("dependent child images")));
    const other = lines.filter((l) => !l.includes("dependent child images"));
    if (r.timedOut || other.length > 0 || held.length === 0 || held.length === left.length) {
      throw new BackendError(`docker could not ${what}: ${dockerFailure(r, 120_000)}`, { fix: "see docker's message above; `docker info` shows the engine's state" });
    }
    left = held;
  }
}
