/**
 * The backend contract. A backend turns a plan (who runs, where the proxy socket is, which env) into an
 * isolated bottle whose only network exit is the proxy, and then runs processes in it. Launch code, budget
 * enforcement (freeze/kill) and `bottle ps` talk to this interface only, so sandbox and docker stay
 * interchangeable. Every process is described by an argv array; nothing here ever builds a shell string.
 */
import type { BackendName, ProviderName } from "../manifest/types.ts";
import type { GuardMount } from "./git-guard/mounts.ts";

/** Where bottle's own files are mounted inside every bottle (both backends use the same layout). */
export const INSIDE = {
  /** The run's writable home directory. */
  home: "/home/bottle",
  /** bottle's private dir: proxy socket, CA certificate, bottle's own binary for the bridge. */
  dir: "/run/bottle",
  socket: "/run/bottle/proxy.sock",
  caCert: "/run/bottle/ca.pem",
} as const;

/** The loopback port the in-bottle bridge listens on (each bottle has its own network namespace). */
export const DEFAULT_BRIDGE_PORT = 8877;

export type WorkspaceMode = "bind" | "copy";

/** Everything a backend needs to build a bottle. Produced by the launch code from manifests + settings. */
export interface BottlePlan {
  runId: string;
  label: string;
  agent: string;
  provider: ProviderName;
  /** The user's project directory on the host. */
  cwd: string;
  /** bind: the agent works on cwd itself (default); copy: on a copy kept under the run directory. */
  workspace: WorkspaceMode;
  /** Host path of the proxy's per-run unix socket. */
  proxySocket: string;
  /** Host path of the proxy CA certificate (never the key). */
  caCertPath?: string;
  /** Env for every process in the bottle (provider env + resolved bottle env); proxy env is added by the backend. */
  env: Record<string, string>;
  /** Inside loopback port of the bridge; default DEFAULT_BRIDGE_PORT. */
  bridgePort?: number;
  /** Docker only: the image to run (else the provider's embedded image is built). */
  image?: string;
  /**
   * Host paths to make visible read-only (agent installs): in the sandbox even under a hidden directory;
   * in docker, mounted at the same path.
   */
  expose?: string[];
  /** Most processes (threads included) the bottle may have at once; default DEFAULT_PIDS_LIMIT. */
  pidsLimit?: number;
}

/** A created bottle. Serializable: it is written to the run's state file so other processes can act on it. */
export interface BottleHandle {
  runId: string;
  backend: BackendName;
  plan: BottlePlan;
  /** Host directory holding the run's home (mounted at INSIDE.home). */
  hostHome: string;
  /** Host directory the workspace comes from (cwd in bind mode, a copy in copy mode). */
  hostWorkspace: string;
  /** Path of the workspace inside the bottle (the same as cwd, so paths in logs match the host). */
  workspace: string;
  /** Docker: the container id. */
  container?: string;
  /** Bind mode: mounts that keep the workspace's git surface as it was (backends/git-guard). */
  guard?: GuardMount[];
  /** Set when the bottle was resumed from a snapshot. */
  resumedFrom?: string;
}

/**
 * How a process is connected: `pty` gives it a fresh pseudo-terminal relayed to ours (interactive);
 * `output` hands it our stdout and stderr with /dev/null as stdin (headless: the prompt is in argv, and an
 * agent CLI that reads piped stdin would wait forever on a pipe nobody closes); `inherit` hands it all our
 * stdio (headless with `--stdin`); `capture` collects stdout/stderr (provisioning, tests).
 */
export type Attach = "pty" | "output" | "inherit" | "capture";

export interface ExecOptions {
  attach?: Attach;
  /** Extra env on top of the plan's. */
  env?: Record<string, string>;
  /** Working directory inside the bottle; default the workspace. */
  cwd?: string;
  /** Bytes written to stdin in capture mode. */
  stdin?: string;
}

export interface ExecResult {
  exitCode: number;
  /** Set when the process was killed by a signal. */
  signal?: string;
  stdout: string;
  stderr: string;
}

/** A process running in a bottle. */
export interface RunningProcess {
  /** Host pid of the process bottle spawned (bwrap or the docker client). */
  pid: number;
  exited: Promise<ExecResult>;
  kill(signal?: NodeJS.Signals): void;
}

export type BottleState = "running" | "frozen" | "stopped";

/** One line of `bottle ps`. */
export interface ActiveBottle {
  runId: string;
  label: string;
  agent: string;
  provider: ProviderName;
  backend: BackendName;
  state: BottleState;
  /** ms since epoch. */
  createdAt: number;
  /** Host pid of the agent's outermost process, when known. */
  pid?: number;
}

/** What freeze leaves behind and resume starts from. */
export interface Snapshot {
  runId: string;
  backend: BackendName;
  /** ms since epoch. */
  takenAt: number;
  /** Sandbox: host directory with the saved home (and workspace in copy mode). Docker: the committed image. */
  ref: string;
  handle: BottleHandle;
}

export type Availability = { ok: true } | { ok: false; reason: string; fix: string };

export interface Backend {
  readonly name: BackendName;
  /** Whether this backend can run here; never throws. */
  available(): Promise<Availability>;
  create(plan: BottlePlan): Promise<BottleHandle>;
  /** Copy a host file or directory into the bottle at an inside path (under home or workspace). */
  copyIn(handle: BottleHandle, hostPath: string, insidePath: string): Promise<void>;
  /** Run a provisioning step to completion, output captured. */
  provision(handle: BottleHandle, argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Bottles of this backend that are running or frozen (from the per-run state files). */
  list(): Promise<ActiveBottle[]>;
  /** Start the agent (or any process) inside the bottle. */
  exec(handle: BottleHandle, argv: string[], opts?: ExecOptions): RunningProcess;
  /** Stop every process of the bottle (SIGTERM, then SIGKILL); state stays on disk. */
  stop(handle: BottleHandle): Promise<void>;
  /** Pause every process, save home/workspace (docker: commit), then stop. */
  freeze(handle: BottleHandle): Promise<Snapshot>;
  /**
   * A fresh bottle whose home and workspace are the snapshot's. `plan` overrides what changes between
   * launches (the new proxy socket and CA path).
   */
  resume(snapshot: Snapshot, plan?: Partial<BottlePlan>): Promise<BottleHandle>;
  /** Stop and remove everything the bottle created outside the run directory (processes, containers). */
  teardown(handle: BottleHandle): Promise<void>;
}
