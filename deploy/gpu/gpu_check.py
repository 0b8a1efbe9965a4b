#!/usr/bin/env python3
"""The transformers side of deploy/gpu-check.sh (runs on the GPU machine, no network).

  gpu_check.py make-model DIR            random-weight Qwen2-0.5B-shaped model, bf16, HF format
  gpu_check.py compare DIR PARITY_DIR STEPS PROMPT...   transformers fp32 logits vs quasiroll GPU
  gpu_check.py throughput DIR NEW PROMPT BATCHES ATTN   transformers generate tokens/s
  gpu_check.py ratios LOG                quasiroll / transformers tokens/s from the run's log

Prompts are comma-separated token ids (the random model has a byte-level tokenizer only so
that quasiroll's loader accepts the directory; nothing is tokenized).
"""
import json
import os
import re
import sys
import time

import numpy as np

# The shapes of Qwen/Qwen2-0.5B (config.json of the public checkpoint): 494M parameters.
QWEN2_05B = dict(vocab_size=151936, hidden_size=896, intermediate_size=4864,
                 num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                 max_position_embeddings=32768, rope_theta=1000000.0, rms_norm_eps=1e-6,
                 tie_word_embeddings=True, hidden_act="silu", bos_token_id=256,
                 eos_token_id=256, use_sliding_window=False)
# Fixed parity tolerance: max |logit difference| / max |logit| over all compared rows.
REL_TOL = 1e-3


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + \
        list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def write_tokenizer(d):
    """A byte-level BPE with the 256 byte tokens, no merges, and one special token (256)."""
    vocab = {ch: b for b, ch in bytes_to_unicode().items()}
    tok = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": 256, "content": "<|endoftext|>", "single_word": False,
                          "lstrip": False, "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "vocab": vocab, "merges": []},
    }
    with open(os.path.join(d, "tokenizer.json"), "w") as f:
        json.dump(tok, f)
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump({"eos_token": "<|endoftext|>", "add_bos_token": False}, f)


def make_model(d):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(0)
    cfg = Qwen2Config(**QWEN2_05B)
    t0 = time.time()
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        model = Qwen2ForCausalLM(cfg)
    model = model.to(torch.bfloat16)
    model.save_pretrained(d, safe_serialization=True)
    write_tokenizer(d)
    n = sum(p.numel() for p in model.parameters())
    print(f"MODEL random Qwen2 {n / 1e6:.0f}M parameters, bf16, saved to {d} in {time.time() - t0:.1f} s")


def load(d, dtype, attn):
    import torch
    from transformers import Qwen2ForCausalLM
    try:
        m = Qwen2ForCausalLM.from_pretrained(d, dtype=dtype, attn_implementation=attn)
    except TypeError:
        m = Qwen2ForCausalLM.from_pretrained(d, torch_dtype=dtype, attn_implementation=attn)
    return m.to("cuda").eval()


def ids(s):
    return [int(x) for x in s.split(",")]


def compare(d, parity_dir, steps, prompts):
    import torch
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    model = load(d, torch.float32, "eager")
    vocab = model.config.vocab_size
    ok = True
    for i, p in enumerate(prompts):
        prompt = ids(p)
        with open(os.path.join(parity_dir, f"gpu_{i}.tokens")) as f:
            toks = [int(x) for x in f.read().strip().split(",")]
        gpu = np.fromfile(os.path.join(parity_dir, f"gpu_{i}.f32"), dtype="<f4").reshape(steps + 1, vocab)
        x = torch.tensor([prompt + toks], device="cuda")
        with torch.no_grad():
            ref = model(x).logits[0, len(prompt) - 1:, :].float().cpu().numpy()
        diff = np.abs(ref - gpu).max()
        rel = diff / np.abs(ref).max()
        hf_greedy = ref[:steps].argmax(axis=1).tolist()
        same = hf_greedy == toks
        first = next((t for t in range(steps) if hf_greedy[t] != toks[t]), -1)
        good = rel < REL_TOL and same
        ok &= good
        print(f"PARITY gpu-vs-transformers(fp32) prompt {i}: max|dlogit| = {diff:.3e} "
              f"(max|logit| {np.abs(ref).max():.2f}, relative {rel:.2e}, tolerance {REL_TOL:.0e}); "
              f"greedy tokens {'IDENTICAL for %d steps' % steps if same else 'DIVERGE at step %d' % first}"
              f" -> {'PASS' if good else 'FAIL'}")
    return 0 if ok else 1


def throughput(d, new, prompt, batches, attn):
    import torch
    model = load(d, torch.bfloat16, attn)
    prompt = ids(prompt)

    def gen(b, n):
        x = torch.tensor([prompt] * b, device="cuda")
        out = model.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=n,
                             min_new_tokens=n, do_sample=True, top_k=0, top_p=1.0,
                             temperature=1.0, pad_token_id=256)
        return out.shape[1] - len(prompt)

    gen(4, 8)  # warm-up
    for b in batches:
        torch.cuda.synchronize()
        t0 = time.time()
        n = gen(b, new)
        torch.cuda.synchronize()
        sec = time.time() - t0
        print(f"THROUGHPUT transformers-{attn} batch {b}: {b * n} tokens in {sec:.3f} s = "
              f"{b * n / sec:.1f} tokens/s", flush=True)


def ratios(log):
    rates = {}
    for line in open(log):
        m = re.match(r"THROUGHPUT (\S+) batch (\d+): .* = ([0-9.]+) tokens/s", line)
        if m:
            rates[(m.group(1), int(m.group(2)))] = float(m.group(3))
    goals = {1: 1.0, 64: 2.0}
    for b in sorted({b for _, b in rates}):
        q = rates.get(("quasiroll-gpu", b))
        e = rates.get(("transformers-eager", b))
        s = rates.get(("transformers-sdpa", b))
        if q and e:
            goal = goals.get(b)
            verdict = "" if goal is None else (" (goal >= %.0fx: %s)" % (goal, "MET" if q / e >= goal else "NOT MET"))
            extra = f", vs sdpa {q / s:.2f}x" if s else ""
            print(f"RATIO batch {b}: quasiroll {q:.1f} tok/s / transformers eager {e:.1f} tok/s = {q / e:.2f}x{extra}{verdict}")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "make-model":
        make_model(sys.argv[2])
    elif cmd == "compare":
        sys.exit(compare(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]))
    elif cmd == "throughput":
        throughput(sys.argv[2], int(sys.argv[3]), sys.argv[4], [int(b) for b in sys.argv[5].split(",")], sys.argv[6])
    elif cmd == "ratios":
        ratios(sys.argv[2])
    else:
        sys.exit("unknown command " + cmd)
