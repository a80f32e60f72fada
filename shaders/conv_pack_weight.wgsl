// Packs a convolution's weights into the table that conv_weight_packed.wgsl reads: element
// (row, m) with row = (group, input channel c of the group, tap) and m < ROW_LENGTH (equal to
// GROUP_OUT) holds the weight of output channel m of the group. With TRANSPOSED_WEIGHT the
// table serves the input gradient computed as a forward convolution of dy: `weight` is the
// original convolution's, read with input and output channels swapped and the taps reversed.
// Concatenated with conv_geometry.wgsl, whose constants describe the convolution that reads
// the table.

@group(0) @binding(0) var<storage, read> weight: array<f32>;
@group(0) @binding(1) var<storage, read_write> packed: array<f32>;

const ROW_LENGTH = {{ROW_LENGTH}};
const TRANSPOSED_WEIGHT = {{TRANSPOSED_WEIGHT}};
const COUNT = (OUT_CHANNELS / GROUP_OUT) * GROUP_IN * KERNEL_VOLUME * ROW_LENGTH;

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let index = linear_workgroup(wid, nwg) * 64u + lid;
  if (index >= COUNT) { return; }
  let m = index % ROW_LENGTH;
  let row = index / ROW_LENGTH;
  let tap = row % KERNEL_VOLUME;
  let c = (row / KERNEL_VOLUME) % GROUP_IN;
  let group = row / (KERNEL_VOLUME * GROUP_IN);
  // The original convolution's weight is [groups x GROUP_IN, GROUP_OUT, taps] when transposed.
  var source = ((group * GROUP_OUT + m) * GROUP_IN + c) * KERNEL_VOLUME + tap;
  if (TRANSPOSED_WEIGHT) {
    source = ((group * GROUP_IN + c) * GROUP_OUT + m) * KERNEL_VOLUME + KERNEL_VOLUME - 1u - tap;
  }
  packed[index] = weight[source];
}
