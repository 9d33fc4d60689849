/**
 * The in-bottle bridge. A bottle has its own network namespace with nothing but loopback, so agents cannot
 * reach the host's proxy port. The proxy's per-run unix socket is mounted in instead, and this bridge
 * listens on 127.0.0.1:<port> inside the bottle and pipes every connection to that socket byte for byte,
 * so the ordinary `HTTPS_PROXY=http://127.0.0.1:<port>` works for every client. It runs as bottle's hidden
 * `__bridge` command: `bottle __bridge <port> <socket> [-- argv…]`. With an argv it starts the program
 * once it is listening, forwards signals to it, and exits with its status (the sandbox's supervisor);
 * without one it serves until killed (the docker container's main process).
 */
import { constants } from "node:os";
import { createConnection, createServer, type Server, type Socket } from "node:net";

/** Printed to stderr by a serving bridge once it listens (the docker backend waits for it). */
export const BRIDGE_READY = "bottle bridge: listening on";

export function startBridge(port: number, socketPath: string, host = "127.0.0.1"): Promise<Server> {
  const server = createServer({ pauseOnConnect: false }, (client: Socket) => {
    const upstream = createConnection({ path: socketPath });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close);
    upstream.on("error", close);
    client.on("close", () => upstream.end());
    upstream.on("close", () => client.end());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host }, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

export interface BridgeArgs {
  port: number;
  socket: string;
  command: string[];
}

export function parseBridgeArgs(args: string[]): BridgeArgs | string {
  const [portText, socket, sep, ...command] = args;
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `bad port ${JSON.stringify(portText)}`;
  if (!socket) return "missing socket path";
  if (sep !== undefined && sep !== "--") return `expected -- before the command, got ${JSON.stringify(sep)}`;
  return { port, socket, command };
}

const FORWARDED: NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"];

/** Entry of `bottle __bridge`. Returns the exit status. */
export async function bridgeMain(args: string[]): Promise<number> {
  const parsed = parseBridgeArgs(args);
  if (typeof parsed === "string") {
    process.stderr.write(`bottle __bridge: ${parsed} (usage: __bridge <port> <socket> [-- argv…])\n`);
    return 2;
  }
  let server: Server;
  try {
    server = await startBridge(parsed.port, parsed.socket);
  } catch (e) {
    process.stderr.write(`bottle __bridge: cannot listen on 127.0.0.1:${parsed.port}: ${(e as Error).message}\n`);
    return 1;
  }
  if (parsed.command.length === 0) {
    process.stderr.write(`${BRIDGE_READY} 127.0.0.1:${parsed.port}\n`);
    await new Promise<void>((resolve) => {
      for (const s of ["SIGTERM", "SIGINT"] as const) process.on(s, () => server.close(() => resolve()));
    });
    return 0;
  }
  let child: ReturnType<typeof Bun.spawn>;
  try {
    child = Bun.spawn(parsed.command, { stdio: ["inherit", "inherit", "inherit"], env: process.env });
  } catch (e) {
    process.stderr.write(`bottle: cannot start ${parsed.command[0]}: ${(e as Error).message}\n`);
    server.close();
    return 127;
  }
  for (const s of FORWARDED) process.on(s, () => child.kill(s));
  const code = await child.exited;
  server.close();
  const sig = child.signalCode;
  if (sig === null) return code;
  return 128 + (typeof sig === "number" ? sig : (constants.signals[sig] ?? 0));
}
