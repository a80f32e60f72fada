// Loss configuration classes (ClinicaDL's ...LossConfig): the built-in losses by name, the
// cross-entropy family on the crossEntropy op, custom losses written with the tensor API, and
// the registry that rebuilds any of them from JSON.

import { z } from 'zod';
import { parseConfig } from '../config.js';
import { UserError } from '../errors.js';
import type { Graph, Shape, Value } from '../graph/ir.js';
import { closestName } from '../graph/suggest.js';
import type { CrossEntropyAttrs } from './ops.js';
import { crossEntropyFields, DEFINITIONS, type DefinedLossName } from './definitions.js';
import {
  LossConfig,
  type AppendOptions,
  type LabelData,
  type LossReduction,
  type TargetKind,
} from './loss.js';
import type { Tensor } from './tensor.js';

type Fields<N extends DefinedLossName> = z.output<(typeof DEFINITIONS)[N]['schema']>;

/** A loss of DEFINITIONS: MSELoss, L1Loss, DiceLoss, ... */
export class BuiltinLoss<N extends DefinedLossName = DefinedLossName> extends LossConfig<
  Fields<N>
> {
  readonly target: TargetKind;

  constructor(
    readonly name: N,
    options: Partial<Fields<N>> = {},
  ) {
    const definition = DEFINITIONS[name];
    super(parseConfig(`${name}Config`, definition.schema, options) as Fields<N>);
    const targetOf = definition.target as unknown as (fields: Readonly<Fields<N>>) => TargetKind;
    this.target = targetOf(this.fields);
  }

  withReduction(reduction: LossReduction): BuiltinLoss<N> {
    return new BuiltinLoss(this.name, { ...this.fields, reduction } as unknown as Partial<
      Fields<N>
    >);
  }

  override prepareTarget(label: LabelData, output: Shape): Float32Array | Int32Array {
    const target = super.prepareTarget(label, output);
    if (this.name === 'GeneralizedDiceLoss' && this.target === 'dense') {
      const bad = target.findIndex((value) => value !== 0 && value !== 1);
      if (bad >= 0) {
        const perRow = target.length / output[0]!;
        throw new UserError(
          `Label '${label.key}' of batch row ${Math.floor(bad / perRow)} contains ` +
            `${target[bad]}, but GeneralizedDiceLoss takes 0/1 masks. Threshold the mask, or ` +
            `pass class indices with toOnehotY.`,
        );
      }
    }
    return target;
  }

  protected unreduced(output: Tensor, target: Tensor): Tensor {
    const definition = DEFINITIONS[this.name] as unknown as {
      unreduced: (fields: Fields<N>, output: Tensor, target: Tensor) => Tensor;
    };
    return definition.unreduced(this.fields as Fields<N>, output, target);
  }
}

const crossEntropySchema = z.strictObject(crossEntropyFields);
type CrossEntropyFields = z.output<typeof crossEntropySchema>;

/**
 * CrossEntropyLoss (scores are logits) and NLLLoss (scores are log-probabilities) on the
 * crossEntropy op. Padded batch rows get the ignore index as target, so the op's own 'mean'
 * (weighted by the class weights, as PyTorch) leaves them out.
 */
export class CrossEntropyFamilyLoss extends LossConfig<CrossEntropyFields> {
  readonly target = 'index';

  constructor(
    readonly name: 'CrossEntropyLoss' | 'NLLLoss',
    options: Partial<CrossEntropyFields> = {},
  ) {
    super(parseConfig(`${name}Config`, crossEntropySchema, options));
    if (name === 'NLLLoss' && this.fields.labelSmoothing !== 0) {
      throw new UserError('NLLLossConfig.labelSmoothing: NLLLoss has no label smoothing; use 0.');
    }
  }

  withReduction(reduction: LossReduction): CrossEntropyFamilyLoss {
    return new CrossEntropyFamilyLoss(this.name, { ...this.fields, reduction });
  }

  private attrs(reduction: LossReduction): CrossEntropyAttrs {
    return {
      fromLogits: this.name === 'CrossEntropyLoss',
      reduction,
      labelSmoothing: this.fields.labelSmoothing,
      ignoreIndex: this.fields.ignoreIndex,
    };
  }

