/**
 * The bubblewrap command line of a sandbox bottle, as a pure function so that every isolation decision is
 * visible in one place and testable without spawning anything. The root is an empty tmpfs and only an
 * ALLOWLIST is mounted into it; everything else on the host (other users' homes, /var/lib, /root, /srv,
 * /mnt, any BOTTLE_HOME, host sockets wherever they live) simply does not exist inside. Mount order
 * matters (later mounts cover earlier ones):
 *   1. the system directories programs need, read-only (/usr, /bin, /lib*, /sbin, /etc), with /etc's
 *      secrets covered (see host-view.ts), a fresh /dev, /proc, and empty writable /tmp and /var/tmp;
 *   2. read-only what the bottle runs: bottle itself and the agent CLI's install;
 *   3. the writable workspace (git's surface and .bottle re-mounted read-only: git-guard) and run home;
 *   4. the login homes (from the user database and $HOME) covered again if an exposed tree contains them,
 *      with any exposed tree inside them re-mounted;
 *   5. bottle's private dir: the proxy socket; the CA certificate, passwd and group made from data;
 *   6. last, tmpfs over $BOTTLE_HOME and the CA directory, so the CA key is never visible, whatever the
 *      workspace is.
 * A seccomp filter (seccomp.ts) refuses the key syscalls and terminal input injection.
 * Who the agent is: launched by an ordinary user, uid 1000 in a user namespace mapped to that user. Launched
 * by root, a user namespace would map root's files onto the agent, so there is none: bwrap keeps only the
 * capabilities to switch user and setpriv drops to AGENT_HOST_ID, a uid/gid that owns nothing on the host,
 * with no capabilities and no_new_privs (Claude Code then needs no IS_SANDBOX either).
 */
import { dirname } from "node:path";
import { BackendError } from "../../errors.ts";
import { GC_TIMER_VAR } from "../../cli/gc-timer-reexec.ts";
import { POLICY_DIR } from "../policy-dir.ts";
import { seccompFilter } from "./seccomp.ts";
import { DEFAULT_BRIDGE_PORT, INSIDE, type Attach, type BottleHandle } from "../types.ts";

export const SANDBOX_UID = 1000;
export const SANDBOX_GID = 1000;
/** The host uid and gid of the agent when bottle runs as root: unassigned, so it owns no host file. */
export const AGENT_HOST_ID = 65_533;

/** Workspace paths that would let an agent run code on the host later (git hooks) or loosen bottle (`.bottle`,
 * which guardPolicyDir makes sure exists, so it is always covered). */
export const PROTECTED_WORKSPACE_PATHS = [".git/hooks", ".git/config", POLICY_DIR] as const;

/** Top-level system directories exposed read-only (a symlink, as in merged /usr, is recreated as one). */
export const SYSTEM_PATHS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"] as const;

/** Who the agent is inside. `userns`: a mapped uid (ordinary launcher). `drop`: root launcher, no userns. */
export type AgentIdentity = { kind: "userns"; uid: number; gid: number } | { kind: "drop"; uid: number; gid: number; setpriv: string };

export interface SandboxLayout {
  handle: BottleHandle;
  /** argv prefix that runs bottle (see self.ts) and the host files it needs. */
  self: { argv: string[]; files: string[] };
  bottleHome: string;
  /** Login home directories to keep hidden (from the user database and $HOME). */
  hostHomes: string[];
  /** Entries under /etc to cover: secrets and anything the agent's user could not read anyway. */
  etcMasks: { path: string; dir: boolean }[];
  attach: Attach;
  /** Working directory inside. */
  cwd: string;
  argv: string[];
  identity: AgentIdentity;
  /** The CA certificate's text (made from data inside, so its host path is not in the mount table). */
  caCert?: string;
  /** argv prefix inside the bottle that limits its processes (pids-limit.ts rlimitPrefix), if any. */
  limitPrefix?: string[];
  /** File-system probes, injected so this stays pure. */
  exists: (path: string) => boolean;
  /** The target of a symlink, or undefined when `path` is not one. */
  linkTarget: (path: string) => string | undefined;
}

/**
 * bwrap's options (what /proc/1/cmdline would show, so they are passed through descriptor 3), the command,
 * and the contents of files made from data: `data[i]` is read from descriptor 4 + i. passwd, group and the CA
 * certificate come from data rather than from host files, whose paths the bottle's mount table would show.
 */
export interface BwrapInvocation {
  options: string[];
  command: string[];
  data: (string | Uint8Array)[];
}

/** The descriptor bwrap reads its options from; data files follow it. */
export const ARGS_FD = 3;

