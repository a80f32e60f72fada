// Calls during elaboration: layers from the LAYERS registry and user-declared blocks. Errors
// from a layer's build become diagnostics at the call: an ArgumentError points at the argument,
// a ShapeError shows the input shapes and the calls that produced each input.

import { GraphBuilder } from '../graph/builder.js';
import { ArgumentError, ShapeError } from '../graph/errors.js';
import { formatShape, type Value } from '../graph/ir.js';
import type { ArgValue } from '../graph/layers.js';
import { LAYERS } from '../graph/layers.js';
import { closestName } from '../graph/suggest.js';
import type { Decl } from './ast.js';
import { BUILTINS } from './builtins.js';
import { DiagnosticError, spanText, type RelatedNote, type SourceSpan } from './diagnostics.js';
import type { Elaborator } from './elaborate.js';
import { Env, fail, type EvaluatedArgs } from './evaluate.js';
import { isTensor, showValue, typeName, type NetValue, type TensorRef } from './values.js';

/** Blocks may call blocks this deep; deeper means unbounded recursion. */
export const MAX_CALL_DEPTH = 64;

type SpannedValue = { value: NetValue; span: SourceSpan };

export class CallResolver {
  readonly builder = new GraphBuilder();
  /** Names of the blocks being elaborated, outermost first. */
  private readonly callStack: string[] = [];
  private readonly unnamedCounts = new Map<string, number>();

  constructor(private readonly elaborator: Elaborator) {}

  callableNames(): string[] {
    return [
      ...Object.keys(LAYERS),
      ...this.elaborator.program.blocks.keys(),
      ...Object.keys(BUILTINS),
    ];
  }

  input(name: string, shape: number[], span: SourceSpan): TensorRef {
    const value = this.guard(span, [], () => this.builder.input(name, shape));
    return { kind: 'tensor', value, span, origin: `input '${name}'` };
  }

  output(name: string, tensor: TensorRef, span: SourceSpan): TensorRef {
    if (this.builder.graph.output(name) !== undefined) {
      fail(span, `output '${name}' is declared twice; give each output its own name`);
    }
    this.guard(span, [], () => this.builder.output(name, tensor.value));
    return tensor;
  }

  inScope<T>(prefix: string, span: SourceSpan, body: () => T): T {
    if (/\s/.test(prefix)) fail(span, `a scope name cannot contain spaces, got "${prefix}"`);
    return this.builder.scope(prefix, body);
  }

  call(name: string, args: EvaluatedArgs, span: SourceSpan): NetValue {
    const decl = this.elaborator.program.blocks.get(name);
    if (decl) return this.callBlock(decl, args, span);
    if (this.elaborator.program.networks.has(name) && !Object.hasOwn(LAYERS, name)) {
      fail(span, `'${name}' is a network and cannot be called; declare the shared part as a block`);
    }
    if (Object.hasOwn(LAYERS, name)) return this.callLayer(name, args, span);
    fail(span, `unknown layer '${name}'`, closestName(name, this.callableNames()));
  }

  // ---- layers ----

  private callLayer(layer: string, args: EvaluatedArgs, span: SourceSpan): NetValue {
    const def = LAYERS[layer]!;
    const inputs: TensorRef[] = [];
    const rest = [...args.positional];
    const limit = def.inputs === 'variadic' ? Infinity : def.inputs;
    while (rest.length > 0 && isTensor(rest[0]!.value) && inputs.length < limit) {
      inputs.push(rest.shift()!.value as TensorRef);
    }
    if (rest.length > 0 && isTensor(rest[0]!.value)) {
      const count = args.positional.filter((given) => isTensor(given.value)).length;
      const noun = limit === 1 ? 'tensor' : 'tensors';
      fail(rest[0]!.span, `${layer} takes ${limit} input ${noun} but got ${count}`);
    }
    if (def.inputs === 'variadic' && inputs.length === 0 && Array.isArray(rest[0]?.value)) {
      const list = rest.shift()!;
      for (const item of list.value as NetValue[]) {
        if (!isTensor(item)) {
          fail(list.span, `${layer} needs a list of tensors but one item is ${typeName(item)}`);
        }
        inputs.push(item);
      }
    }
    const named = this.layerArguments(layer, rest, args.named);
    const scopeName = this.scopeName(args) ?? this.defaultName(layer, inputs, named.values);
    const build = () =>
      def.build(
        this.builder,
        inputs.map((t) => t.value),
        named.values,
        scopeName,
      );
    const result = this.guard(span, inputs, build, named.spans);
    const origin = `${layer} '${this.builder.qualify(scopeName) || layer}'`;
    const wrap = (value: Value): TensorRef => ({ kind: 'tensor', value, span, origin });
    return Array.isArray(result) ? result.map(wrap) : wrap(result);
  }

