"""GRPO on the bundled demo model, with every rollout from a quasiroll cluster.

One run = one sampler and one seed: for each step, a batch of B prompts is sent as one job
(k samples per prompt, coupled by --sampler), the policy is updated with the clipped GRPO
objective on the group-normalised advantages the coordinator computed, and the new weights
are published to the cluster (PublishPolicy, streamed over gRPC), so the next step's job
samples from them (JobSpec.policy_version pins the version this step trains on).

Objective (per sample i of a group, per generated token t, averaged over tokens then samples):
    ratio = exp(logp_theta(y_t) - logp_behaviour(y_t))
    loss  = -min(ratio * A_i, clip(ratio, 1-eps, 1+eps) * A_i) + beta * KL_t
with A_i = (r_i - mean r) / (std r + 1e-6) (GroupSummary.grpo_advantages), logp_behaviour
the worker's raw log-probability (SampleResult.raw_logprobs; sampling is at temperature 1
with no truncation, so raw = processed = the behaviour policy), and KL_t the k3 estimator
against the starting weights when --kl-beta > 0 (default 0: KL-free, as in DAPO/Dr.GRPO).
Groups with zero reward variance have all-zero advantages and contribute nothing: they are
counted (zero-variance fraction) and are what coupling is meant to reduce.

Writes one JSON line per step to --out: step, mean reward, zero-variance fraction, pass
fraction, policy version sampled, seconds. Usage: see run.sh / compare.py.
"""
import argparse
import json
import os
import random
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
for candidate in ("models/demo/training", "tools/demo-model", "deploy/demo-model"):
    if os.path.exists(os.path.join(ROOT, candidate, "llama.py")):
        sys.path.insert(0, os.path.join(ROOT, candidate))
        break

import bpe  # noqa: E402
from llama import LlamaForCausalLM  # noqa: E402
from quasiroll_client import QuasirollClient, safetensors_io  # noqa: E402

CFG_KEYS = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
            "num_key_value_heads", "head_dim", "rms_norm_eps", "rope_theta", "max_position_embeddings",
            "bos_token_id", "eos_token_id")


