// Safetensors: the public surface of the reader (file, memory, sharded) and the writer. Node-only
// entry points are safetensors-file/-sharded/-write; the browser can import safetensors-bytes and
// safetensors-serialize directly.

export { SAFETENSORS_DTYPES, DTYPE_BYTES, decodeTensorBytes, encodeTensorBytes } from './safetensors-dtypes.js';
export type { SafetensorsDType, DecodedArray, EncodableArray } from './safetensors-dtypes.js';
export { MAX_HEADER_BYTES, parseHeader, readHeaderLength } from './safetensors-header.js';
export type { TensorInfo, SafetensorsHeader } from './safetensors-header.js';
export type { TensorSource, LoadedTensor } from './tensor-source.js';
export { openSafetensorsBytes, SafetensorsBytes } from './safetensors-bytes.js';
export { openSafetensors, SafetensorsFile } from './safetensors-file.js';
export { openSafetensorsIndex, openCheckpoint, parseShardIndex, ShardedSafetensors, SINGLE_FILE, INDEX_FILE } from './safetensors-sharded.js';
export { planSafetensors, serializeSafetensors } from './safetensors-serialize.js';
export type { TensorToWrite, SafetensorsPlan } from './safetensors-serialize.js';
export { writeSafetensors } from './safetensors-write.js';
export { writeAtomically } from './atomic-write.js';
