"""Reference scores of prompt tokens for quasiroll's echo + logprobs (PromptScoresTest).

Reads JSON from stdin: {"model_dir": DIR, "prompts": [[token ids], ...], "top": N}, runs the
demo model in PyTorch (llama.py, whose logits match transformers' LlamaForCausalLM, see
hf_check.py) in float32 over each whole prompt at once, and writes JSON to stdout:
{"logprobs": [[lp(t1 | t0), lp(t2 | t0 t1), ...], ...], "top": [[[the N largest next-token
logprobs at position t], ...], ...]}: log_softmax of the float32 logits, computed in float64.
Usage: /usr/bin/python3 prompt_logprobs.py < request.json   (Debian's python3-torch suffices)
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from sample import load_model  # noqa: E402


def main():
    req = json.load(sys.stdin)
    model, _ = load_model(req["model_dir"], "cpu")
    top = int(req.get("top", 0))
    out_lp, out_top = [], []
    with torch.no_grad():
        for ids in req["prompts"]:
            logits, _ = model(torch.tensor([ids]))
            lsm = torch.log_softmax(logits[0].double(), dim=-1)
            out_lp.append([lsm[t, ids[t + 1]].item() for t in range(len(ids) - 1)])
            out_top.append([torch.topk(lsm[t], top).values.tolist() if top else []
                            for t in range(len(ids) - 1)])
    json.dump({"logprobs": out_lp, "top": out_top}, sys.stdout)


if __name__ == "__main__":
    main()
