// Errors raised while building a graph. A ShapeError is a user mistake (a layer that does not fit
// its input), so it extends UserError and the CLI prints it without a stack trace.

import { UserError } from '../errors.js';
import type { Shape } from './ir.js';

export interface ShapeErrorDetails {
  /** Input shapes of the op that failed, in input order. */
  shapes?: readonly Shape[];
  op?: string;
  /** Layer path of the node, for example `convolutions.layer0.conv`. */
  scope?: string;
}

function describe(message: string, details: ShapeErrorDetails): string {
  const where: string[] = [];
  if (details.op !== undefined) where.push(`op ${details.op}`);
  if (details.scope) where.push(`layer '${details.scope}'`);
  const shapes = details.shapes?.length
    ? ` (input shapes: ${details.shapes.map((shape) => `[${shape.join(', ')}]`).join(', ')})`
    : '';
  return where.length ? `${where.join(' in ')}: ${message}${shapes}` : `${message}${shapes}`;
}

/** An op's inputs or attributes do not fit together; carries the shapes, op and layer. */
export class ShapeError extends UserError {
  override name = 'ShapeError';
  readonly shapes: readonly Shape[];
  readonly op?: string;
  readonly scope?: string;
  /** The message without the op, layer and shapes. */
  readonly reason: string;

  constructor(reason: string, details: ShapeErrorDetails = {}) {
    super(describe(reason, details));
    this.reason = reason;
    this.shapes = details.shapes ?? [];
    this.op = details.op;
    this.scope = details.scope;
  }

  /** Returns a copy that names the op and layer, keeping shapes already attached. */
  withContext(op: string, scope: string, shapes: readonly Shape[]): ShapeError {
    return new ShapeError(this.reason, {
      op: this.op ?? op,
      scope: this.scope ?? scope,
      shapes: this.shapes.length ? this.shapes : shapes,
    });
  }
}

/**
 * A layer or network argument is invalid: names the argument, the rule and the value received.
 */
export class ArgumentError extends UserError {
  override name = 'ArgumentError';
  constructor(
    message: string,
    readonly argument?: string,
  ) {
    super(message);
  }
}
