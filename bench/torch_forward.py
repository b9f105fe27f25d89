"""PyTorch eager reference for bench/forward.ts: Hugging Face GPT2LMHeadModel (GPT-2 small config,
random init) on the same input shapes and thread count. Prints one JSON line per case."""
import json
import sys
import time

import torch
from transformers import GPT2Config, GPT2LMHeadModel

CASES = [(1, 64), (4, 256)]


def median_ms(fn, rounds, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return times[len(times) // 2]


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(attn_implementation="eager")).eval()
    for batch, seq in CASES:
        ids = torch.randint(0, 50257, (batch, seq))
        with torch.no_grad():
            ms = median_ms(lambda: model(ids, use_cache=False), rounds)
        print(json.dumps({"bench": "forward", "engine": "pytorch", "model": "gpt2-small", "threads": threads,
                          "batch": batch, "seq": seq, "ms": round(ms, 2), "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