  private inputs(graph: Graph, output: Value, target: Value): Value[] {
    const weight = this.fields.weight;
    if (!weight) return [output, target];
    if (weight.length !== output.shape[1]) {
      throw new UserError(
        `${this.name}Config.weight has ${weight.length} class weights but the output has ` +
          `${output.shape[1]} classes; give one weight per class.`,
      );
    }
    return [output, target, graph.addConstant(Float32Array.from(weight), [weight.length])];
  }

  protected unreduced(output: Tensor, target: Tensor): Tensor {
    const inputs = this.inputs(output.graph, output.value, target.value);
    return output.op('crossEntropy', inputs, this.attrs('none'));
  }

  override appendLoss(
    graph: Graph,
    output: Value,
    target: Value,
    _options: AppendOptions = {},
  ): Value {
    const inputs = this.inputs(graph, output, target);
    return graph.addNode('crossEntropy', inputs, this.attrs(this.reduction), 'loss')[0]!;
  }

  /** Weighs every row 1, because padded rows get the ignore index as target. */
  override rowWeights(size: number, batchSize: number): Float32Array {
    return new Float32Array(batchSize).fill(1, 0, size);
  }

  protected override paddingIndex(): number {
    return this.fields.ignoreIndex;
  }

  override acceptsIndex(index: number): boolean {
    return index === this.fields.ignoreIndex;
  }
}

/** The body of a custom loss: appends the unreduced loss, batch axis first. */
export type LossFunction = (output: Tensor, target: Tensor) => Tensor;

/**
 * A loss written as a TypeScript function of the tensor API; autodiff gives its gradient. Its
 * JSON records the name only, so a custom loss must be passed again when an experiment is
 * rebuilt from its experiment.json.
 */
export class CustomLoss extends LossConfig<{ reduction: LossReduction }> {
  constructor(
    readonly name: string,
    private readonly body: LossFunction,
    readonly target: TargetKind = 'dense',
    reduction: LossReduction = 'mean',
  ) {
    super({ reduction });
  }

  withReduction(reduction: LossReduction): CustomLoss {
    return new CustomLoss(this.name, this.body, this.target, reduction);
  }

  override toJSON() {
    return { name: this.name, custom: true, reduction: this.fields.reduction };
  }

  protected unreduced(output: Tensor, target: Tensor): Tensor {
    return this.body(output, target);
  }
}

export const LOSS_NAMES = ['CrossEntropyLoss', 'NLLLoss', ...Object.keys(DEFINITIONS)] as const;

/**
 * Builds a loss from its JSON (`{ name: 'MSELoss', reduction: 'sum' }`), filling defaults.
 * Custom losses are looked up in `custom` by name.
 */
export function lossFromJSON(json: unknown, custom: readonly CustomLoss[] = []): LossConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new UserError(
      `A loss config must be a JSON object with a name, got ${JSON.stringify(json)}.`,
    );
  }
  const { name, custom: isCustom, ...fields } = json as Record<string, unknown>;
  if (isCustom === true) {
    const match = custom.find((loss) => loss.name === name);
    if (!match) {
      throw new UserError(
        `The loss '${String(name)}' is a custom loss; pass it again (its function is not ` +
          `stored in JSON) when rebuilding the experiment.`,
      );
    }
    return match.withReduction((fields.reduction as LossReduction) ?? 'mean');
  }
  if (name === 'CrossEntropyLoss' || name === 'NLLLoss') {
    return new CrossEntropyFamilyLoss(name, fields as Partial<CrossEntropyFields>);
  }
  if (typeof name === 'string' && name in DEFINITIONS) {
    return new BuiltinLoss(name as DefinedLossName, fields);
  }
  const suggestion = typeof name === 'string' ? closestName(name, LOSS_NAMES) : undefined;
  throw new UserError(
    `Unknown loss ${JSON.stringify(name)}.` +
      (suggestion ? ` Did you mean '${suggestion}'?` : '') +
      ` Available: ${LOSS_NAMES.join(', ')}.`,
  );
}
