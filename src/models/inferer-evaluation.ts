// Evaluation through an Inferer (whole image, patches or slices): the network runs at the
// inferer's batch size on the trained weights, and each sample's loss is computed on the
// reassembled output by a small loss program compiled per output shape.

import type { Batch } from '../data/batch.js';
import { UserError } from '../errors.js';
import { Graph, numElements, type Value } from '../graph/ir.js';
import type { ForwardFunction } from '../inference/common.js';
import { programForward } from '../inference/program.js';
import { compileGraph, type CompiledGraph } from '../kernels/compile.js';
import type { LossConfig } from '../losses/loss.js';
import type { Gpu } from '../runtime/gpu.js';
import { inferVolumes, type Inferer } from './inferers.js';
import type { EvaluatedBatch } from './model.js';

/** Converts the label of one batch row into the loss target for an output of shape [1, ...]. */
export type RowTarget = (row: number, outputShape: number[]) => Float32Array | Int32Array;

interface LossProgram {
  compiled: CompiledGraph;
  perRow: Map<string, Value>;
}

export class InfererEvaluation {
  private readonly lossPrograms = new Map<string, LossProgram>();

  constructor(
    private readonly gpu: Gpu,
    private readonly inferer: Inferer,
    private readonly forward: ForwardFunction,
    private readonly losses: Record<string, LossConfig>,
  ) {}

  /** Compiles the network at the inferer's batch size, sharing `weights`' parameters. */
  static async compile(
    gpu: Gpu,
    inferer: Inferer,
    graph: Graph,
    weights: CompiledGraph,
    losses: Record<string, LossConfig>,
  ): Promise<InfererEvaluation> {
    const compiled = await compileGraph(gpu, graph, {
      name: 'inferer forward',
      training: false,
      shareStateWith: weights,
    });
    const input = graph.inputs[0]!.name;
    const output = graph.outputs[0]!.name;
    return new InfererEvaluation(gpu, inferer, programForward(compiled, input, output), losses);
  }

  /** Runs the inferer over the batch's images; with `target`, adds per-sample losses. */
  async run(
    batch: Batch,
    images: Float32Array,
    imageShape: readonly number[],
    target?: RowTarget,
  ): Promise<EvaluatedBatch> {
    const sampleShape = imageShape.slice(1);
    const perSample = numElements(sampleShape);
    const volumes = Array.from({ length: batch.size }, (_, row) => ({
      data: images.subarray(row * perSample, (row + 1) * perSample),
      shape: sampleShape,
    }));
    const outputs = await inferVolumes(this.inferer, this.forward, volumes);
    const outputShape = [batch.size, ...outputs[0]!.shape];
    const output = new Float32Array(numElements(outputShape));
    outputs.forEach((volume, row) => output.set(volume.data, row * volume.data.length));
    const losses: Record<string, Float32Array> = {};
    if (target) {
      for (const name of Object.keys(this.losses)) losses[name] = new Float32Array(batch.size);
      for (const [row, volume] of outputs.entries()) {
        const shape = [1, ...volume.shape];
        const values = await this.rowLosses(volume.data, shape, target(row, shape));
        for (const [name, value] of values) losses[name]![row] = value;
      }
    }
    return { batch, output, outputShape, losses };
  }

  private async rowLosses(
    output: Float32Array,
    shape: number[],
    target: Float32Array | Int32Array,
  ) {
    const program = await this.lossProgram(shape);
    program.compiled.write('output', output);
    program.compiled.write('target', target);
    program.compiled.run();
    const values = new Map<string, number>();
    for (const [name, value] of program.perRow) {
      values.set(name, (await program.compiled.read(value))[0]!);
    }
    return values;
  }

  private async lossProgram(shape: number[]): Promise<LossProgram> {
    const key = shape.join();
    const cached = this.lossPrograms.get(key);
    if (cached) return cached;
    const entries = Object.entries(this.losses);
    const first = entries[0]?.[1];
    if (!first) throw new UserError('The model has no loss to evaluate.');
    const graph = new Graph();
    const output = graph.addInput('output', shape);
    const spec = first.targetSpec(shape);
    const target = graph.addInput('target', spec.shape, spec.dtype);
    const perRow = new Map<string, Value>();
    for (const [name, loss] of entries) perRow.set(name, loss.appendPerRow(graph, output, target));
    const keep = [...perRow.values()];
    const compiled = await compileGraph(this.gpu, graph, { name: 'inferer losses', keep });
    const program = { compiled, perRow };
    this.lossPrograms.set(key, program);
    return program;
  }
}