export function bwrapInvocation(l: SandboxLayout): BwrapInvocation {
  const { handle } = l;
  const plan = handle.plan;
  const a: string[] = [];
  // Every directory bwrap makes on the way to a mount point is 0755: it would make them 0700 and root's,
  // and the agent could not reach its own workspace through them.
  const mounted: string[] = [];
  const made = new Set<string>(["/tmp", "/var/tmp", "/dev", "/proc"]);
  const mount = (...op: [string, string, string] | [string, string]): void => {
    const dest = op[op.length - 1]!;
    const parts = dest.split("/").filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const dir = `/${parts.slice(0, i).join("/")}`;
      if (made.has(dir) || mounted.some((m) => dir === m || strictlyInside(dir, m))) continue;
      made.add(dir);
      a.push("--perms", "0755", "--dir", dir);
    }
    a.push(...op);
    mounted.push(dest);
  };
  if (l.identity.kind === "userns") {
    a.push("--unshare-user", "--uid", String(l.identity.uid), "--gid", String(l.identity.gid));
  } else {
    // setpriv needs these to switch user; DAC_READ_SEARCH lets bwrap chdir into the lent workspace first.
    a.push("--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP", "--cap-add", "CAP_DAC_READ_SEARCH");
  }
  a.push("--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net", "--unshare-cgroup-try");
  a.push("--hostname", "bottle", "--die-with-parent");
  // Without a PTY of its own the agent would share our terminal: a new session stops TIOCSTI injection.
  if (l.attach !== "pty") a.push("--new-session");
  for (const p of SYSTEM_PATHS) {
    const link = l.linkTarget(p);
    if (link !== undefined) a.push("--symlink", link, p);
    else if (l.exists(p)) mount("--ro-bind", p, p);
  }
  for (const m of l.etcMasks) a.push(...(m.dir ? ["--tmpfs", m.path] : ["--ro-bind", "/dev/null", m.path]));
  a.push("--dev", "/dev", "--proc", "/proc", "--perms", "1777", "--tmpfs", "/tmp", "--perms", "1777", "--tmpfs", "/var/tmp");
  const exposed = unique([...l.self.files, ...(plan.expose ?? [])]).filter((p) => l.exists(p));
  // An exposed tree that IS a login home would show the whole home (homes strictly inside a mounted tree
  // are covered below, but covering this one would hide what is exposed): an agent CLI found directly in
  // the home, with the home on PATH, say. Refused, with the way out.
  for (const p of exposed) {
    const home = l.hostHomes.find((h) => h !== "/" && p === h);
    if (home !== undefined) {
      throw new BackendError(`the sandbox would expose ${p} to the agent, and that would show your home directory ${home}`, {
        fix: "install the agent CLI (and bottle) in a directory of their own, such as ~/.local/bin or a global npm prefix, not in the home directory itself",
      });
    }
  }
  for (const p of exposed) mount("--ro-bind", p, p);
  mount("--bind", handle.hostWorkspace, handle.workspace);
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
  // A login home is hidden even when an exposed tree (say, a workspace at /) contains it.
  const trees = [...SYSTEM_PATHS, ...exposed, handle.workspace];
  for (const h of unique(l.hostHomes)) {
    if (h === "/" || !trees.some((t) => strictlyInside(h, t))) continue;
    a.push("--tmpfs", h);
    for (const p of exposed) if (strictlyInside(p, h)) a.push("--ro-bind", p, p);
    if (strictlyInside(handle.workspace, h)) a.push("--bind", handle.hostWorkspace, handle.workspace);
  }
  mount("--bind", handle.hostHome, INSIDE.home);
  mount("--ro-bind", plan.proxySocket, INSIDE.socket);
  const files: [string, string][] = [["/etc/passwd", passwdText(l.identity.uid, l.identity.gid)], ["/etc/group", groupText(l.identity.gid)]];
  if (l.caCert !== undefined) files.push([INSIDE.caCert, l.caCert]);
  files.forEach(([dest], i) => a.push("--perms", "0644", "--ro-bind-data", String(ARGS_FD + 1 + i), dest));
  const data: (string | Uint8Array)[] = files.map(([, text]) => text);
  // No key syscalls (the launcher's session keyring would be readable) and no terminal input injection.
  a.push("--seccomp", String(ARGS_FD + 1 + data.length));
  data.push(seccompFilter());
  // Covered only where a mounted tree contains them: anywhere else they do not exist inside at all.
  const lastHides = [l.bottleHome, ...(plan.caCertPath ? [dirname(plan.caCertPath)] : [])];
  for (const h of unique(lastHides)) if (mounted.some((m) => h === m || strictlyInside(h, m))) a.push("--tmpfs", h);
  a.push("--chdir", l.cwd);
  // The bridge, a long-lived Bun process, starts with Bun's GC timer off (src/cli/gc-timer-reexec.ts). Only
  // its own runtime reads the variable: it deletes it before it starts the agent with its environment.
  a.push("--setenv", GC_TIMER_VAR, "1");
  const port = String(plan.bridgePort ?? DEFAULT_BRIDGE_PORT);
  const drop = l.identity.kind === "drop"
    ? [l.identity.setpriv, `--reuid=${l.identity.uid}`, `--regid=${l.identity.gid}`, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    : [];
  return { options: a, command: [...drop, ...(l.limitPrefix ?? []), ...l.self.argv, "__bridge", port, INSIDE.socket, "--", ...l.argv], data };
}

/** The whole command line in one array (for tests and diagnostics); exec passes `options` through a fd. */
export function bwrapArgs(l: SandboxLayout): string[] {
  const inv = bwrapInvocation(l);
  return ["bwrap", ...inv.options, "--", ...inv.command];
}

function strictlyInside(p: string, dir: string): boolean {
  const d = dir.endsWith("/") ? dir : `${dir}/`;
  return p !== dir && p.startsWith(d);
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

export function passwdText(uid = SANDBOX_UID, gid = SANDBOX_GID): string {
  return [
    "root:x:0:0:root:/root:/usr/sbin/nologin",
    `bottle:x:${uid}:${gid}:bottle:${INSIDE.home}:/bin/sh`,
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
    "",
  ].join("\n");
}

export function groupText(gid = SANDBOX_GID): string {
  return ["root:x:0:", `bottle:x:${gid}:`, "nogroup:x:65534:", ""].join("\n");
}
