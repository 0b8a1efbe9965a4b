"""pass@1 sampling for the demo model: one completion per prompt at temperature 1 (plain
ancestral sampling over the full vocabulary, no top-k/top-p), up to --max-new tokens or
EOS. Loads the exported Hugging Face folder (so the export itself is what is measured).
Writes JSONL {"id", "completion"} for `quasiroll tasks verify`.

Usage: sample.py --model DIR --prompts FILE.jsonl --out FILE.jsonl [--seed S] [--device D]
"""
import argparse
import collections
import json
import os

import torch

import bpe
from hf_export import read_safetensors
from llama import LlamaForCausalLM


def load_model(model_dir, device):
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    cfg = {k: config[k] for k in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                                  "num_attention_heads", "num_key_value_heads", "head_dim", "rms_norm_eps",
                                  "rope_theta", "max_position_embeddings", "bos_token_id", "eos_token_id")}
    model = LlamaForCausalLM(cfg)
    model.load_state_dict(read_safetensors(os.path.join(model_dir, "model.safetensors")))
    with open(os.path.join(model_dir, "tokenizer.json")) as f:
        tok = bpe.BPE.from_tokenizer_json(json.load(f))
    return model.to(device).eval(), tok


@torch.no_grad()
def sample(model, tok, prompts, max_new, generator, device, batch=256):
    """prompts: list of (id, text). Prompts of equal token length share a batch (no padding)."""
    groups = collections.defaultdict(list)
    for pid, text in prompts:
        ids = [tok.bos_id] + tok.encode(text)
        groups[len(ids)].append((pid, ids))
    out = {}
    for length in sorted(groups):
        items = groups[length]
        for s in range(0, len(items), batch):
            chunk = items[s:s + batch]
            ids = torch.tensor([x[1] for x in chunk], device=device)
            logits, past = model(ids)
            done = torch.zeros(len(chunk), dtype=torch.bool, device=device)
            gen = [[] for _ in chunk]
            for _ in range(max_new):
                probs = torch.softmax(logits[:, -1, :].float(), dim=-1)
                nxt = torch.multinomial(probs.cpu(), 1, generator=generator).to(device)
                for i, t in enumerate(nxt[:, 0].tolist()):
                    if not done[i]:
                        if t == tok.eos_id:
                            done[i] = True
                        else:
                            gen[i].append(t)
                if bool(done.all()):
                    break
                logits, past = model(nxt, past)
            for (pid, _), g in zip(chunk, gen):
                out[pid] = tok.decode(g)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--prompts", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-new", type=int, default=48)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, tok = load_model(args.model, args.device)
    with open(args.prompts) as f:
        prompts = [(o["id"], o["prompt"]) for o in map(json.loads, f)]
    g = torch.Generator().manual_seed(args.seed)
    completions = sample(model, tok, prompts, args.max_new, g, args.device)
    with open(args.out, "w") as f:
        for pid, _ in prompts:
            f.write(json.dumps({"id": pid, "completion": completions[pid]}) + "\n")


if __name__ == "__main__":
    main()
