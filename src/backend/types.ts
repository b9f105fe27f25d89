// The Backend interface: buffers plus the primitive kernels everything else is composed from.
//
// Three implementations: `ref` (plain TS, the oracle every fast kernel is tested against; it also
// computes in float64 for finite-difference gradient checks), `wasm` (SIMD128, threads on shared
// memory, runs in Node and browsers) and `native` (N-API AVX2/FMA, Node only).
//
// Contract shared by all kernels:
// - Kernels never allocate their outputs: the caller passes `out` storages of the right dtype and
//   length (the tensor layer does this). Outputs are written densely (row-major, offset 0) unless
//   the argument is a `View`.
// - Inputs described by `View` may have any strides, including 0 (broadcast) and non-contiguous
//   permutations. Inputs described as `Storage` plus sizes are dense row-major from offset 0.
// - Shapes have already been validated by the tensor layer; kernels do not re-check them.
// - A fast backend may serve any kernel (or any unusual layout) with plain-TS code operating on
//   the same typed arrays; results must match `ref` within float32 rounding.

export type DType = 'float32' | 'float64' | 'int32';
export type FloatArray = Float32Array | Float64Array;
export type DataArray = Float32Array | Float64Array | Int32Array;

export type BackendName = 'ref' | 'wasm' | 'native';

/** A block of elements owned by a backend. Freed with `backend.free`. */
export interface Storage {
  readonly dtype: DType;
  /** Number of elements. */
  readonly length: number;
  /**
   * Typed-array view of exactly `length` elements. A getter: on wasm the view is re-created when
   * the wasm memory grows, so never cache it across an allocation.
   */
  readonly data: DataArray;
  /** The backend that owns it. */
  readonly backend: BackendName;
}

/** Element (i0, ..., in) lives at `offset + Σ i_k * strides[k]` of `storage.data`. */
export interface View {
  readonly storage: Storage;
  readonly offset: number;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
}

/**
 * One operand of a batched matmul: `batch` matrices of `rows × cols`. Element (b, i, j) lives at
 * `offset + b*batchStride + i*rowStride + j*colStride`. The tensor layer guarantees that
 * rowStride === 1 or colStride === 1 (a transposed operand has rowStride 1), and batchStride may
 * be 0 (the same matrix for every batch entry).
 */
export interface MatrixView {
  readonly storage: Storage;
  readonly offset: number;
  readonly batchStride: number;
  readonly rowStride: number;
  readonly colStride: number;
}

export type UnaryOp =
  | 'neg' | 'abs' | 'sign' | 'square' | 'sqrt' | 'rsqrt' | 'reciprocal'
  | 'exp' | 'log' | 'sin' | 'cos' | 'tanh' | 'erf' | 'sigmoid' | 'relu' | 'silu'
  | 'gelu_erf' | 'gelu_tanh'
  // Derivatives used by autograd (d/dx of the op, evaluated at x): one kernel instead of five.
  | 'step' | 'silu_grad' | 'gelu_erf_grad' | 'gelu_tanh_grad';

export const UNARY_OPS: readonly UnaryOp[] = [
  'neg', 'abs', 'sign', 'square', 'sqrt', 'rsqrt', 'reciprocal', 'exp', 'log', 'sin', 'cos', 'tanh',
  'erf', 'sigmoid', 'relu', 'silu', 'gelu_erf', 'gelu_tanh', 'step', 'silu_grad', 'gelu_erf_grad',
  'gelu_tanh_grad',
];

/** Comparison ops produce 1 or 0 in the output dtype. */
export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'max' | 'min'
  | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

export const BINARY_OPS: readonly BinaryOp[] = [
  'add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'eq', 'ne', 'lt', 'le', 'gt', 'ge',
];

/** argmax/argmin write int32 indices; the others write the input's dtype. */
export type ReduceOp = 'sum' | 'max' | 'min' | 'argmax' | 'argmin' | 'logsumexp';

export const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'max', 'min', 'argmax', 'argmin', 'logsumexp'];

/**
 * A dense tensor seen as [outer, n, inner], reduced / scanned along n. Any single axis of any
 * contiguous tensor maps onto this: outer = product of dims before, inner = product after.
 */
export interface AxisLayout {
  readonly outer: number;
  readonly n: number;
  readonly inner: number;
}

/**
 * Causal masking for softmax over rows of attention scores laid out [..., queryLen, n]:
 * row r is query q = r % queryLen, and key j is kept iff j <= q + offset (offset = number of
 * cached positions before the first query, for KV-cached generation).
 */
export interface CausalMask {
  readonly queryLen: number;
  readonly offset: number;
}

export type RotaryLayout = 'half' | 'interleaved';