  /** Names positional arguments after the layer's params and converts values to ArgValue. */
  private layerArguments(
    layer: string,
    positional: SpannedValue[],
    named: Map<string, SpannedValue>,
  ) {
    const specs = LAYERS[layer]!.params;
    const values: Record<string, ArgValue> = {};
    const spans = new Map<string, SourceSpan>();
    if (positional.length > specs.length) {
      const extra = positional[specs.length]!;
      const list = specs.map((spec) => spec.name).join(', ');
      fail(
        extra.span,
        `${layer} takes at most ${specs.length} arguments after its inputs (${list})`,
      );
    }
    positional.forEach((given, i) => {
      if (isTensor(given.value)) {
        fail(given.span, `${layer}: tensor inputs must come before other arguments`);
      }
      values[specs[i]!.name] = toArgValue(layer, specs[i]!.name, given);
      spans.set(specs[i]!.name, given.span);
    });
    for (const [name, given] of named) {
      if (name === 'name') continue;
      if (!specs.some((spec) => spec.name === name)) {
        const names = specs.map((spec) => spec.name);
        const message = `${layer} has no argument '${name}'; its arguments are ${names.join(', ') || 'none'}`;
        fail(given.span, message, closestName(name, [...names, 'name']));
      }
      if (spans.has(name)) fail(given.span, `${layer}: argument '${name}' is given twice`);
      values[name] = toArgValue(layer, name, given);
      spans.set(name, given.span);
    }
    return { values, spans };
  }

  /**
   * Names an unnamed layer that creates params or buffers `conv0`, `conv1`, ... within its
   * scope, so two unnamed convolutions get distinct state_dict names. Layers without state stay
   * unnamed. A build on a scratch graph shows which layers create state.
   */
  private defaultName(layer: string, inputs: TensorRef[], args: Record<string, ArgValue>): string {
    const probe = new GraphBuilder();
    const probeInputs = inputs.map((input, i) => probe.input(`input${i}`, input.value.shape));
    try {
      LAYERS[layer]!.build(probe, probeInputs, args, '');
    } catch {
      return ''; // The real build below reports the error.
    }
    if (probe.graph.params.length + probe.graph.buffers.length === 0) return '';
    const key = `${this.builder.currentScope}/${layer}`;
    const index = this.unnamedCounts.get(key) ?? 0;
    this.unnamedCounts.set(key, index + 1);
    return `${layer}${index}`;
  }

  /** Returns the `name:` argument: undefined when absent, '' when the call adds no module level. */
  private scopeName(args: EvaluatedArgs): string | undefined {
    const given = args.named.get('name');
    if (given === undefined) return undefined;
    if (typeof given.value !== 'string') {
      fail(
        given.span,
        `'name' must be a string (a module name such as "features.0") but got ${typeName(given.value)}`,
      );
    }
    return given.value;
  }

  /** Runs a graph-building step and turns its typed errors into positioned diagnostics. */
  private guard<T>(
    span: SourceSpan,
    inputs: TensorRef[],
    step: () => T,
    spans = new Map<string, SourceSpan>(),
  ): T {
    try {
      return step();
    } catch (error) {
      if (error instanceof ArgumentError) {
        const at = (error.argument !== undefined && spans.get(error.argument)) || span;
        throw new DiagnosticError({ span: at, message: error.message });
      }
      if (error instanceof ShapeError) {
        throw new DiagnosticError({ span, message: error.message, notes: originNotes(inputs) });
      }
      throw error;
    }
  }

