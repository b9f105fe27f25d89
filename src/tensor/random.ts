// A seeded generator whose streams are identical on every platform and JS engine: xoshiro128**
// on 32-bit integer ops, Gaussian samples by Marsaglia's polar method (a Box–Muller variant)
// with a logarithm written here from IEEE basic operations — Math.log is implementation-defined
// in JS and may differ in the last bit between engines; +, *, / and sqrt may not.

const TWO_POW_32 = 4294967296;

function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;

  /** Seeds from a non-negative integer (up to 2^53); equal seeds give equal streams everywhere. */
  constructor(seed = 0) {
    let state = (seed >>> 0) ^ Math.imul(Math.floor(seed / TWO_POW_32) | 0, 0x27d4eb2d);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, word] = splitmix32(state);
      state = next;
      words.push(word);
    }
    [this.s0, this.s1, this.s2, this.s3] = words;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }

  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.next();
  }

  /** Uniform integer in [low, high), without modulo bias. */
  int(low: number, high: number): number {
    const range = high - low;
    if (range <= TWO_POW_32) {
      const limit = TWO_POW_32 - (TWO_POW_32 % range);
      let value = this.nextUint32();
      while (value >= limit) value = this.nextUint32();
      return low + (value % range);
    }
    return low + Math.floor(this.next() * range);
  }

  /** Standard normal sample. */
  normal(): number {
    if (this.spare !== null) {
      const value = this.spare;
      this.spare = null;
      return value;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const factor = Math.sqrt((-2 * ln(s)) / s);
    this.spare = v * factor;
    return u * factor;
  }

  /** The generator's full state, to resume a stream later with `Rng.fromState`. */
  getState(): number[] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0, this.spare ?? Number.NaN];
  }

  static fromState(state: readonly number[]): Rng {
    const rng = new Rng();
    [rng.s0, rng.s1, rng.s2, rng.s3] = state.map((w) => w | 0);
    rng.spare = Number.isNaN(state[4]) ? null : state[4];
    return rng;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const LN2_HI = 6.93147180369123816490e-1; // ln 2 with trailing zero bits, so e * LN2_HI is exact
const LN2_LO = 1.90821492927058770002e-10;
const bits = new DataView(new ArrayBuffer(8));

/** Natural log of a positive finite x from +, *, / only: x = 2^e * m, ln m = 2 atanh((m-1)/(m+1)). */
export function ln(x: number): number {
  let e = 0;
  if (x < 2.2250738585072014e-308) {
    x *= 18014398509481984; // 2^54: lift subnormals into the normal range
    e = -54;
  }
  bits.setFloat64(0, x);
  const hi = bits.getUint32(0);
  e += ((hi >>> 20) & 0x7ff) - 1023;
  bits.setUint32(0, (hi & 0x800fffff) | 0x3ff00000);
  let m = bits.getFloat64(0);
  if (m > Math.SQRT2) {
    m /= 2;
    e += 1;
  }
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  // |s| < 0.1716, so s^25 / 25 is below 2^-66 relative: the series has converged in float64.
  let term = s;
  let series = 0;
  for (let k = 1; k <= 25; k += 2) {
    series += term / k;
    term *= s2;
  }
  return e * LN2_HI + (e * LN2_LO + 2 * series);
}

let defaultRng = new Rng(0);

/** The generator random creation functions use when given neither `seed` nor `rng`. */
export function globalRng(): Rng {
  return defaultRng;
}

/** Restarts the global generator from a seed. */
export function manualSeed(seed: number): void {
  defaultRng = new Rng(seed);
}