export interface Backend {
  readonly name: BackendName;
  /** Threads the fast kernels use (1 for ref). */
  readonly threads: number;

  // ---- memory ----
  /** New storage of `length` elements, zero-filled. Backed by a pool: freed buffers are reused. */
  alloc(dtype: DType, length: number): Storage;
  free(storage: Storage): void;
  /** Buffers allocated and not yet freed (pool contents not counted): for leak tests. */
  liveBuffers(): number;
  liveBytes(): number;
  /** Release pooled memory and worker threads. The backend must not be used afterwards. */
  dispose(): void;

  // ---- data movement ----
  /** dst[idx] = cast(src[idx]) for every index of the (equal) shapes; views may overlap only if identical. */
  copy(src: View, dst: View): void;
  /** Set `length` elements from `offset` to `value`. */
  fill(dst: Storage, value: number, offset: number, length: number): void;

  // ---- elementwise ----
  /** out (dense, x.shape) = op(x). */
  unary(op: UnaryOp, x: View, out: Storage): void;
  /** out (dense, shape of a and b, which are already broadcast to it) = a op b. */
  binary(op: BinaryOp, a: View, b: View, out: Storage): void;
  /** out = scalarOnLeft ? scalar op x : x op scalar. */
  binaryScalar(op: BinaryOp, x: View, scalar: number, scalarOnLeft: boolean, out: Storage): void;
  /** out = cond != 0 ? a : b (all three broadcast to out's shape). */
  where(cond: View, a: View, b: View, out: Storage): void;

  // ---- reductions and scans over one axis of a dense tensor ----
  /** out has outer*inner elements. */
  reduce(op: ReduceOp, x: Storage, layout: AxisLayout, out: Storage): void;
  /** Inclusive cumulative sum along n (reverse: from the end). out has x's length. */
  cumsum(x: Storage, layout: AxisLayout, reverse: boolean, out: Storage): void;
  /** Largest (or smallest) k along the last axis of dense [rows, n], sorted; ties: lower index first. */
  topk(x: Storage, rows: number, n: number, k: number, largest: boolean, values: Storage, indices: Storage): void;

  // ---- fused neural-net primitives over dense rows of the last axis ----
  /**
   * Numerically stable (max-subtracted) softmax or log-softmax over dense [rows, n]. Masked
   * positions get probability 0 (log-softmax: -Infinity). A row with every key masked is all 0.
   */
  softmax(x: Storage, rows: number, n: number, log: boolean, causal: CausalMask | null, out: Storage): void;
  /**
   * out = (x - mean) * rstd * weight + bias over dense [rows, d]. weight/bias may be null.
   * mean and rstd (length rows) are written when given, for the backward pass.
   */
  layerNorm(x: Storage, rows: number, d: number, weight: Storage | null, bias: Storage | null, eps: number,
    out: Storage, mean: Storage | null, rstd: Storage | null): void;
  /**
   * out = x * rstd * (weightOffset + weight), rstd = 1/sqrt(mean(x²) + eps), over dense [rows, d].
   * weightOffset is 1 for Gemma's (1 + w) convention, else 0. rstd is written when given.
   */
  rmsNorm(x: Storage, rows: number, d: number, weight: Storage | null, weightOffset: number, eps: number,
    out: Storage, rstd: Storage | null): void;
  /**
   * Rotary position embedding on dense x [batch, pos, heads, headDim]; only the first rotaryDim
   * features of each head rotate, the rest are copied. cos/sin are dense [batch, pos, rotaryDim/2]
   * (per-row positions, so left padding works). 'half' pairs feature i with i + rotaryDim/2
   * (GPT-NeoX, Llama); 'interleaved' pairs 2i with 2i+1 (GPT-J). inverse rotates by -angle (the
   * backward pass).
   */
  rotary(x: Storage, batch: number, pos: number, heads: number, headDim: number, rotaryDim: number,
    cos: Storage, sin: Storage, layout: RotaryLayout, inverse: boolean, out: Storage): void;

  // ---- linear algebra ----
  /** out (dense [batch, m, n]) = a [batch, m, k] @ b [batch, k, n]; accumulate adds into out. */
  matmul(a: MatrixView, b: MatrixView, batch: number, m: number, k: number, n: number,
    out: Storage, accumulate: boolean): void;

  // ---- indexing ----
  /** out [outer, ids.length, inner] = x [outer, n, inner] at ids along n. Ids are already range-checked. */
  indexSelect(x: Storage, layout: AxisLayout, ids: Storage, out: Storage): void;
  /** out [outer, n, inner] += src [outer, ids.length, inner] scattered to ids along n (repeats add). */
  indexAdd(src: Storage, layout: AxisLayout, ids: Storage, out: Storage): void;
}
