"""Checks the exported folder against the reference Hugging Face implementations (run
where `transformers` and `tokenizers` are installed; Debian's python lacks them):
  1. tokenizers.Tokenizer.from_file(tokenizer.json) encodes every prompt exactly as bpe.py
     does (BOS prepended by the post-processor) and decodes completions back;
  2. transformers' LlamaForCausalLM.from_pretrained(folder) gives the same logits as
     llama.py on those prompts (max abs difference printed; fp32).
Usage: hf_check.py MODEL_DIR PROMPTS.jsonl [N]
"""
import json
import sys

import torch

import bpe
from sample import load_model


def main():
    model_dir, prompts_path = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    with open(prompts_path) as f:
        rows = [json.loads(l) for l in f][:n]
    ours, tok = load_model(model_dir, "cpu")
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer, LlamaForCausalLM
    hf_tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    auto_tok = AutoTokenizer.from_pretrained(model_dir)
    mismatches = 0
    for r in rows:
        want = [tok.bos_id] + tok.encode(r["prompt"])
        got = hf_tok.encode(r["prompt"]).ids
        got_auto = auto_tok(r["prompt"])["input_ids"]
        ref = tok.encode(r["reference"])
        if got != want or got_auto != want or hf_tok.decode(ref, skip_special_tokens=True) != r["reference"]:
            mismatches += 1
            if mismatches <= 3:
                print("TOKENIZER MISMATCH", repr(r["prompt"]), want, got, got_auto)
    print(f"tokenizer: {len(rows)} prompts, {mismatches} mismatches")
    hf = LlamaForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32).eval()
    worst = 0.0
    with torch.no_grad():
        for r in rows[:50]:
            ids = torch.tensor([[tok.bos_id] + tok.encode(r["prompt"]) + tok.encode(r["reference"])])
            a, _ = ours(ids)
            b = hf(ids).logits
            worst = max(worst, (a - b).abs().max().item())
    print(f"logits: max abs diff ours vs transformers over 50 sequences = {worst:.3e}")
    ok = mismatches == 0 and worst < 1e-3
    print("HF CHECK", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
