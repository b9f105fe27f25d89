// Walking several equally-shaped strided views together, one row (last axis) at a time.
//
// Kernels call `next()` once per row and run a plain loop over the row, so the per-element cost
// is one multiply-add of offsets and no function calls. Axes of size 1 are dropped and adjacent
// axes that are contiguous in every operand are merged first, so a contiguous view becomes one
// long row: that is the contiguous fast path, with no separate code.

/** The layout part of a View: enough to locate element (i0, ..., in). */
export interface StridedLayout {
  readonly offset: number;
  readonly strides: readonly number[];
}

/** Row-major strides of a dense tensor of `shape`. */
export function denseStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = step;
    step *= shape[axis];
  }
  return strides;
}

/** Layout of a dense output written from offset 0. */
export function denseLayout(shape: readonly number[]): StridedLayout {
  return { offset: 0, strides: denseStrides(shape) };
}

export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const size of shape) count *= size;
  return count;
}

export class StridedRows {
  /** Number of rows to visit; call `next()` after each. */
  readonly rowCount: number;
  /** Elements per row. */
  readonly rowLength: number;
  /** Per operand: step between consecutive elements of a row. */
  readonly rowStrides: Float64Array;
  /** Per operand: offset of the current row's first element. */
  readonly offsets: Float64Array;

  private readonly outerSizes: number[];
  /** outerStrides[axis * operandCount + operand] */
  private readonly outerStrides: Float64Array;
  private readonly counters: Int32Array;
  private readonly operandCount: number;

  constructor(shape: readonly number[], operands: readonly StridedLayout[]) {
    const operandCount = operands.length;
    const sizes: number[] = [];
    const strides: number[][] = operands.map(() => []);
    for (let axis = 0; axis < shape.length; axis++) {
      const size = shape[axis];
      if (size === 1) continue;
      const last = sizes.length - 1;
      const mergeable = last >= 0 && operands.every(
        (op, k) => strides[k][last] === op.strides[axis] * size);
      if (mergeable) {
        sizes[last] *= size;
        for (let k = 0; k < operandCount; k++) strides[k][last] = operands[k].strides[axis];
      } else {
        sizes.push(size);
        for (let k = 0; k < operandCount; k++) strides[k].push(operands[k].strides[axis]);
      }
    }
    if (sizes.length === 0) {
      sizes.push(1);
      for (let k = 0; k < operandCount; k++) strides[k].push(0);
    }
    const innerAxis = sizes.length - 1;
    this.operandCount = operandCount;
    this.rowLength = sizes[innerAxis];
    this.outerSizes = sizes.slice(0, innerAxis);
    this.rowCount = elementCount(shape) === 0 ? 0 : elementCount(this.outerSizes);
    this.rowStrides = new Float64Array(operandCount);
    this.offsets = new Float64Array(operandCount);
    this.outerStrides = new Float64Array(innerAxis * operandCount);
    this.counters = new Int32Array(innerAxis);
    for (let k = 0; k < operandCount; k++) {
      this.rowStrides[k] = strides[k][innerAxis];
      this.offsets[k] = operands[k].offset;
      for (let axis = 0; axis < innerAxis; axis++) {
        this.outerStrides[axis * operandCount + k] = strides[k][axis];
      }
    }
  }

  /** Advance every operand's offset to the next row (odometer over the outer axes). */
  next(): void {
    const count = this.operandCount;
    for (let axis = this.outerSizes.length - 1; axis >= 0; axis--) {
      const base = axis * count;
      this.counters[axis]++;
      if (this.counters[axis] < this.outerSizes[axis]) {
        for (let k = 0; k < count; k++) this.offsets[k] += this.outerStrides[base + k];
        return;
      }
      const rewind = this.outerSizes[axis] - 1;
      this.counters[axis] = 0;
      for (let k = 0; k < count; k++) this.offsets[k] -= this.outerStrides[base + k] * rewind;
    }
  }
}
