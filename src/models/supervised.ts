// SupervisedModel, for classification, regression and segmentation: the loss compares the
// network's output with a label field of the batch.
// Batches shorter than the compiled batch size are padded with zeros; the loss weights padded
// rows 0 (see LossConfig.rowWeights) and evaluation drops them.

import type { Batch } from '../data/batch.js';
import { UserError } from '../errors.js';
import { numElements, type Graph, type Value } from '../graph/ir.js';
import { summarise } from '../graph/summary.js';
import { compileGraph, type CompiledGraph } from '../kernels/compile.js';
import { lossFromJSON, type CustomLoss } from '../losses/configs.js';
import type { LossConfig } from '../losses/loss.js';
import { Tensor } from '../losses/tensor.js';
import { optimizerConfig, type OptimizerConfig } from '../optim/optimizers.js';
import { TrainingProgram, type InputData, type OptimizerState } from '../training/program.js';
import { Model, type CompileTarget, type EvaluatedBatch } from './model.js';
import { resolveNetwork, type NetworkSpec, type ResolvedNetwork } from './network.js';
import { InfererEvaluation } from './inferer-evaluation.js';
import { infererFromJSON, infererToJSON, type Inferer } from './inferers.js';
import { formatSummary } from './summary.js';

export interface SupervisedOptions {
  network: NetworkSpec;
  /** A loss config, its JSON, or a CustomLoss. */
  loss: LossConfig | { name: string; [key: string]: unknown };
  /** Always a configuration object (AdamConfig(), SGDConfig(), or their JSON). */
  optimizer: OptimizerConfig | { name: string; [key: string]: unknown };
  /** Batch field holding the label (a class, a value or a mask). Default 'label'. */
  labelKey?: string;
  /** Batch field holding the network input. Default 'image'. */
  imageKey?: string;
  /**
   * Inferer that evaluation and prediction run images through (patches, slices), or its JSON.
   * Null (default) runs the network on the batch as is.
   */
  inferer?: Inferer | { name: string; [key: string]: unknown } | null;
}

/** The graph values an objective is built from. */
export interface ObjectiveTerms {
  graph: Graph;
  /** The network input, [N, ...]. */
  input: Tensor;
  /** The network output 'output'. */
  output: Tensor;
  /** The loss target: the prepared label, or the input for reconstruction. */
  target: Tensor;
  /** f32 [N] row weights that leave padded rows out (see LossConfig.rowWeights). */
  rowWeight: Value;
}

interface Programs {
  key: string;
  gpu: CompileTarget['gpu'];
  batchSize: number;
  train: TrainingProgram;
  evaluate: CompiledGraph;
  evaluationLosses: Map<string, Value>;
  outputShape: number[];
  inputName: string;
  inputShape: readonly number[];
  inference?: InfererEvaluation;
}

export class SupervisedModel extends Model {
  readonly name: string = 'SupervisedModel';
  readonly network: ResolvedNetwork;
  readonly loss: LossConfig;
  readonly optimizer: OptimizerConfig;
  readonly labelKey: string;
  readonly imageKey: string;
  readonly inferer: Inferer | null;
  private programs?: Programs;

  constructor(options: SupervisedOptions, customLosses: readonly CustomLoss[] = []) {
    super();
    this.network = resolveNetwork(options.network);
    this.loss =
      typeof (options.loss as LossConfig).appendLoss === 'function'
        ? (options.loss as LossConfig)
        : lossFromJSON(options.loss, customLosses);
    this.optimizer = optimizerConfig(options.optimizer);
    this.labelKey = options.labelKey ?? 'label';
    this.imageKey = options.imageKey ?? 'image';
    this.inferer = options.inferer ? infererFromJSON(options.inferer) : null;
    if (this.loss.reduction === 'none') {
      throw new UserError(
        `${this.loss.name} has reduction 'none', which gives no single value to minimise. ` +
          `Train with 'mean' or 'sum'; the Trainer computes per-sample validation losses itself.`,
      );
    }
  }

  /** Appends the training objective, a scalar. Override it to train on another objective. */
  protected objective(terms: ObjectiveTerms): Tensor {
    const { graph, output, target, rowWeight } = terms;
    return output.wrap(this.loss.appendLoss(graph, output.value, target.value, { rowWeight }));
  }

  /** Adds the loss target input to `graph` (the input itself for reconstruction). */
  protected targetValue(graph: Graph, _input: Value, output: Value): Value {
    const spec = this.loss.targetSpec(output.shape);
    return graph.addInput('target', spec.shape, spec.dtype);
  }

  /** Returns the label field of `batch`; throws a UserError naming labelKey if it is missing. */
  protected labelField(batch: Batch): Float32Array | Int32Array {
    const data = batch.fields[this.labelKey];
    if (data !== undefined) return data;
    const fields = Object.keys(batch.fields).join(', ');
    throw new UserError(
      `The batch has no label field '${this.labelKey}' (fields: ${fields}). Set labelKey ` +
        `to the field holding the label, or add that column to the dataset.`,
    );
  }

