// A persistent pool of worker threads for the kernels. The calling (JS) thread takes part in every
// job as worker 0, so a pool of `threads` runs threads - 1 std::threads. Workers spin briefly after
// a job before sleeping on a condition variable: back-to-back kernels (a forward pass) then start
// without a futex wake-up, while an idle process does not burn a core.
#pragma once

#include <cstddef>

namespace dissect {

/** One job: run(ctx, task, worker) for every task in [0, tasks). `worker` indexes per-thread scratch. */
using TaskFn = void (*)(void* ctx, int task, int worker);

struct ThreadPool;

ThreadPool* pool_create(int threads);
/** Joins the workers. The pool must be idle (kernels are synchronous, so it always is between calls). */
void pool_destroy(ThreadPool* pool);
int pool_threads(const ThreadPool* pool);

/**
 * Runs every task, spread over min(tasks, threads) threads (tasks are taken from a shared counter,
 * so uneven tasks balance). Returns when all are done. With one task or one thread it is a plain
 * loop on the calling thread.
 */
void pool_run(ThreadPool* pool, int tasks, TaskFn run, void* ctx);

/**
 * Scratch memory of at least `bytes` for `worker`, 64-byte aligned, kept between calls (GEMM
 * packing buffers). Valid until the next call with a larger size for the same worker.
 */
float* pool_scratch(ThreadPool* pool, int worker, size_t bytes);

}  // namespace dissect
