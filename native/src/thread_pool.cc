// Compiled without -mavx2: it must run (and fail gracefully elsewhere) on any x86-64.
#include "thread_pool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
static inline void cpu_relax() { _mm_pause(); }
#else
static inline void cpu_relax() {}
#endif

namespace dissect {

namespace {

using Clock = std::chrono::steady_clock;

// Waiting threads pause-spin briefly, then yield the core: on an oversubscribed machine the
// thread they wait for may need exactly the core a spinning waiter would burn (OpenBLAS's
// waits yield for the same reason).
constexpr int kPauseSpins = 256;
// After a job, helpers stay awake this long before sleeping on the condition variable: long
// enough to catch the next kernel of a forward pass without a futex wake-up.
constexpr auto kIdleSpin = std::chrono::microseconds(200);

/** Spins (pause, then sched_yield) until done() holds. */
template <typename Done>
void wait_until(Done done) {
  for (int spin = 0; !done(); spin++) {
    if (spin < kPauseSpins) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
}

struct Scratch {
  float* data = nullptr;
  size_t bytes = 0;
};
}  // namespace

// Job protocol (a seqlock, so the caller never waits for a helper that has not started):
// the caller writes the job fields, then makes `generation` odd (open). Helpers that see an odd
// generation register in `readers`, re-check that the job is still open, and claim tasks from
// `next_task`. The caller claims tasks too; once `tasks_done` reaches `tasks` it makes
// `generation` even (closed) and waits only for registered readers, which by then have no task
// left to take. A helper that was descheduled (2 cores shared with other processes) therefore
// costs nothing unless it already holds a task.
struct ThreadPool {
  int threads = 1;
  std::vector<std::thread> workers;
  std::vector<Scratch> scratch;

  TaskFn run = nullptr;
  void* ctx = nullptr;
  int tasks = 0;
  std::atomic<int> next_task{0};
  std::atomic<int> tasks_done{0};
  std::atomic<int> readers{0};

  std::atomic<unsigned> generation{0};  // odd while a job is open
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::condition_variable wake;
  std::atomic<int> sleepers{0};
};

namespace {

/** Runs tasks until none are left, then counts them as done. */
void drain(ThreadPool* pool, int worker) {
  int done = 0;
  for (;;) {
    int task = pool->next_task.fetch_add(1, std::memory_order_relaxed);
    if (task >= pool->tasks) break;
    pool->run(pool->ctx, task, worker);
    done++;
  }
  if (done) pool->tasks_done.fetch_add(done, std::memory_order_release);
}

bool is_open(unsigned generation) { return generation & 1u; }

void worker_main(ThreadPool* pool, int worker) {
  unsigned seen = 0;
  for (;;) {
    // Wait for a job this worker has not looked at yet: spin for a while, then sleep.
    unsigned current = pool->generation.load(std::memory_order_acquire);
    auto fresh = [&] { return current != seen && is_open(current); };
    const Clock::time_point give_up = Clock::now() + kIdleSpin;
    for (int spin = 0; !fresh(); spin++) {
      if (spin < kPauseSpins) {
        cpu_relax();
      } else {
        if (Clock::now() > give_up) break;
        std::this_thread::yield();
      }
      current = pool->generation.load(std::memory_order_acquire);
    }
    if (current == seen || !is_open(current)) {
      std::unique_lock<std::mutex> lock(pool->mutex);
      pool->sleepers.fetch_add(1, std::memory_order_seq_cst);
      pool->wake.wait(lock, [&] {
        unsigned g = pool->generation.load(std::memory_order_seq_cst);
        return (g != seen && is_open(g)) || pool->stopping.load(std::memory_order_acquire);
      });
      pool->sleepers.fetch_sub(1, std::memory_order_relaxed);
      current = pool->generation.load(std::memory_order_acquire);
    }
    if (pool->stopping.load(std::memory_order_acquire)) return;
    seen = current;
    if (!is_open(current)) continue;
    pool->readers.fetch_add(1, std::memory_order_seq_cst);
    if (pool->generation.load(std::memory_order_seq_cst) == current) drain(pool, worker);
    pool->readers.fetch_sub(1, std::memory_order_release);
  }
}

}  // namespace

ThreadPool* pool_create(int threads) {
  auto* pool = new ThreadPool();
  pool->threads = threads < 1 ? 1 : threads;
  pool->scratch.resize(pool->threads);
  for (int w = 1; w < pool->threads; w++) pool->workers.emplace_back(worker_main, pool, w);
  return pool;
}

void pool_destroy(ThreadPool* pool) {
  {
    std::lock_guard<std::mutex> lock(pool->mutex);
    pool->stopping.store(true, std::memory_order_release);
  }
  pool->wake.notify_all();
  for (auto& t : pool->workers) t.join();
  for (auto& s : pool->scratch) std::free(s.data);
  delete pool;
}

int pool_threads(const ThreadPool* pool) { return pool->threads; }

void pool_run(ThreadPool* pool, int tasks, TaskFn run, void* ctx) {
  if (tasks <= 1 || pool->threads == 1) {
    for (int t = 0; t < tasks; t++) run(ctx, t, 0);
    return;
  }
  // The previous job is closed and has no readers, so no helper reads these while they change.
  pool->run = run;
  pool->ctx = ctx;
  pool->tasks = tasks;
  pool->next_task.store(0, std::memory_order_relaxed);
  pool->tasks_done.store(0, std::memory_order_relaxed);
  pool->generation.fetch_add(1, std::memory_order_seq_cst);  // open
  // seq_cst pairs with the sleeper count: either a worker registered as sleeping before the
  // bump (and is notified here) or its wait predicate sees the new generation.
  if (pool->sleepers.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lock(pool->mutex);
    pool->wake.notify_all();
  }
  drain(pool, 0);
  wait_until([&] { return pool->tasks_done.load(std::memory_order_acquire) >= tasks; });
  pool->generation.fetch_add(1, std::memory_order_seq_cst);  // closed
  wait_until([&] { return pool->readers.load(std::memory_order_seq_cst) == 0; });
}

float* pool_scratch(ThreadPool* pool, int worker, size_t bytes) {
  Scratch& s = pool->scratch[worker];
  if (s.bytes < bytes) {
    std::free(s.data);
    size_t rounded = (bytes + 63) / 64 * 64;
    s.data = static_cast<float*>(std::aligned_alloc(64, rounded));
    s.bytes = s.data ? rounded : 0;
  }
  return s.data;
}

}  // namespace dissect
