#!/usr/bin/env python3
"""lm-evaluation-harness's loglikelihood requests against quasiroll, with Debian's python3-requests.

Usage: lm_eval_check.py BASE_URL MODEL TOKEN
Mimics what lm-eval's `local-completions` model does (lm_eval/models/openai_completions.py and
api_models.py, lm-eval 0.4.x): the remote tokenizer's probe (GET /tokenizer_info, POST /tokenize
without a model), the context/continuation encoding of TemplateLM._encode_pair, the loglikelihood
payload (token-id prompts, echo, max_tokens 1, logprobs 1, temperature 0, seed 1234) and
parse_logprobs (sum of token_logprobs[ctxlen:-1]; is_greedy = every such logprob equals the
largest value of its top_logprobs map). Checks the answers against quasiroll's own generation
(a greedy continuation scores as greedy, with the raw logprobs its generation reported), the
response shape (token_logprobs[0] is null, one entry per prompt token plus the generated one,
text_offset), echo with max_tokens 0, text prompts, policy versions, and determinism.
Prints "lm-eval check OK" at the end; any failed check raises.
"""
import math
import sys

import requests

base, model, token = sys.argv[1], sys.argv[2], sys.argv[3]
auth = {"Authorization": "Bearer " + token}
session = requests.Session()
session.headers.update(auth)


def post(path, body):
    r = session.post(base + path, json=body, timeout=120)
    assert r.status_code == 200, (path, r.status_code, r.text)
    return r.json()


# --- lm_eval.utils.check_remote_tokenizer_support / RemoteTokenizer: no model in the requests
info = session.get(base + "/tokenizer_info", timeout=30).json()
assert isinstance(info, dict) and "eos_token" in info and info["eos_token"], info
assert info["model"] == model, info


def encode(text):
    tokens = post("/tokenize", {"prompt": text, "add_special_tokens": False})["tokens"]
    assert isinstance(tokens, list), tokens
    return tokens


def decode(tokens):
    return post("/detokenize", {"tokens": tokens})["prompt"]


eos_id = encode(info["eos_token"])
assert len(eos_id) == 1, ("the EOS text must encode to its one special token", eos_id)
bos_id = encode(info["bos_token"])[0] if info.get("bos_token") else eos_id[0]


def encode_pair(context, continuation):
    """TemplateLM._encode_pair: trailing spaces of the context move to the continuation."""
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces > 0:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole = encode(context + continuation)
    context_enc = encode(context)
    return context_enc, whole[len(context_enc):]


def loglikelihood_payload(prompts):
    """LocalCompletionsAPI._create_payload(generate=False)."""
    return {"model": model, "prompt": prompts, "temperature": 0, "max_tokens": 1, "logprobs": 1,
            "seed": 1234, "echo": True}


def parse_logprobs(out, ctxlens):
    """LocalCompletionsAPI.parse_logprobs, verbatim in effect."""
    res = []
    for choice, ctxlen in zip(sorted(out["choices"], key=lambda c: c["index"]), ctxlens):
        assert ctxlen > 0
        logprobs = sum(choice["logprobs"]["token_logprobs"][ctxlen:-1])
        tokens_logprobs = choice["logprobs"]["token_logprobs"][ctxlen:-1]
        top_logprobs = choice["logprobs"]["top_logprobs"][ctxlen:-1]
        is_greedy = True
        for tok, top in zip(tokens_logprobs, top_logprobs):
            if tok != max(top.values()):
                is_greedy = False
                break
        res.append((logprobs, is_greedy))
    return res


# --- a greedy continuation, generated the way lm-eval's generate_until asks (temperature 0)
context = "Use 3 5 8 to make 16:"
# BOS first, as lm-eval's prefix handling gives for models whose tokenizer adds one
context_ids = [bos_id] + encode(context)
gen = post("/v1/completions", {"model": model, "prompt": [context_ids], "max_tokens": 6,
                               "temperature": 0, "seed": 1234})["choices"][0]
greedy_ids = [t for t in gen["token_ids"] if t not in eos_id]
assert greedy_ids, gen
greedy_text = decode(greedy_ids)

