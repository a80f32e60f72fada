// Parsing of configuration objects (optimizers, schedules, losses, training settings) with zod
// schemas. Every error names the configuration, the field, the rule and the value received,
// and suggests the closest field for a misspelled key.

import { z } from 'zod';
import { UserError } from './errors.js';
import { closestName } from './graph/suggest.js';

/** Formats a value received in a configuration for an error message. */
function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/**
 * Parses `input` with `schema` (a zod object, strict so unknown keys are rejected) and throws
 * a UserError listing every problem: `AdamConfig.lr: expected number > 0, got -1`.
 */
export function parseConfig<T extends z.ZodType>(
  configName: string,
  schema: T,
  input: unknown,
): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const known =
    schema instanceof z.ZodObject ? Object.keys((schema as z.ZodObject).shape) : ([] as string[]);
  const problems = result.error.issues.map((issue) => {
    const field = [configName, ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') {
      // Suggestions come from the top-level fields, so nested keys only get their path.
      const candidates = issue.path.length === 0 ? known : [];
      return issue.keys
        .map((key) => {
          const suggestion = closestName(key, candidates);
          const hint = suggestion
            ? ` Did you mean '${suggestion}'?`
            : candidates.length > 0
              ? ` Known fields: ${candidates.join(', ')}.`
              : '';
          return `${field}: unknown field '${key}'.${hint}`;
        })
        .join('\n');
    }
    return `${field}: ${issue.message}, got ${describeValue(valueAt(input, issue.path))}`;
  });
  throw new UserError(`Invalid ${configName}:\n  ${problems.join('\n  ')}`);
}
