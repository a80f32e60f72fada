// Initialisation specs of params and buffers. They live apart from init.ts (the generator), so
// layers can describe initialisation without importing the random number code.

export type InitSpec =
  /** Every element equal to `value`. */
  | { kind: 'constant'; value: number }
  /** U(low, high). */
  | { kind: 'uniform'; low: number; high: number }
  /** N(mean, std²). */
  | { kind: 'normal'; mean: number; std: number }
  /** N(mean, std²) redrawn until inside [low, high], as torch.nn.init.trunc_normal_. */
  | { kind: 'truncatedNormal'; mean: number; std: number; low: number; high: number }
  /**
   * torch.nn.init.kaiming_uniform_ with leaky_relu gain: U(-b, b) with
   * b = sqrt(2 / (1 + a²)) * sqrt(3 / fanIn). PyTorch's conv and linear weights use a = √5.
   */
  | { kind: 'kaimingUniform'; a: number; fanIn: number }
  /** torch.nn.init.xavier_uniform_: U(-b, b) with b = gain * sqrt(6 / (fanIn + fanOut)). */
  | { kind: 'xavierUniform'; gain: number; fanIn: number; fanOut: number };

/** Fan-in of a weight in PyTorch layout: `shape[1] * prod(shape[2:])` (torch's rule). */
export function fanIn(shape: readonly number[]): number {
  let receptive = 1;
  for (let axis = 2; axis < shape.length; axis++) receptive *= shape[axis];
  return (shape.length > 1 ? shape[1] : shape[0]) * receptive;
}

/** Fan-out of a weight in PyTorch layout: `shape[0] * prod(shape[2:])`. */
export function fanOut(shape: readonly number[]): number {
  let receptive = 1;
  for (let axis = 2; axis < shape.length; axis++) receptive *= shape[axis];
  return shape[0] * receptive;
}

/** PyTorch's default conv/linear weight init: kaiming_uniform_(a=√5). */
export function defaultWeightInit(shape: readonly number[]): InitSpec {
  return { kind: 'kaimingUniform', a: Math.sqrt(5), fanIn: fanIn(shape) };
}

/** PyTorch's default conv/linear bias init: U(-1/√fanIn, 1/√fanIn), fanIn of the weight. */
export function defaultBiasInit(weightShape: readonly number[]): InitSpec {
  const bound = 1 / Math.sqrt(fanIn(weightShape));
  return { kind: 'uniform', low: -bound, high: bound };
}
