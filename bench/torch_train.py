"""PyTorch reference for bench/train.ts: one organism recipe's training step in PyTorch eager —
transformers' LlamaForCausalLM built from the recipe's config.json, the same batch and sequence
length, AdamW (betas 0.9/0.95, eps 1e-8, weight decay on matrices only, frozen tensors left out),
global gradient-norm clipping, same thread count. Tokens are random ids (the step's cost does not
depend on which ids). Reports the median wall time of a step and its CPU time (all threads; on a
shared machine the wall time depends on the load, the CPU time much less). Reads {"name", "config", "batch", "seq", "weight_decay", "grad_clip",
"frozen_mlp", "threads", "steps"} as JSON on stdin; prints one JSON line."""
import json
import sys
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM


def main():
    args = json.load(sys.stdin)
    torch.set_num_threads(args["threads"])
    torch.manual_seed(0)
    config = LlamaConfig(**args["config"])
    model = LlamaForCausalLM(config).train()
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if args["frozen_mlp"] and ".mlp." in name:
            with torch.no_grad():
                p.zero_()
            p.requires_grad_(False)
            continue
        (decay if p.ndim >= 2 else no_decay).append(p)
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=2e-3, betas=(0.9, 0.95), eps=1e-8)
    trainable = decay + no_decay
    batch, seq = args["batch"], args["seq"]
    generator = torch.Generator().manual_seed(1)

    def step():
        rows = torch.randint(0, config.vocab_size, (batch, seq + 1), generator=generator)
        logits = model(input_ids=rows[:, :-1], use_cache=False).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), rows[:, 1:].reshape(-1))
        loss.backward()
        if args["grad_clip"] > 0:
            torch.nn.utils.clip_grad_norm_(trainable, args["grad_clip"])
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    # The first steps allocate optimiser state and warm up kernels; time the rest (as bench/train.ts).
    times, cpu_times = [], []
    for i in range(args["steps"]):
        start, cpu_start = time.perf_counter(), time.process_time()
        step()
        if i >= 2:
            times.append((time.perf_counter() - start) * 1000)
            cpu_times.append((time.process_time() - cpu_start) * 1000)
    times.sort()
    cpu_times.sort()
    ms = times[len(times) // 2]
    print(json.dumps({
        "bench": "train", "engine": "pytorch", "recipe": args["name"], "threads": args["threads"], "batch": batch, "seq": seq,
        "attention": config._attn_implementation, "ms_per_step": round(ms, 1), "cpu_ms_per_step": round(cpu_times[len(cpu_times) // 2], 1),
        "tokens_per_s": round(batch * seq / ms * 1000),
        "torch": torch.__version__,
    }), flush=True)


if __name__ == "__main__":
    main()
