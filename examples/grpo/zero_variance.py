"""How often a group has zero reward variance under each sampler, for ONE fixed policy: the
mechanism behind "coupled groups save GRPO steps", measured without training noise.

For every seed, the same prompts are sampled with k samples each under every sampler (same
seed, so the comparison is paired); a group is zero-variance when its k rewards are all equal.
Prints, per sampler, the fraction of zero-variance groups (mean over seeds, 95% t-interval),
split into all-failed and all-passed groups, and the paired difference from the first
sampler; writes the same as JSON to --out.

With per-prompt success probability p, independent samples give a zero-variance group with
probability p^k + (1-p)^k; a coupling helps only if it makes the number of successes in a group
less spread than binomial, i.e. if success depends on the shared noise in a way the coupling
stratifies.

usage: zero_variance.py --address HOST:PORT --model-id ID --prompts FILE [--samplers iid,lattice]
                        [--seeds 1..20] [--k 8] [--max-new-tokens 20] [--out FILE]
"""
import argparse
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from compare import mean_ci  # noqa: E402
from grpo import QuasirollClient, ROOT, bpe  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--address", default="127.0.0.1:7470")
    ap.add_argument("--model-id", required=True)
    ap.add_argument("--model-dir", default=os.path.join(ROOT, "models", "demo"))
    ap.add_argument("--prompts", required=True)
    ap.add_argument("--samplers", default="iid,lattice")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=20)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    with open(os.path.join(args.model_dir, "tokenizer.json")) as f:
        tok = bpe.BPE.from_tokenizer_json(json.load(f))
    with open(args.prompts) as f:
        pool = [json.loads(line) for line in f if line.strip()]
    prompts = [{"id": p["id"], "token_ids": [tok.bos_id] + tok.encode(p["prompt"]), "metadata": p.get("metadata", {})}
               for p in pool]
    client = QuasirollClient(args.address)
    samplers = args.samplers.split(",")
    per = {s: {"zero": [], "fail": [], "pass": [], "reward": []} for s in samplers}
    for seed in range(1, args.seeds + 1):
        for s in samplers:
            groups = list(client.rollouts(args.model_id, prompts, args.k, sampler=s, temperature=1.0,
                                          max_new_tokens=args.max_new_tokens, seed=seed,
                                          name="zero-variance-%s-%d" % (s, seed)))
            n = len(groups)
            per[s]["zero"].append(sum(g.summary.zero_variance for g in groups) / n)
            per[s]["fail"].append(sum(g.summary.zero_variance and max(g.summary.rewards) < 1 for g in groups) / n)
            per[s]["pass"].append(sum(g.summary.zero_variance and min(g.summary.rewards) >= 1 for g in groups) / n)
            per[s]["reward"].append(sum(r for g in groups for r in g.summary.rewards) / (n * args.k))
    client.close()
    base = samplers[0]
    result = {"prompts": len(prompts), "k": args.k, "seeds": args.seeds, "samplers": {}}
    print("| sampler | zero-variance groups (95%% CI) | all failed | all passed | mean reward | − %s, paired (95%% CI) |" % base)
    print("| --- | --- | --- | --- | --- | --- |")
    for s in samplers:
        diff = [a - b for a, b in zip(per[s]["zero"], per[base]["zero"])]
        row = {key: mean_ci(vals) for key, vals in per[s].items()}
        row["minus_" + base] = mean_ci(diff) if s != base else (0.0, 0.0, 0.0)
        result["samplers"][s] = row
        print("| %s | %.3f [%.3f, %.3f] | %.3f | %.3f | %.3f | %s |" % (
            s, *row["zero"], row["fail"][0], row["pass"][0], row["reward"][0],
            "" if s == base else "%+.3f [%+.3f, %+.3f]" % row["minus_" + base]))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
    return 0 if all(not math.isnan(r["zero"][0]) for r in result["samplers"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
