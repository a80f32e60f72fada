// The library's leveled logger. Quiet by default (warnings and errors only); the level comes
// from setLogLevel() or the CLINICADL_LOG environment variable: error, warn, info, debug,
// or wgsl (debug plus every generated WGSL kernel). Library code logs only through here.

export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug' | 'wgsl';

const RANK: Record<LogLevel, number> = { silent: 0, error: 1, warn: 2, info: 3, debug: 4, wgsl: 5 };

/** Receives every emitted record; the default sink writes to stderr (console.error). */
export type LogSink = (level: Exclude<LogLevel, 'silent'>, scope: string, message: string) => void;

function levelFromEnvironment(): LogLevel {
  const value = typeof process !== 'undefined' ? process.env?.CLINICADL_LOG : undefined;
  if (value === undefined || value === '') return 'warn';
  const lower = value.toLowerCase();
  if (lower in RANK) return lower as LogLevel;
  console.error(
    `CLINICADL_LOG='${value}' is not a log level; expected one of ${Object.keys(RANK).join(', ')}. Using 'warn'.`,
  );
  return 'warn';
}

let currentLevel: LogLevel = levelFromEnvironment();
let sink: LogSink = (level, scope, message) => console.error(`[${level}] ${scope}: ${message}`);

export function setLogLevel(level: LogLevel): void {
  currentLevel = level;
}

export function getLogLevel(): LogLevel {
  return currentLevel;
}

/** Replaces the output of all loggers; returns the previous sink so tests can restore it. */
export function setLogSink(next: LogSink): LogSink {
  const previous = sink;
  sink = next;
  return previous;
}

export function isLogEnabled(level: Exclude<LogLevel, 'silent'>): boolean {
  return RANK[currentLevel] >= RANK[level];
}

export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  /** Prints a generated kernel's source, at level 'wgsl' only. */
  wgsl(kernelName: string, source: string): void;
}

/** Creates the logger of one module; `scope` names it in every line (for example 'runtime'). */
export function createLogger(scope: string): Logger {
  const emit = (level: Exclude<LogLevel, 'silent'>, message: string) => {
    if (isLogEnabled(level)) sink(level, scope, message);
  };
  return {
    error: (message) => emit('error', message),
    warn: (message) => emit('warn', message),
    info: (message) => emit('info', message),
    debug: (message) => emit('debug', message),
    wgsl: (kernelName, source) => emit('wgsl', `${kernelName}\n${source}`),
  };
}
