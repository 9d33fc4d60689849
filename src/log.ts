/**
 * A tiny logging seam. Domain modules log through this interface and never import a CLI library; the CLI
 * installs consola as the sink at startup. Logs always go to stderr so stdout stays clean for data.
 */
export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

const stderrLogger: Logger = {
  debug: (m) => {
    if (process.env.BOTTLE_DEBUG) process.stderr.write(`debug: ${m}\n`);
  },
  info: (m) => process.stderr.write(`${m}\n`),
  warn: (m) => process.stderr.write(`warning: ${m}\n`),
  error: (m) => process.stderr.write(`error: ${m}\n`),
};

let current: Logger = stderrLogger;

export const log: Logger = {
  debug: (m) => current.debug(m),
  info: (m) => current.info(m),
  warn: (m) => current.warn(m),
  error: (m) => current.error(m),
};

export function setLogger(l: Logger): void {
  current = l;
}

/**
 * While an agent owns the terminal (an interactive PTY session), a log line would be drawn across its
 * full-screen display. `holdLogs()` keeps every line from then on; `release()` restores the previous sink
 * and prints what was held, in order, once the terminal is ours again.
 */
export function holdLogs(): { release(): void } {
  const previous = current;
  const held: Array<[keyof Logger, string]> = [];
  const holding: Logger = {
    debug: (m) => held.push(["debug", m]),
    info: (m) => held.push(["info", m]),
    warn: (m) => held.push(["warn", m]),
    error: (m) => held.push(["error", m]),
  };
  current = holding;
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      if (current === holding) current = previous;
      for (const [level, m] of held) previous[level](m);
    },
  };
}
