// Helpers for splitting a kernel over the thread pool. Include only from kernel translation units:
// the templates instantiate per lambda type, so nothing here is shared (ODR-merged) with code
// compiled without -mavx2.
#pragma once

#include <cstdint>

#include "thread_pool.h"

namespace dissect {

/**
 * Below this much work (elements, weighted by the caller for costly ops) a kernel stays on the
 * calling thread: a memory-bound add of 128K floats takes ~20 µs, where waking a helper and
 * moving the data to its cache would eat most of the gain.
 */
constexpr int64_t kParallelElements = 1 << 17;

template <typename Body>
void run_tasks(ThreadPool* pool, int tasks, Body& body) {
  pool_run(pool, tasks, [](void* ctx, int task, int worker) { (*static_cast<Body*>(ctx))(task, worker); },
           &body);
}

/**
 * body(begin, end) over [0, count) cut into one contiguous chunk per thread (chunks are multiples
 * of `align`), or one call on this thread when `work` is below the threshold.
 */
template <typename Body>
void parallel_ranges(ThreadPool* pool, int64_t count, int64_t work, int64_t align, Body body) {
  int threads = pool_threads(pool);
  if (threads == 1 || work < kParallelElements || count <= align) {
    body(int64_t{0}, count);
    return;
  }
  int64_t chunk = (count + threads - 1) / threads;
  chunk = (chunk + align - 1) / align * align;
  int tasks = static_cast<int>((count + chunk - 1) / chunk);
  auto task = [&](int t, int) {
    int64_t begin = t * chunk;
    int64_t end = begin + chunk < count ? begin + chunk : count;
    body(begin, end);
  };
  run_tasks(pool, tasks, task);
}

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

}  // namespace dissect
