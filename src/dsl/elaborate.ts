// Elaboration: runs a network's body for given parameter values and builds the graph IR.
// Statements execute in order; tensors are graph values, everything else is a parameter value.
// Layer calls go through the LAYERS registry (see calls.ts), so a .net network and the
// TypeScript class built from the same layers give the same IR.

import type { Graph } from '../graph/ir.js';
import { TYPE_NAMES, type Decl, type Param, type Stmt } from './ast.js';
import { CallResolver } from './calls.js';
import { DiagnosticError, DslError, type Diagnostic, type SourceSpan } from './diagnostics.js';
import { Env, Evaluator, FailedNameError, fail } from './evaluate.js';
import type { LoadedProgram } from './modules.js';
import {
  checkType,
  isKnownType,
  isTensor,
  showValue,
  truthy,
  typeName,
  type NetValue,
} from './values.js';
import { closestName } from '../graph/suggest.js';

/** Elaboration stops after this many statements, so that a runaway loop cannot hang. */
export const MAX_STATEMENTS = 1_000_000;

/** Parameter values of a network, already evaluated, with where each came from. */
export type Settings = Map<string, { value: NetValue; span: SourceSpan; nameSpan: SourceSpan }>;

/** The result of a block body: the values of its `return`, if it reached one. */
interface Completion {
  returned?: NetValue[];
}

export class Elaborator {
  readonly evaluator: Evaluator;
  readonly calls: CallResolver;
  private statements = 0;

  constructor(
    readonly program: LoadedProgram,
    /** N, prepended to the per-sample shape of every `input`. */
    readonly batchSize = 1,
  ) {
    this.calls = new CallResolver(this);
    this.evaluator = new Evaluator(
      (name, args, span) => this.calls.call(name, args, span),
      () => this.calls.callableNames(),
    );
  }

  /**
   * Builds the graph of network `decl`. A parameter error throws DiagnosticError at once. A
   * failed statement of the body is recorded and the next one runs, so independent mistakes
   * are thrown together as one DslError.
   */
  network(decl: Decl, settings: Settings): Graph {
    const env = new Env();
    this.bindNetworkParams(decl, settings, env);
    const errors: Diagnostic[] = [];
    for (const stmt of decl.body) {
      const completion = this.runRecording(stmt, env, errors);
      if (completion.returned) fail(stmt.span, `network '${decl.name}' cannot 'return'`);
    }
    if (errors.length > 0) throw new DslError(errors, this.program.sources);
    const graph = this.calls.builder.graph;
    if (graph.outputs.length === 0) {
      fail(decl.span, `network '${decl.name}' has no output: add 'output name = ...'`);
    }
    return graph;
  }

  private bindNetworkParams(decl: Decl, settings: Settings, env: Env): void {
    for (const [name, given] of settings) {
      if (!decl.params.some((param) => param.name === name)) {
        const hint = closestName(
          name,
          decl.params.map((param) => param.name),
        );
        const known = decl.params.map((param) => param.name).join(', ');
        // Without a close name to suggest, the message lists the parameters the network takes.
        const message =
          `network '${decl.name}' has no parameter '${name}'` +
          (hint === undefined ? `; its parameters are ${known || 'none'}` : '');
        fail(given.nameSpan, message, hint);
      }
    }
    for (const param of decl.params) {
      const given = settings.get(param.name);
      if (given === undefined && param.default === undefined) {
        const message =
          `network '${decl.name}' needs parameter '${param.name}': ` +
          `set it with --set ${param.name}=VALUE`;
        fail(param.span, message);
      }
      const value = given ? given.value : this.evaluator.evaluate(param.default!, env);
      this.bindParam(param, value, given?.span ?? param.span, env);
    }
  }

  /** Checks a parameter's declared type and binds it in `env`. */
  bindParam(param: Param, value: NetValue, span: SourceSpan, env: Env): void {
    if (param.type) {
      if (!isKnownType(param.type.name)) {
        fail(
          param.type.span,
          `unknown type '${param.type.name}'`,
          closestName(param.type.name, TYPE_NAMES),
        );
      }
      const problem = checkType(param.type, value);
      if (problem !== undefined) fail(span, `parameter '${param.name}': ${problem}`);
    }
    env.set(param.name, value);
  }

  /**
   * Runs one statement of a network body. Its error goes to `errors`, and the names it sets
   * are marked failed so that statements using them are skipped without a second error.
   */
  private runRecording(stmt: Stmt, env: Env, errors: Diagnostic[]): Completion {
    try {
      return this.run([stmt], env, 'network');
    } catch (error) {
      const failed = error instanceof DiagnosticError || error instanceof FailedNameError;
      // Past the statement limit every further statement would fail the same way.
      if (!failed || this.statements > MAX_STATEMENTS) throw error;
      if (error instanceof DiagnosticError) errors.push(error.diagnostic);
      for (const name of assignedNames(stmt)) env.markFailed(name);
      return {};
    }
  }

  /** Runs statements; stops at a `return` and passes its values up. */
  run(body: Stmt[], env: Env, context: 'network' | 'block'): Completion {
    for (const stmt of body) {
      this.statements += 1;
      if (this.statements > MAX_STATEMENTS) {
        fail(
          stmt.span,
          `elaboration ran more than ${MAX_STATEMENTS} statements; check the bounds of the loops`,
        );
      }
      const completion = this.execute(stmt, env, context);
      if (completion.returned) return completion;
    }
    return {};
  }