# --- loglikelihood of (context, greedy continuation) and of a worse continuation, one batch
ctx_enc, cont_greedy = encode_pair(decode(context_ids), greedy_text)
assert ctx_enc == context_ids and cont_greedy == greedy_ids, (ctx_enc, cont_greedy, context_ids, greedy_ids)
ctx_enc2, cont_other = encode_pair(decode(context_ids), " zebra zebra")
inputs = [ctx_enc + cont_greedy, ctx_enc2 + cont_other]
ctxlens = [len(ctx_enc), len(ctx_enc2)]
out = post("/v1/completions", loglikelihood_payload(inputs))
(lp_greedy, is_greedy), (lp_other, is_greedy_other) = parse_logprobs(out, ctxlens)
assert is_greedy, out["choices"][0]["logprobs"]
assert not is_greedy_other
assert lp_other < lp_greedy < 0, (lp_other, lp_greedy)
# the prompt scores of a greedy continuation are the raw logprobs its generation reported
want = sum(gen["raw_logprobs"][: len(greedy_ids)])
assert abs(lp_greedy - want) < 1e-4, (lp_greedy, want)

# --- the response shape, per choice
for choice, ids in zip(sorted(out["choices"], key=lambda c: c["index"]), inputs):
    lp = choice["logprobs"]
    assert len(lp["tokens"]) == len(lp["token_logprobs"]) == len(lp["top_logprobs"]) == len(ids) + 1, lp
    assert lp["token_logprobs"][0] is None and lp["top_logprobs"][0] is None, lp
    assert all(x <= 0 for x in lp["token_logprobs"][1:]), lp
    for t in range(1, len(ids)):
        top = lp["top_logprobs"][t]
        assert 1 <= len(top) <= 2, top  # the top 1 plus the prompt token when it is not the top
        assert ids[t] in lp["top_logprobs_ids"][t], (t, ids[t], lp["top_logprobs_ids"][t])
    offsets = lp["text_offset"]
    assert offsets == sorted(offsets) and offsets[0] == 0, offsets
    text = choice["text"]
    prompt_text = decode(ids)
    assert text.startswith(prompt_text), (text, prompt_text)
    for t in range(len(ids)):
        assert text[offsets[t]:].startswith(lp["tokens"][t]), (t, offsets[t], lp["tokens"][t], text)
    assert choice["finish_reason"] in ("length", "stop"), choice  # "stop" when the next token is EOS
    assert choice["policy_version"] == 0, choice  # no policy published: the start-up weights
assert out["usage"]["prompt_tokens"] == sum(len(x) for x in inputs), out["usage"]
assert out["usage"]["completion_tokens"] == 2, out["usage"]

# --- echo with max_tokens 0: the prompt alone, scored (older lm-eval versions ask this way)
zero = post("/v1/completions", {**loglikelihood_payload([inputs[0]]), "max_tokens": 0})
c0 = zero["choices"][0]
assert c0["text"] == decode(inputs[0]) and c0["token_ids"] == [], c0
assert c0["logprobs"]["token_logprobs"] == out["choices"][0]["logprobs"]["token_logprobs"][:-1], c0
assert zero["usage"]["completion_tokens"] == 0, zero["usage"]

# --- a text prompt (tokenized_requests=False): the BOS the server adds is scored too
textual = post("/v1/completions", {"model": model, "prompt": context + greedy_text, "echo": True,
                                   "max_tokens": 0, "logprobs": 2, "temperature": 0})["choices"][0]
lp = textual["logprobs"]
assert textual["text"] == context + greedy_text, textual["text"]
assert len(lp["tokens"]) == len(context_ids) + len(greedy_ids), lp["tokens"]
assert lp["token_logprobs"][1:] == out["choices"][0]["logprobs"]["token_logprobs"][1:-1], lp
assert all(2 <= len(m) <= 3 for m in lp["top_logprobs"][1:]), lp["top_logprobs"]
for t in range(1, len(lp["tokens"])):  # after the BOS, offsets index the echoed text
    assert textual["text"][lp["text_offset"][t]:].startswith(lp["tokens"][t]), (t, lp)

# --- same request, same bytes
again = post("/v1/completions", loglikelihood_payload(inputs))
assert [c["logprobs"] for c in again["choices"]] == [c["logprobs"] for c in out["choices"]]
assert [c["text"] for c in again["choices"]] == [c["text"] for c in out["choices"]]

# --- /v1/models lists policy versions
models = session.get(base + "/v1/models", timeout=30).json()["data"]
entry = [m for m in models if m["id"] == model][0]
assert entry["latest_policy_version"] == 0 and entry["serving_policy_versions"] == [0], entry
assert not math.isnan(lp_greedy)
print("loglikelihood greedy %.4f other %.4f" % (lp_greedy, lp_other))
print("lm-eval check OK")
