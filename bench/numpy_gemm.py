"""numpy `a @ b` on the GEMM benchmark's cases, as JSON lines like bench/gemm.ts prints.

Run by bench/gemm.ts for the comparison (python3 bench/numpy_gemm.py [threads ...]). Thread counts
are set with threadpoolctl when installed; otherwise each count runs in a child process with
OPENBLAS_NUM_THREADS (and the OpenBLAS tuning variables the workplace sets removed, so the library
picks its own kernel for this CPU).
"""

import json
import os
import subprocess
import sys
import time

import numpy as np

# (batch, m, k, n), the same list as CASES in bench/gemm.ts.
CASES = [
    (1, 128, 768, 3072),
    (1, 128, 3072, 768),
    (1, 512, 768, 768),
    (1, 1, 768, 50257),
    (12, 128, 64, 128),
]
MIN_SECONDS = 0.15
ROUNDS = 5


def best_seconds(fn):
    """Best per-call time over ROUNDS rounds of at least MIN_SECONDS each (robust to noise)."""
    fn()
    fn()
    best = float("inf")
    for _ in range(ROUNDS):
        calls = 0
        start = time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= MIN_SECONDS:
                break
        best = min(best, elapsed / calls)
    return best


def measure(threads):
    rng = np.random.default_rng(0)
    for batch, m, k, n in CASES:
        for trans_b in (False, True):
            shape_a = (batch, m, k) if batch > 1 else (m, k)
            a = rng.standard_normal(shape_a, dtype=np.float32)
            if trans_b:
                stored = rng.standard_normal((batch, n, k) if batch > 1 else (n, k), dtype=np.float32)
                b = np.swapaxes(stored, -1, -2)
            else:
                b = rng.standard_normal((batch, k, n) if batch > 1 else (k, n), dtype=np.float32)
            seconds = best_seconds(lambda: a @ b)
            print(json.dumps({
                "bench": "gemm", "backend": "numpy", "threads": threads, "batch": batch, "m": m, "k": k,
                "n": n, "transB": trans_b, "gflops": round(2 * batch * m * k * n / seconds / 1e9, 2),
            }), flush=True)


def main():
    counts = [int(arg) for arg in sys.argv[1:]] or [1, 2]
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if os.environ.get("DISSECT_NUMPY_CHILD"):
        measure(counts[0])
        return
    for threads in counts:
        if threadpool_limits is not None:
            with threadpool_limits(limits=threads):
                measure(threads)
            continue
        env = {key: value for key, value in os.environ.items()
               if key not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
        env.update(OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads), DISSECT_NUMPY_CHILD="1")
        subprocess.run([sys.executable, __file__, str(threads)], env=env, check=True)


if __name__ == "__main__":
    main()
