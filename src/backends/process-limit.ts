/**
 * How many processes (threads included) one bottle may have at once. Without a limit a fork bomb inside a
 * bottle exhausts the host's pids and the host can no longer start anything. Real agent runs stay far
 * below it: Claude Code, Codex and pi with their tool subprocesses use tens of tasks, not hundreds.
 * docker enforces it with --pids-limit (the container's pids cgroup); the sandbox with a pids cgroup of its
 * own when bottle is root, else with RLIMIT_NPROC inside the bottle's user namespace (sandbox/pids-limit.ts).
 */
export const DEFAULT_PIDS_LIMIT = 1024;