  /** Converts the label of `batch` into the loss target for `outputShape`, padded. */
  protected targetData(batch: Batch, outputShape: number[]): InputData | undefined {
    const data = this.labelField(batch);
    const shape = batch.shapes[this.labelKey] ?? [batch.size];
    const label = { key: this.labelKey, data, shape, size: batch.size };
    return this.loss.prepareTarget(label, outputShape);
  }

  optimizers(): Record<string, OptimizerConfig> {
    return { optimizer: this.optimizer };
  }

  losses(): Record<string, LossConfig> {
    return { loss: this.loss };
  }

  async compile(compileTarget: CompileTarget): Promise<void> {
    const { gpu, batchSize, seed, accumulationSteps, clip, checkpoint } = compileTarget;
    const key = `${batchSize}:${seed}`;
    if (this.programs?.key === key) return;
    const graph = this.network.toGraph(batchSize);
    const input = this.networkInput(graph);
    const output = this.networkOutput(graph);
    const rowWeight = graph.addInput('rowWeight', [batchSize]);
    const target = this.targetValue(graph, input, output);
    const wrap = (value: Value) => new Tensor(graph, value);
    const terms = {
      graph,
      input: wrap(input),
      output: wrap(output),
      target: wrap(target),
      rowWeight,
    };
    const objective = this.objective(terms).value;
    if (numElements(objective.shape) !== 1) {
      throw new UserError(
        `The training objective must be a scalar, got shape [${objective.shape.join(', ')}].`,
      );
    }
    const train = await TrainingProgram.compile(gpu, graph, objective, {
      optimizer: this.optimizer,
      seed,
      name: `${this.name} train`,
      accumulationSteps,
      clip,
      ...(checkpoint !== undefined ? { checkpoint } : {}),
    });
    const evaluation = this.network.toGraph(batchSize);
    const evalOutput = this.networkOutput(evaluation);
    const evalTarget = this.targetValue(evaluation, this.networkInput(evaluation), evalOutput);
    const evaluationLosses = new Map<string, Value>();
    for (const [name, loss] of Object.entries(this.losses())) {
      evaluationLosses.set(name, loss.appendPerRow(evaluation, evalOutput, evalTarget));
    }
    const evaluate = await compileGraph(gpu, evaluation, {
      name: `${this.name} evaluate`,
      keep: [evalOutput, ...evaluationLosses.values()],
      training: false,
      shareStateWith: train.compiled,
    });
    const inference = this.inferer
      ? await InfererEvaluation.compile(
          gpu,
          this.inferer,
          this.network.toGraph(this.inferer.batchSize),
          train.compiled,
          this.losses(),
        )
      : undefined;
    const outputShape = [...output.shape];
    const inputName = graph.inputs.find((entry) => entry.value === input)!.name;
    this.programs = {
      key,
      gpu,
      batchSize,
      train,
      evaluate,
      evaluationLosses,
      outputShape,
      inputName,
      inputShape: input.shape,
      inference,
    };
  }

  /** Finds the network's input: its only input, or the one named 'input'. */
  private networkInput(graph: Graph): Value {
    const input = graph.inputs.length === 1 ? graph.inputs[0]!.value : graph.input('input');
    if (!input) {
      const names = graph.inputs.map((entry) => entry.name).join(', ');
      throw new UserError(
        `${this.name} needs one network input, or one named 'input'; this network has: ${names}.`,
      );
    }
    return input;
  }

  /** Finds the network's output: its only output, or the one named 'output'. */
  private networkOutput(graph: Graph): Value {
    const output = graph.outputs.length === 1 ? graph.outputs[0]!.value : graph.output('output');
    if (!output) {
      const names = graph.outputs.map((entry) => entry.name).join(', ');
      throw new UserError(
        `${this.name} needs a network output named 'output'; this network has: ${names}. ` +
          `Subclass the model to train a network with several outputs.`,
      );
    }
    return output;
  }

  private compiled(): Programs {
    if (!this.programs) {
      throw new UserError(`${this.name} is not compiled; call compile({ gpu, batchSize, seed }).`);
    }
    return this.programs;
  }

  /** Pads the network input of `batch` with zeros to the compiled batch size. */
  private inputData(batch: Batch, programs: Programs): Float32Array {
    const data = batch.fields[this.imageKey];
    if (data === undefined) {
      throw new UserError(
        `The batch has no image field '${this.imageKey}'; its fields are ` +
          `${Object.keys(batch.fields).join(', ')}. Set imageKey.`,
      );
    }
    const shape = programs.inputShape;
    if (batch.size < 1 || batch.size > programs.batchSize) {
      throw new UserError(
        `A batch of ${batch.size} samples does not fit the compiled batch size ` +
          `${programs.batchSize}; batches must hold 1 to ${programs.batchSize} samples.`,
      );
    }
    const perRow = numElements(shape.slice(1));
    if (data.length !== batch.size * perRow) {
      throw new UserError(
        `Field '${this.imageKey}' has shape [${(batch.shapes[this.imageKey] ?? []).join(', ')}] ` +
          `but the network takes samples of shape [${shape.slice(1).join(', ')}].`,
      );
    }
    const padded = new Float32Array(numElements(shape));
    padded.set(data);
    return padded;
  }

