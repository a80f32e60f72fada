// WebGPU's flag values, fixed by the WebGPU specification. Used instead of the GPUBufferUsage,
// GPUShaderStage and GPUMapMode globals, which Node has only after Dawn's binding is loaded.

export const BufferUsage = {
  MAP_READ: 0x0001,
  MAP_WRITE: 0x0002,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
  QUERY_RESOLVE: 0x0200,
} as const;

export const ShaderStage = { COMPUTE: 0x4 } as const;

export const MapMode = { READ: 0x0001 } as const;

/**
 * The usage of tensors: bound as storage, copied in and out, and bound as a uniform buffer
 * (the packed convolution weights of conv_weight_packed.wgsl).
 */
export const STORAGE_USAGE =
  BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST | BufferUsage.UNIFORM;