  private execute(stmt: Stmt, env: Env, context: 'network' | 'block'): Completion {
    switch (stmt.kind) {
      case 'input':
        this.input(stmt, env, context);
        return {};
      case 'output':
        this.output(stmt, env, context);
        return {};
      case 'return':
        if (context !== 'block') {
          fail(stmt.span, "'return' is allowed in blocks only; use 'output'");
        }
        return { returned: stmt.values.map((value) => this.evaluator.evaluate(value, env)) };
      case 'assign':
        this.assign(stmt, env);
        return {};
      case 'expression':
        this.evaluator.evaluate(stmt.value, env);
        return {};
      case 'for':
        return this.loop(stmt, env, context);
      case 'if': {
        const branch = truthy(this.evaluator.evaluate(stmt.condition, env))
          ? stmt.then
          : stmt.otherwise;
        return this.run(branch, env, context);
      }
      case 'scope': {
        const prefix = this.evaluator.evaluate(stmt.prefix, env);
        if (typeof prefix !== 'string') {
          fail(stmt.prefix.span, `a scope name must be a string but got ${typeName(prefix)}`);
        }
        return this.calls.inScope(prefix, stmt.prefix.span, () =>
          this.run(stmt.body, env, context),
        );
      }
    }
  }

  private input(stmt: Extract<Stmt, { kind: 'input' }>, env: Env, context: string): void {
    if (context !== 'network') {
      fail(stmt.span, "'input' is allowed in networks only; blocks take tensor parameters");
    }
    const shape = this.evaluator.evaluate(stmt.shape, env);
    const valid =
      Array.isArray(shape) &&
      shape.every((s) => typeof s === 'number' && Number.isInteger(s) && s >= 1);
    if (!valid) {
      const got = `${typeName(shape)} ${showValue(shape)}`;
      const rule = 'the shape of one sample, a list of ints >= 1 without the batch axis';
      fail(stmt.shape.span, `input '${stmt.name}' needs ${rule}, got ${got}`);
    }
    const fullShape = [this.batchSize, ...(shape as number[])];
    env.set(stmt.name, this.calls.input(stmt.name, fullShape, stmt.span));
  }

  private output(stmt: Extract<Stmt, { kind: 'output' }>, env: Env, context: string): void {
    if (context !== 'network') {
      fail(stmt.span, "'output' is allowed in networks only; use 'return' in a block");
    }
    let value = stmt.value ? this.evaluator.evaluate(stmt.value, env) : env.get(stmt.name);
    if (value === undefined) {
      fail(stmt.span, `unknown name '${stmt.name}'`, closestName(stmt.name, env.names()));
    }
    if (!isTensor(value)) {
      fail(
        stmt.value?.span ?? stmt.span,
        `output '${stmt.name}' must be a tensor but got ${typeName(value)}`,
      );
    }
    value = this.calls.output(stmt.name, value, stmt.span);
    env.set(stmt.name, value);
  }

  private assign(stmt: Extract<Stmt, { kind: 'assign' }>, env: Env): void {
    const value = this.evaluator.evaluate(stmt.value, env);
    if (stmt.targets.length === 1) {
      env.set(stmt.targets[0]!.name, value);
      return;
    }
    if (!Array.isArray(value) || value.length !== stmt.targets.length) {
      const count = Array.isArray(value) ? `${value.length} values` : `one ${typeName(value)}`;
      fail(stmt.span, `${stmt.targets.length} names on the left but the right gives ${count}`);
    }
    stmt.targets.forEach((target, i) => env.set(target.name, value[i]!));
  }

  private loop(stmt: Extract<Stmt, { kind: 'for' }>, env: Env, context: 'network' | 'block') {
    const value = this.evaluator.evaluate(stmt.iterable, env);
    const iterable = typeof value === 'string' ? [...value] : value;
    if (!Array.isArray(iterable)) {
      fail(
        stmt.iterable.span,
        `'for' needs a list, a string or range() but got ${typeName(iterable)}`,
      );
    }
    for (const [i, item] of iterable.entries()) {
      env.set(stmt.item.name, item);
      if (stmt.index) env.set(stmt.index.name, i);
      const completion = this.run(stmt.body, env, context);
      if (completion.returned) return completion;
    }
    return {};
  }
}

/** Returns the names that a statement sets, in its nested bodies too. */
function assignedNames(stmt: Stmt): string[] {
  switch (stmt.kind) {
    case 'input':
    case 'output':
      return [stmt.name];
    case 'assign':
      return stmt.targets.map((target) => target.name);
    case 'for':
      return [
        stmt.item.name,
        ...(stmt.index ? [stmt.index.name] : []),
        ...stmt.body.flatMap(assignedNames),
      ];
    case 'if':
      return [...stmt.then, ...stmt.otherwise].flatMap(assignedNames);
    case 'scope':
      return stmt.body.flatMap(assignedNames);
    default:
      return [];
  }
}

/** Runs elaboration; its errors become a DslError, and a bug is rethrown unchanged. */
export function elaborateNetwork(
  program: LoadedProgram,
  decl: Decl,
  settings: Settings,
  batchSize = 1,
): Graph {
  try {
    return new Elaborator(program, batchSize).network(decl, settings);
  } catch (error) {
    if (error instanceof DiagnosticError) throw new DslError([error.diagnostic], program.sources);
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      const message = `elaborating '${decl.name}' nested too deeply; split long expressions`;
      throw new DslError([{ span: decl.span, message }], program.sources);
    }
    throw error;
  }
}

export type { Diagnostic };
