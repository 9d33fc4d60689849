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