def load_policy(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    model = LlamaForCausalLM({k: config[k] for k in CFG_KEYS})
    state = {}
    for name, (dtype, shape, raw) in safetensors_io.load_bytes(os.path.join(model_dir, "model.safetensors")).items():
        if dtype != "F32":
            raise ValueError("%s: tensor %s is %s; this trainer expects F32 weights" % (model_dir, name, dtype))
        state[name] = torch.frombuffer(bytearray(raw), dtype=torch.float32).reshape(shape)
    model.load_state_dict(state)
    with open(os.path.join(model_dir, "tokenizer.json")) as f:
        tok = bpe.BPE.from_tokenizer_json(json.load(f))
    return model, tok


def sequence_logprobs(model, prompts, completions):
    """Per-token log-probabilities of each completion given its prompt (lists of id lists);
    returns a padded (n, T) tensor and its (n, T) mask."""
    seqs = [p + c for p, c in zip(prompts, completions)]
    width = max(len(s) for s in seqs)
    ids = torch.zeros(len(seqs), width, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
    logits, _ = model(ids)
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    token_lp = logp.gather(-1, ids[:, 1:, None])[..., 0]
    t_max = max(len(c) for c in completions)
    out = torch.zeros(len(seqs), t_max)
    mask = torch.zeros(len(seqs), t_max)
    for i, (p, c) in enumerate(zip(prompts, completions)):
        # position j of the completion is predicted at index len(p) - 1 + j
        out[i, :len(c)] = token_lp[i, len(p) - 1:len(p) - 1 + len(c)]
        mask[i, :len(c)] = 1
    return out, mask


def grpo_loss(new_lp, old_lp, ref_lp, mask, adv, clip_eps, kl_beta):
    ratio = torch.exp(new_lp - old_lp)
    a = adv[:, None]
    surrogate = torch.minimum(ratio * a, torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * a)
    per_token = -surrogate
    if kl_beta > 0:
        d = ref_lp - new_lp
        per_token = per_token + kl_beta * (torch.exp(d) - d - 1)
    per_sample = (per_token * mask).sum(1) / mask.sum(1).clamp(min=1)
    return per_sample.mean()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--address", default="127.0.0.1:7470")
    ap.add_argument("--model-id", required=True, help="the model id the workers registered (their --model)")
    ap.add_argument("--model-dir", default=os.path.join(ROOT, "models", "demo"))
    ap.add_argument("--prompts", required=True, help="JSONL from `quasiroll tasks generate`")
    ap.add_argument("--sampler", default="lattice")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--batch", type=int, default=16, help="prompts per step")
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=24)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--ppo-epochs", type=int, default=1)
    ap.add_argument("--clip-eps", type=float, default=0.2)
    ap.add_argument("--kl-beta", type=float, default=0.0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--token", default=None)
    args = ap.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(int(os.environ.get("GRPO_THREADS", "1")))  # the workers use the other core(s)
    rng = random.Random(args.seed)
    model, tok = load_policy(args.model_dir)
    ref = None
    if args.kl_beta > 0:
        ref, _ = load_policy(args.model_dir)
        ref.eval()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.0)
    with open(args.prompts) as f:
        pool = [json.loads(line) for line in f if line.strip()]
    client = QuasirollClient(args.address, token=args.token)
    # Every run starts from the bundled weights: publish them as this run's first version.
    version = client.publish_policy(args.model_id, model.state_dict()).policy_version
    with open(args.out, "w") as out:
        for step in range(args.steps):
            t0 = time.time()
            batch = rng.sample(pool, args.batch)
            prompts = [{"id": "s%d-%s" % (step, p["id"]), "token_ids": [tok.bos_id] + tok.encode(p["prompt"]),
                        "metadata": p.get("metadata", {})} for p in batch]
            groups = list(client.rollouts(args.model_id, prompts, args.k, sampler=args.sampler,
                                          temperature=1.0, max_new_tokens=args.max_new_tokens,
                                          seed=args.seed * 100003 + step, policy_version=version,
                                          name="grpo-%s-s%d-step%d" % (args.sampler, args.seed, step)))
            t_rollout = time.time() - t0
            rewards = [r for g in groups for r in g.summary.rewards]
            zero_var = sum(1 for g in groups if g.summary.zero_variance) / len(groups)
            # zero-variance groups split by cause: every sample failed / every sample passed
            zv_fail = sum(1 for g in groups if g.summary.zero_variance and max(g.summary.rewards) < 1) / len(groups)
            passed = sum(1 for g in groups if getattr(g.summary, "pass")) / len(groups)
            assert all(s.policy_version == version for g in groups for s in g.samples), "mixed versions"
            useful = [(g, s, a) for g in groups if not g.summary.zero_variance
                      for s, a in zip(g.samples, g.summary.grpo_advantages) if len(s.token_ids) > 0]
            loss_value = 0.0
            t_train = t_publish = logprob_gap = 0.0
            if useful:
                t1 = time.time()
                prompt_ids = [list(next(p for p in prompts if p["id"] == g.prompt_id)["token_ids"]) for g, _, _ in useful]
                completions = [list(s.token_ids) for _, s, _ in useful]
                old = torch.zeros(len(useful), max(len(c) for c in completions))
                for i, (_, s, _) in enumerate(useful):
                    old[i, :len(s.raw_logprobs)] = torch.tensor(list(s.raw_logprobs))
                adv = torch.tensor([a for _, _, a in useful], dtype=torch.float32)
                ref_lp = None
                if ref is not None:
                    with torch.no_grad():
                        ref_lp, _ = sequence_logprobs(ref, prompt_ids, completions)
                model.train()
                for epoch in range(args.ppo_epochs):
                    new_lp, mask = sequence_logprobs(model, prompt_ids, completions)
                    if epoch == 0:  # the trainer's and the workers' log-probs of the same tokens
                        logprob_gap = float(((new_lp.detach() - old).abs() * mask).sum() / mask.sum())
                    loss = grpo_loss(new_lp, old, ref_lp, mask, adv, args.clip_eps, args.kl_beta)
                    opt.zero_grad()
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                    opt.step()
                    loss_value = float(loss)
                t2 = time.time()
                t_train = t2 - t1
                version = client.publish_policy(args.model_id, model.state_dict()).policy_version
                t_publish = time.time() - t2
            row = {"step": step, "sampler": args.sampler, "seed": args.seed,
                   "reward": sum(rewards) / max(1, len(rewards)), "zero_variance": zero_var, "zero_variance_all_fail": zv_fail, "pass": passed,
                   "loss": loss_value, "logprob_gap": logprob_gap, "policy_version": version, "seconds": time.time() - t0,
                   "rollout_s": t_rollout, "train_s": t_train, "publish_s": t_publish}
            out.write(json.dumps(row) + "\n")
            out.flush()
            print(json.dumps(row), flush=True)
    client.close()


if __name__ == "__main__":
    main()
