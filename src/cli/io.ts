// Helpers shared by the CLI commands: the output streams a command writes to, and the parsers
// of option values. A parser throws commander's InvalidArgumentError, which the program reports
// as a user's mistake (exit status 1) naming the option and the value.

import { InvalidArgumentError } from 'commander';

/** Anything with a `write` method, such as process.stdout. */
export interface Writer {
  write(text: string): unknown;
}

/** The streams of one CLI run: process.stdout and process.stderr, or buffers in tests. */
export interface CliIO {
  stdout: Writer;
  stderr: Writer;
}

/** Returns a parser of integers in [min, max]. */
export function integerIn(min: number, max = Number.MAX_SAFE_INTEGER): (text: string) => number {
  return (text) => {
    const value = Number(text.trim());
    if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
      throw new InvalidArgumentError(`Expected an integer ${range}.`);
    }
    return value;
  };
}

/** Returns a parser of finite numbers in [min, max]; `exclusiveMin` rejects min itself. */
export function numberIn(
  min: number,
  max = Number.POSITIVE_INFINITY,
  exclusiveMin = false,
): (text: string) => number {
  return (text) => {
    const value = Number(text.trim());
    const aboveMin = exclusiveMin ? value > min : value >= min;
    if (text.trim() === '' || !Number.isFinite(value) || !aboveMin || value > max) {
      const low = exclusiveMin ? `> ${min}` : `>= ${min}`;
      const range = max === Number.POSITIVE_INFINITY ? low : `${low} and <= ${max}`;
      throw new InvalidArgumentError(`Expected a number ${range}.`);
    }
    return value;
  };
}

/** Returns a parser of `count` comma-separated numbers, each checked by `item`. */
export function numberList(
  count: number,
  item: (text: string) => number,
): (text: string) => number[] {
  return (text) => {
    const parts = text.split(',');
    if (parts.length !== count) {
      throw new InvalidArgumentError(
        `Expected ${count} comma-separated values, for example ${Array(count).fill(1).join(',')}; ` +
          `got ${parts.length}.`,
      );
    }
    return parts.map(item);
  };
}

/** Parses a comma-separated list of names or numbers, dropping empty entries. */
export function nameList(text: string): string[] {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) throw new InvalidArgumentError('Expected at least one name.');
  return names;
}
