// Shared by every kernel file: SIMD intrinsics, the export attribute, and how a kernel splits its
// work between threads.
//
// Threading contract: every exported kernel takes (tid, nthreads) first. The TS side calls the same
// kernel with the same arguments on every thread (thread 0 is the caller); each call computes only
// its own share, chosen here, so no thread ever waits for another inside a kernel.

#ifndef DISSECT_COMMON_H
#define DISSECT_COMMON_H

#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))
#define INLINE static inline __attribute__((always_inline))

typedef v128_t f32x4;

INLINE int min_int(int a, int b) { return a < b ? a : b; }
INLINE int max_int(int a, int b) { return a > b ? a : b; }

/** Thread `tid`'s share [*begin, *end) of `count` items, cut at multiples of `grain`. */
INLINE void thread_range(int tid, int nthreads, int count, int grain, int *begin, int *end) {
  int units = (count + grain - 1) / grain;
  int lo = (int)((int64_t)units * tid / nthreads) * grain;
  int hi = (int)((int64_t)units * (tid + 1) / nthreads) * grain;
  *begin = min_int(lo, count);
  *end = min_int(hi, count);
}

INLINE float hsum(f32x4 v) {
  f32x4 pairs = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  return wasm_f32x4_extract_lane(pairs, 0) + wasm_f32x4_extract_lane(pairs, 1);
}

INLINE float hmax(f32x4 v) {
  f32x4 pairs = wasm_f32x4_max(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  f32x4 all = wasm_f32x4_max(pairs, wasm_i32x4_shuffle(pairs, pairs, 1, 0, 3, 2));
  return wasm_f32x4_extract_lane(all, 0);
}

#endif