  private inputs(batch: Batch, programs: Programs, withTarget: boolean) {
    const inputs: Record<string, InputData> = {
      [programs.inputName]: this.inputData(batch, programs),
    };
    if (withTarget) {
      const target = this.targetData(batch, programs.outputShape);
      if (target) inputs.target = target;
    }
    return inputs;
  }

  async trainingStep(batch: Batch, lrFactor = 1): Promise<Record<string, number>> {
    const programs = this.compiled();
    const inputs = this.inputs(batch, programs, true);
    inputs.rowWeight = this.loss.rowWeights(batch.size, programs.batchSize);
    return { loss: await programs.train.step(inputs, lrFactor) };
  }

  async evaluationStep(batch: Batch): Promise<EvaluatedBatch> {
    return this.runEvaluation(batch, true);
  }

  async predictionStep(batch: Batch): Promise<EvaluatedBatch> {
    return this.runEvaluation(batch, false);
  }

  /** Converts the label of one row into the target for an output [1, ...] of an inferer. */
  protected targetRow(batch: Batch, row: number, outputShape: number[]): Float32Array | Int32Array {
    const data = this.labelField(batch);
    const shape = [1, ...(batch.shapes[this.labelKey] ?? [batch.size]).slice(1)];
    const perRow = data.length / batch.size;
    const label = {
      key: this.labelKey,
      data: data.subarray(row * perRow, (row + 1) * perRow),
      shape,
      size: 1,
    };
    return this.loss.prepareTarget(label, outputShape);
  }

  private async runEvaluation(batch: Batch, withLosses: boolean): Promise<EvaluatedBatch> {
    const programs = this.compiled();
    if (programs.inference) {
      const images = batch.fields[this.imageKey];
      const shape = batch.shapes[this.imageKey];
      if (!(images instanceof Float32Array) || !shape) {
        throw new UserError(`The batch has no f32 image field '${this.imageKey}' with a shape.`);
      }
      const target = withLosses
        ? (row: number, outputShape: number[]) => this.targetRow(batch, row, outputShape)
        : undefined;
      return programs.inference.run(batch, images, shape, target);
    }
    const { evaluate } = programs;
    const inputs = this.inputs(batch, programs, withLosses);
    for (const input of evaluate.graph.inputs) {
      // A prediction has no label: the loss target keeps whatever it held, and is not read.
      const data = inputs[input.name];
      if (data) evaluate.write(input.name, data);
    }
    evaluate.run();
    const outputValue = this.networkOutput(evaluate.graph);
    const perRow = numElements(programs.outputShape.slice(1));
    const output = (await evaluate.read(outputValue)).slice(0, batch.size * perRow);
    const losses: Record<string, Float32Array> = {};
    if (withLosses) {
      for (const [name, value] of programs.evaluationLosses) {
        losses[name] = (await evaluate.read(value)).slice(0, batch.size);
      }
    }
    const outputShape = [batch.size, ...programs.outputShape.slice(1)];
    return { batch, output, outputShape, losses };
  }

  summary(batchSize = 1): string {
    return formatSummary(summarise(this.network.toGraph(batchSize)));
  }

  async reset(seed: number): Promise<void> {
    const programs = this.programs;
    if (!programs) return;
    this.programs = undefined;
    await this.compile({ gpu: programs.gpu, batchSize: programs.batchSize, seed });
  }

  async readState(): Promise<Map<string, Float32Array>> {
    return this.compiled().train.readState();
  }

  readOptimizerState(): Promise<OptimizerState> {
    return this.compiled().train.readOptimizerState();
  }

  writeOptimizerState(state: OptimizerState): void {
    this.compiled().train.writeOptimizerState(state);
  }

  writeState(state: Map<string, Float32Array>): void {
    this.compiled().train.writeState(state);
  }

  stateShapes(): Map<string, number[]> {
    const values = this.compiled().train.compiled.graph.stateValues();
    return new Map(values.map((value) => [value.name!, [...value.shape]]));
  }

  get steps(): number {
    return this.compiled().train.steps;
  }

  set steps(value: number) {
    this.compiled().train.steps = value;
  }

  override networkSource(): string | undefined {
    return this.network.source;
  }

  override networkImports(): Record<string, string> {
    return this.network.imports();
  }

  release(): void {
    this.programs = undefined;
  }

  toJSON(): { name: string; [key: string]: unknown } {
    return {
      name: this.name,
      network: this.network.toJSON(),
      loss: this.loss.toJSON(),
      optimizer: this.optimizer,
      labelKey: this.labelKey,
      imageKey: this.imageKey,
      inferer: this.inferer ? infererToJSON(this.inferer) : null,
    };
  }
}