  // ---- blocks ----

  private callBlock(decl: Decl, args: EvaluatedArgs, span: SourceSpan): NetValue {
    if (this.callStack.length >= MAX_CALL_DEPTH) fail(span, this.tooDeepMessage(decl.name));
    const env = new Env();
    const bound = this.bindBlockArguments(decl, args, span);
    this.callStack.push(decl.name);
    try {
      return this.builder.scope(this.scopeName(args) ?? '', () => {
        for (const param of decl.params) {
          const given = bound.get(param.name);
          const value = given
            ? given.value
            : this.elaborator.evaluator.evaluate(param.default!, env);
          this.elaborator.bindParam(param, value, given?.span ?? param.span, env);
        }
        const completion = this.elaborator.run(decl.body, env, 'block');
        const returned = completion.returned ?? [];
        if (returned.length === 0) return null;
        return returned.length === 1 ? returned[0]! : returned;
      });
    } catch (error) {
      if (error instanceof DiagnosticError)
        addNote(error, span, `in block '${decl.name}' called here`);
      throw error;
    } finally {
      this.callStack.pop();
    }
  }

  /** Describes the call depth limit, with the cycle of calls that reached it if there is one. */
  private tooDeepMessage(callee: string): string {
    const limit = `blocks are nested more than ${MAX_CALL_DEPTH} deep`;
    const cycleStart = this.callStack.lastIndexOf(callee);
    if (cycleStart < 0) return `${limit}: ${[...this.callStack, callee].join(' -> ')}`;
    const cycle = [...this.callStack.slice(cycleStart), callee].join(' -> ');
    return `${limit}, because the calls ${cycle} repeat without end`;
  }

  private bindBlockArguments(
    decl: Decl,
    args: EvaluatedArgs,
    span: SourceSpan,
  ): Map<string, SpannedValue> {
    const bound = new Map<string, SpannedValue>();
    const names = decl.params.map((param) => param.name);
    if (args.positional.length > names.length) {
      fail(
        args.positional[names.length]!.span,
        `block '${decl.name}' takes ${names.length} arguments (${names.join(', ')}) but got ${args.positional.length}`,
      );
    }
    args.positional.forEach((given, i) => bound.set(names[i]!, given));
    for (const [name, given] of args.named) {
      if (name === 'name' && !names.includes('name')) continue;
      if (!names.includes(name)) {
        fail(
          given.span,
          `block '${decl.name}' has no parameter '${name}'`,
          closestName(name, names),
        );
      }
      if (bound.has(name)) {
        fail(given.span, `block '${decl.name}': argument '${name}' is given twice`);
      }
      bound.set(name, given);
    }
    for (const param of decl.params) {
      if (!bound.has(param.name) && param.default === undefined) {
        fail(span, `block '${decl.name}' needs argument '${param.name}'`);
      }
    }
    return bound;
  }
}

function toArgValue(layer: string, name: string, given: SpannedValue): ArgValue {
  const value = given.value;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value) && value.every((item) => typeof item === 'number')) {
    return value as number[];
  }
  fail(given.span, `${layer}: argument '${name}' cannot be ${typeName(value)} ${showValue(value)}`);
}

/** Adds a note to an error passing up through a call, once per place and message. */
function addNote(error: DiagnosticError, span: SourceSpan, message: string): void {
  const notes = error.diagnostic.notes ?? [];
  const same = (note: RelatedNote) =>
    note.message === message && spanText(note.span) === spanText(span);
  if (!notes.some(same)) error.diagnostic.notes = [...notes, { span, message }];
}

function originNotes(inputs: TensorRef[]): RelatedNote[] {
  return inputs.map((input, i) => ({
    span: input.span,
    message: `input ${i + 1} has shape ${formatShape(input.value.shape)}, produced by ${input.origin}`,
  }));
}
