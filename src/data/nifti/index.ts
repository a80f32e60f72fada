// NIfTI and Analyze reading and writing that runs in browsers and Node alike (no Node
// modules imported). Node code that reads or writes file paths imports './node.js' as well.

export { affineFromHeader, qformAffine, qformFromAffine, type AffineSource } from './affine.js';
export { DATATYPES, type Datatype, type WritableDatatype } from './datatypes.js';
export {
  DEFAULT_MAX_BYTES,
  decodeNifti,
  decodeNiftiHeader,
  type NonFinitePolicy,
  type ReadOptions,
  type VolumeInfo,
} from './decode.js';
export { encodeNifti, encodeNiftiChunks, type WriteOptions } from './encode.js';
export { parseHeader, type NiftiHeader } from './header.js';
export { reorientToRas } from './reorient.js';
export { ChunkReader, isGzip, type ByteSource } from './source.js';
export { bytesSource, niftiBlob, readNiftiBytes, type NiftiBytes } from './web.js';
