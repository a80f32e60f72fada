// conv_wgrad_direct.wgsl without a bias gradient (see conv_wgrad_bias.wgsl).

const HAS_BIAS = false;

fn store_bias(split: u32, m0: u32, sums: array<f32, M_BLOCK>) {}
