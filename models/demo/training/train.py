"""Trains the demo model: byte-level BPE on the training prompts, then a tiny Llama on
prompt -> reference completions (loss on the completion and EOS only).

Usage: train.py --data DIR --out DIR [--steps N] [--seed S] [--threads T]
DIR holds *.jsonl files written by `quasiroll tasks generate`. Fully seeded: the same
data, flags and torch build give the same weights.
"""
import argparse
import glob
import json
import os
import random
import time

import torch

import bpe
from llama import LlamaForCausalLM

CONFIG = {
    "hidden_size": 192,
    "intermediate_size": 512,
    "num_hidden_layers": 6,
    "num_attention_heads": 6,
    "num_key_value_heads": 2,
    "head_dim": 32,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "max_position_embeddings": 256,
}
VOCAB_SIZE = 512


def load_examples(data_dir):
    examples = []
    for path in sorted(glob.glob(os.path.join(data_dir, "*.jsonl"))):
        with open(path) as f:
            for line in f:
                o = json.loads(line)
                examples.append((o["prompt"], o["reference"]))
    return examples


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--save-at", default="", help="comma-separated extra steps to keep checkpoint-STEP.pt at")
    args = ap.parse_args()
    save_at = {int(x) for x in args.save_at.split(",") if x}
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    log = open(os.path.join(args.out, "training_log.txt"), "w")

    def say(msg):
        print(msg, flush=True)
        log.write(msg + "\n")
        log.flush()

    t0 = time.time()
    examples = load_examples(args.data)
    rng.shuffle(examples)
    corpus = [p for p, _ in examples[:20000]] + [r for _, r in examples[:20000]]
    bpe.check_regex_agreement(corpus)
    tok = bpe.BPE.train(corpus, VOCAB_SIZE)
    say(f"examples={len(examples)} bpe_vocab={len(tok.vocab)} merges={len(tok.merges)} "
        f"bpe_seconds={time.time() - t0:.1f}")
    encoded = []
    for p, r in examples:
        pi = [tok.bos_id] + tok.encode(p)
        ci = tok.encode(r) + [tok.eos_id]
        encoded.append((pi + ci, len(pi)))
    lengths = [len(s) for s, _ in encoded]
    say(f"tokens/example mean={sum(lengths) / len(lengths):.1f} max={max(lengths)}")
    assert max(lengths) <= CONFIG["max_position_embeddings"]

    cfg = dict(CONFIG, vocab_size=len(tok.vocab), bos_token_id=tok.bos_id, eos_token_id=tok.eos_id)
    model = LlamaForCausalLM(cfg).to(args.device)
    n_params = sum(p.numel() for p in model.parameters())
    say(f"config={json.dumps(cfg)} params={n_params}")
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98))
    warmup = min(100, args.steps // 10)

    def lr_at(step):
        if step < warmup:
            return args.lr * (step + 1) / warmup
        frac = (step - warmup) / max(1, args.steps - warmup)
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + __import__("math").cos(__import__("math").pi * frac)))

    order = []
    t_train = time.time()
    for step in range(args.steps):
        if len(order) < args.batch:
            order = list(range(len(encoded)))
            rng.shuffle(order)
        idx, order = order[:args.batch], order[args.batch:]
        batch = [encoded[i] for i in idx]
        t = max(len(s) for s, _ in batch)
        ids = torch.zeros(len(batch), t, dtype=torch.long)
        target = torch.full((len(batch), t), -100, dtype=torch.long)
        for row, (s, plen) in enumerate(batch):
            ids[row, :len(s)] = torch.tensor(s)
            # Position j predicts token j+1; only completion tokens (and EOS) are targets.
            target[row, plen - 1:len(s) - 1] = torch.tensor(s[plen:])
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        ids, target = ids.to(args.device), target.to(args.device)
        logits, _ = model(ids)
        loss = torch.nn.functional.cross_entropy(logits.view(-1, logits.shape[-1]), target.view(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 25 == 0 or step == args.steps - 1:
            el = time.time() - t_train
            say(f"step={step} loss={loss.item():.4f} lr={lr_at(step):.2e} elapsed_s={el:.0f}")
        if (step + 1) % 250 == 0 or step == args.steps - 1 or (step + 1) in save_at:
            ck = {"cfg": cfg, "state_dict": {k: v.cpu() for k, v in model.state_dict().items()},
                  "tokenizer": tok.tokenizer_json(), "step": step + 1}
            torch.save(ck, os.path.join(args.out, "checkpoint.pt"))
            if (step + 1) in save_at:
                torch.save(ck, os.path.join(args.out, f"checkpoint-{step + 1}.pt"))
    say(f"done steps={args.steps} train_seconds={time.time() - t_train:.0f} device={args.device} "
        f"threads={args.threads} torch={torch.__version__}")


if __name__ == "__main__":
    main()
