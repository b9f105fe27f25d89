"""PyTorch eager reference for bench/sae-train.ts: one SAE training step as SAELens computes it
(TopK: topk + ReLU + scatter; standard: ReLU with the decoder-norm-weighted L1), MSE summed over
d_in and averaged over tokens, backward, clip_grad_norm_(1.0), Adam, plus the per-step fired
counts SAELens's trainer keeps. Same shapes and thread count. Reads a JSON spec on stdin and
prints one JSON line per case."""
import json
import sys
import time

import torch


def median_ms(fn, rounds, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return times[len(times) // 2]


def make_step(arch, tokens, d_in, d_sae, k, l1):
    torch.manual_seed(0)
    x = torch.randn(tokens, d_in)
    w_dec = torch.randn(d_sae, d_in)
    w_dec = w_dec / w_dec.norm(dim=-1, keepdim=True) * 0.1
    W_dec = torch.nn.Parameter(w_dec)
    W_enc = torch.nn.Parameter(w_dec.T.clone().contiguous())
    b_enc = torch.nn.Parameter(torch.zeros(d_sae))
    b_dec = torch.nn.Parameter(torch.zeros(d_in))
    params = [W_enc, b_enc, W_dec, b_dec]
    opt = torch.optim.Adam(params, lr=3e-4)

    def step():
        hidden = (x - b_dec) @ W_enc + b_enc
        if arch == "topk":
            top = hidden.topk(k, dim=-1)
            acts = torch.zeros_like(hidden).scatter(-1, top.indices, top.values.relu())
        else:
            acts = hidden.relu()
        out = acts @ W_dec + b_dec
        loss = (out - x).pow(2).sum(-1).mean()
        if arch == "standard":
            loss = loss + l1 * (acts * W_dec.norm(dim=1)).sum(-1).mean()
        with torch.no_grad():
            (acts > 0).float().sum(0)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad()

    return step


def main():
    spec = json.load(sys.stdin)
    torch.set_num_threads(spec["threads"])
    for case in spec["cases"]:
        step = make_step(case["arch"], case["tokens"], case["d_in"], case["d_sae"], case.get("k", 32), case.get("l1", 5.0))
        ms = median_ms(step, spec["rounds"])
        print(json.dumps({
            "bench": "sae-train", "engine": "pytorch", "torch": torch.__version__, "threads": spec["threads"], **case,
            "ms_per_step": round(ms, 1), "tokens_per_s": round(case["tokens"] / ms * 1000),
        }), flush=True)


if __name__ == "__main__":
    main()
