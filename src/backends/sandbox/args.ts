/**
 * The bubblewrap command line of a sandbox bottle, as a pure function so that every isolation decision is
 * visible in one place and testable without spawning anything. Mount order matters (later mounts cover
 * earlier ones):
 *   1. the host file system read-only, fresh /dev, /proc;
 *   2. empty tmpfs over places that hold other people's state or host sockets (/tmp, /run, /home, $HOME):
 *      a unix socket on the host is reachable through the file system even without a network, so the
 *      docker socket, the proxy's other runs and desktop sockets must not be visible;
 *   3. read-only re-exposure of what the bottle needs from those places (bottle itself, the agent install);
 *   4. the writable run home and workspace (git's surface and .bottle re-mounted read-only: git-guard);
 *   5. bottle's private dir: the proxy socket, the CA certificate, passwd/group;
 *   6. last, tmpfs over $BOTTLE_HOME and the CA directory, so the CA key is never visible, whatever the
 *      workspace is.
 * The agent runs as uid/gid 1000 in a user namespace (Claude Code refuses to bypass permissions as root).
 */
import { dirname } from "node:path";
import { POLICY_DIR } from "../policy-dir.ts";
import { DEFAULT_BRIDGE_PORT, INSIDE, type Attach, type BottleHandle } from "../types.ts";

export const SANDBOX_UID = 1000;
export const SANDBOX_GID = 1000;

/** Workspace paths that would let an agent run code on the host later (git hooks) or loosen bottle (`.bottle`,
 * which guardPolicyDir makes sure exists, so it is always covered). */
export const PROTECTED_WORKSPACE_PATHS = [".git/hooks", ".git/config", POLICY_DIR] as const;

export interface SandboxLayout {
  handle: BottleHandle;
  /** argv prefix that runs bottle (see self.ts) and the host files it needs. */
  self: { argv: string[]; files: string[] };
  bottleHome: string;
  /** Host home directories to hide (the invoking user's). */
  hostHomes: string[];
  /** Host files with the bottle's passwd and group. */
  passwdFile: string;
  groupFile: string;
  attach: Attach;
  /** Working directory inside. */
  cwd: string;
  argv: string[];
  /** File-system probe, injected so this stays pure. */
  exists: (path: string) => boolean;
  /** Whether /var/run is its own directory rather than a link to /run. */
  separateVarRun: boolean;
}

export function bwrapArgs(l: SandboxLayout): string[] {
  const { handle } = l;
  const plan = handle.plan;
  const a: string[] = ["bwrap"];
  a.push("--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net", "--unshare-cgroup-try");
  a.push("--uid", String(SANDBOX_UID), "--gid", String(SANDBOX_GID), "--hostname", "bottle");
  a.push("--die-with-parent");
  // Without a PTY of its own the agent would share our terminal: a new session stops TIOCSTI injection.
  if (l.attach !== "pty") a.push("--new-session");
  a.push("--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc");
  const hidden = ["/tmp", "/var/tmp", "/run", "/home", ...(l.separateVarRun ? ["/var/run"] : []), ...l.hostHomes];
  for (const h of unique(hidden)) if (h !== "/" && l.exists(h)) a.push("--tmpfs", h);
  for (const p of unique([...l.self.files, ...(plan.expose ?? [])])) if (l.exists(p)) a.push("--ro-bind", p, p);
  a.push("--bind", handle.hostHome, INSIDE.home);
  a.push("--bind", handle.hostWorkspace, handle.workspace);
  // git's surface: each git directory bound onto itself (cannot be renamed), its config and hooks read-only.
  for (const g of handle.guard ?? []) {
    const p = `${handle.hostWorkspace}/${g.rel}`;
    if (l.exists(p)) a.push(g.mode === "ro" ? "--ro-bind" : "--bind", p, `${handle.workspace}/${g.rel}`);
  }
  const guarded = new Set((handle.guard ?? []).map((g) => g.rel));
  for (const rel of PROTECTED_WORKSPACE_PATHS) {
    const p = `${handle.hostWorkspace}/${rel}`;
    if (guarded.has(rel)) continue;
    if (l.exists(p)) a.push("--ro-bind", p, `${handle.workspace}/${rel}`);
  }
  a.push("--ro-bind", plan.proxySocket, INSIDE.socket);
  if (plan.caCertPath) a.push("--ro-bind", plan.caCertPath, INSIDE.caCert);
  a.push("--ro-bind", l.passwdFile, "/etc/passwd", "--ro-bind", l.groupFile, "/etc/group");
  const lastHides = [l.bottleHome, ...(plan.caCertPath ? [dirname(plan.caCertPath)] : [])];
  for (const h of unique(lastHides)) a.push("--tmpfs", h);
  a.push("--chdir", l.cwd);
  const port = String(plan.bridgePort ?? DEFAULT_BRIDGE_PORT);
  a.push("--", ...l.self.argv, "__bridge", port, INSIDE.socket, "--", ...l.argv);
  return a;
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

export function passwdText(): string {
  return [
    "root:x:0:0:root:/root:/usr/sbin/nologin",
    `bottle:x:${SANDBOX_UID}:${SANDBOX_GID}:bottle:${INSIDE.home}:/bin/sh`,
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
    "",
  ].join("\n");
}

export function groupText(): string {
  return ["root:x:0:", `bottle:x:${SANDBOX_GID}:`, "nogroup:x:65534:", ""].join("\n");
}
