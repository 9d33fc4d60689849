/**
 * The docker command lines of a bottle, as pure functions. The container has no network at all
 * (`--network none`: only its own loopback); the proxy's unix socket is bind-mounted in and bottle's own
 * `__bridge` (its binary mounted read-only) is the container's main process, listening on the container's
 * 127.0.0.1 and forwarding to the socket, exactly like the sandbox. No capabilities, no privilege
 * escalation, an init to reap zombies, a process limit (../process-limit.ts). The agent is never root inside (agentUser): launched by an ordinary
 * user it runs as that user's uid/gid, so the files it writes in the workspace stay the user's; launched by
 * root it runs as AGENT_HOST_ID (the sandbox's unprivileged uid), which owns nothing in the image, and the
 * run's home and workspace are lent to it for the run (../ownership.ts). uid 0 would own every root-owned
 * file of the image (its /etc, the agent CLI's install) and the root-owned mounts, capabilities or not.
 * The proxy socket is mounted read-only: connecting needs no write access to the mount, and the agent cannot
 * chmod the host's socket through it.
 */
import { AGENT_HOST_ID, PROTECTED_WORKSPACE_PATHS } from "../sandbox/args.ts";
import { DEFAULT_PIDS_LIMIT } from "../process-limit.ts";
import { DEFAULT_BRIDGE_PORT, INSIDE, type Attach, type BottleHandle } from "../types.ts";

export const RUN_LABEL = "bottle.run";
export const SNAPSHOT_LABEL = "bottle.snapshot-of";
/** Where a compiled bottle binary is mounted for the bridge. */
export const INSIDE_SELF = `${INSIDE.dir}/bottle`;
/** PATH inside agent images (the node images' default). */
export const IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function containerName(runId: string): string {
  return `bottle-${runId}`;
}

/** One --mount value, CSV-quoted so that commas or quotes in a path cannot add mount options. */
export function mountSpec(src: string, dst: string, readonly = false): string {
  const q = (f: string) => (/[",\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f);
  return ["type=bind", q(`source=${src}`), q(`target=${dst}`), ...(readonly ? ["readonly"] : [])].join(",");
}

/** The agent's uid/gid inside for a launcher: the launcher's own, or AGENT_HOST_ID when that is root. */
export function agentUser(launcher: { uid: number; gid: number }): { uid: number; gid: number } {
  return launcher.uid === 0 ? { uid: AGENT_HOST_ID, gid: AGENT_HOST_ID } : launcher;
}

export interface RunLayout {
  handle: BottleHandle;
  image: string;
  self: { argv: string[]; files: string[]; compiled: boolean };
  /** The agent's uid/gid (agentUser): every process of the container runs as it. */
  user: { uid: number; gid: number };
  exists: (path: string) => boolean;
}

export function runArgs(l: RunLayout): string[] {
  const { handle } = l;
  const plan = handle.plan;
  const a = ["run", "--detach", "--name", containerName(handle.runId)];
  a.push("--label", `${RUN_LABEL}=${handle.runId}`);
  a.push("--network", "none", "--init", "--hostname", "bottle");
  a.push("--cap-drop", "ALL", "--security-opt", "no-new-privileges");
  // A fork bomb stops at the container's pids cgroup instead of exhausting the host's pids.
  a.push("--pids-limit", String(plan.pidsLimit ?? DEFAULT_PIDS_LIMIT));
  a.push("--user", `${l.user.uid}:${l.user.gid}`);
  const m = (src: string, dst: string, ro = false) => a.push("--mount", mountSpec(src, dst, ro));
  m(handle.hostHome, INSIDE.home);
  m(handle.hostWorkspace, handle.workspace);
  // git's surface (git-guard): each git directory bound onto itself, its config and hooks read-only.
  for (const g of handle.guard ?? []) {
    const p = `${handle.hostWorkspace}/${g.rel}`;
    if (l.exists(p)) m(p, `${handle.workspace}/${g.rel}`, g.mode === "ro");
  }
  const guarded = new Set((handle.guard ?? []).map((g) => g.rel));
  for (const rel of PROTECTED_WORKSPACE_PATHS) {
    const p = `${handle.hostWorkspace}/${rel}`;
    if (guarded.has(rel)) continue;
    if (l.exists(p)) m(p, `${handle.workspace}/${rel}`, true);
  }
  m(plan.proxySocket, INSIDE.socket, true);
  if (plan.caCertPath) m(plan.caCertPath, INSIDE.caCert, true);
  // Host paths the plan asks to see (a host-installed CLI): read-only, at the same path.
  for (const p of plan.expose ?? []) if (l.exists(p)) m(p, p, true);
  let selfArgv = l.self.argv;
  if (l.self.compiled) {
    m(l.self.files[0]!, INSIDE_SELF, true);
    selfArgv = [INSIDE_SELF];
  } else {
    for (const f of l.self.files) m(f, f, true);
  }
  a.push("--workdir", handle.workspace, "--env", `HOME=${INSIDE.home}`);
  a.push(l.image, ...selfArgv, "__bridge", String(plan.bridgePort ?? DEFAULT_BRIDGE_PORT), INSIDE.socket);
  return a;
}

/** Variables passed by value on the command line: not secret, and the docker client needs its own. */
const BY_VALUE = new Set(["HOME", "PATH", "USER", "LOGNAME", "SHELL", "TMPDIR", "TERM"]);

export interface ExecLayout {
  container: string;
  env: Record<string, string>;
  attach: Attach;
  cwd: string;
  argv: string[];
  withStdin: boolean;
}

/**
 * `docker exec` argv. Values of most variables are not on the command line (where `ps` would show them):
 * `--env NAME` makes the client copy them from its own environment, which the caller sets.
 */
export function execArgs(l: ExecLayout): { args: string[]; clientEnv: Record<string, string> } {
  const a = ["exec"];
  if (l.attach === "pty") a.push("--interactive", "--tty");
  else if (l.attach === "inherit" || l.withStdin) a.push("--interactive");
  a.push("--workdir", l.cwd);
  const clientEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(l.env)) {
    if (BY_VALUE.has(k)) a.push("--env", `${k}=${v}`);
    else {
      a.push("--env", k);
      clientEnv[k] = v;
    }
  }
  a.push(l.container, ...l.argv);
  return { args: a, clientEnv };
}
