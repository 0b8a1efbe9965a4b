#!/usr/bin/env python3
"""quasiroll's own HTTP API fields, checked with Debian's python3-requests.

Usage: http_api_check.py BASE_URL MODEL TOKEN MAX_REQUEST_BYTES
Checks noise_key / raw_logprobs / token_ids, prompt forms (string, strings, token ids,
token-id lists), tokenize/detokenize, and the error shapes (400 naming the field, 401, 404,
405, 413, 503). The coordinator must declare the model "not-served-yet"
(quasiroll.http.models) with no worker for it. Prints "http api check OK" at the end; any failed check raises.
"""
import sys

import requests

base, model, token, max_bytes = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
auth = {"Authorization": "Bearer " + token}


def post(path, body, headers=auth, **kw):
    return requests.post(base + path, json=body, headers=headers, timeout=60, **kw)


def error(r, status, param=None):
    assert r.status_code == status, (r.status_code, r.text)
    e = r.json()["error"]
    assert set(e) == {"message", "type", "param", "code"}, e
    assert e["param"] == param, e
    assert e["message"], e
    return e


# extra fields, and the prompt forms
ids = post("/tokenize", {"model": model, "prompt": "The robot"}).json()["tokens"]
assert post("/detokenize", {"model": model, "tokens": ids}).json()["prompt"] == "The robot"
r = post("/v1/completions", {"model": model, "prompt": ["The robot", ids, "A cat"], "n": 2, "max_tokens": 6, "seed": 3})
assert r.status_code == 200, r.text
body = r.json()
assert body["seed"] == "3"
assert [c["index"] for c in body["choices"]] == list(range(6))
for c in body["choices"]:
    key = c["noise_key"]
    assert key["job_seed"] == "3" and key["k"] == 2 and key["index"] == c["index"] % 2, key
    assert key["prompt_id"] == str(c["index"] // 2), key
    assert key["sampler"] == "lattice", key  # the default coupled sampler for n > 1
    assert len(c["raw_logprobs"]) == len(c["token_ids"]) >= 1, c
    assert all(x <= 0 for x in c["raw_logprobs"]), c
# a text prompt is encoded as the model's tokenizer config says (the demo model: BOS first), so
# it gives the same samples as its ids with the special tokens (prompt 0 vs 1 differ only in id)
ids_bos = post("/tokenize", {"model": model, "prompt": "The robot", "add_special_tokens": True}).json()["tokens"]
assert ids_bos[1:] == ids and len(ids_bos) == len(ids) + 1, (ids_bos, ids)
same = post("/v1/completions", {"model": model, "prompt": [ids_bos], "n": 2, "max_tokens": 6, "seed": 3}).json()
text = post("/v1/completions", {"model": model, "prompt": "The robot", "n": 2, "max_tokens": 6, "seed": 3}).json()
assert [c["token_ids"] for c in same["choices"]] == [c["token_ids"] for c in text["choices"]]
a_cat = post("/tokenize", {"model": model, "prompt": "A cat", "add_special_tokens": True}).json()["count"]
assert body["usage"]["prompt_tokens"] == len(ids_bos) + len(ids) + a_cat, body["usage"]
# echo prepends the prompt
echo = post("/v1/completions", {"model": model, "prompt": "The robot", "max_tokens": 4, "seed": 1, "echo": True}).json()
assert echo["choices"][0]["text"].startswith("The robot")
# n = 1 without a sampler is iid; an explicit sampler and options are honoured
one = post("/v1/completions", {"model": model, "prompt": "x", "max_tokens": 2, "seed": 1}).json()
assert one["choices"][0]["noise_key"]["sampler"] == "iid"
sob = post("/v1/completions", {"model": model, "prompt": "x", "n": 4, "max_tokens": 2, "seed": 1,
                              "sampler": "sobol", "sampler_options": {"scramble": "owen"}}).json()
assert sob["choices"][0]["noise_key"]["sampler"] == "sobol?scramble=owen", sob["choices"][0]["noise_key"]

# top logprobs: ids and logprobs of the processed distribution, most probable first
top = post("/v1/completions", {"model": model, "prompt": "The robot", "max_tokens": 5, "seed": 2, "logprobs": 3,
                              "top_k": 2}).json()["choices"][0]
lp = top["logprobs"]
for t, ids in enumerate(lp["top_logprobs_ids"]):
    assert 1 <= len(ids) <= 2, ids  # top_k = 2 leaves at most two tokens with probability > 0
    assert top["token_ids"][t] in ids, (t, ids, top["token_ids"])
    values = list(lp["top_logprobs"][t].values())
    assert values == sorted(values, reverse=True), values

# coalescing: small non-streamed requests that arrive together run as shared jobs (up to
# quasiroll.http.coalesce-max-samples = 8 samples each); each must still get exactly its own
# samples. (a) A group of 9 in one call (too big to coalesce: a job of its own) equals its three
# parts of 3 (coalescable) sent at once; (b) concurrent requests equal the same requests alone.
from concurrent.futures import ThreadPoolExecutor


def choices(body):
    return [{k: v for k, v in c.items()} for c in body["choices"]]


whole = post("/v1/completions", {"model": model, "prompt": "The robot", "n": 9, "max_tokens": 6, "seed": 11}).json()
parts_bodies = [{"model": model, "prompt": "The robot", "n": 3, "group_size": 9, "index_offset": o,
                 "max_tokens": 6, "seed": 11} for o in (0, 3, 6)]
with ThreadPoolExecutor(3) as pool:
    parts = list(pool.map(lambda b: post("/v1/completions", b).json(), parts_bodies))
joined = [c for p in parts for c in p["choices"]]
assert [c["token_ids"] for c in joined] == [c["token_ids"] for c in whole["choices"]], (joined, whole)
assert [c["raw_logprobs"] for c in joined] == [c["raw_logprobs"] for c in whole["choices"]]
assert [c["noise_key"] for c in joined] == [c["noise_key"] for c in whole["choices"]]
bodies = [{"model": model, "prompt": ["The robot", "A cat", ids][i % 3], "max_tokens": 5, "seed": 100 + i,
           "n": 1 + i % 2, "logprobs": 2 if i % 4 == 0 else None} for i in range(16)]
bodies = [{k: v for k, v in b.items() if v is not None} for b in bodies]
alone = [post("/v1/completions", b).json() for b in bodies]
with ThreadPoolExecutor(16) as pool:
    together = list(pool.map(lambda b: post("/v1/completions", b).json(), bodies))
for a, t in zip(alone, together):
    assert choices(a) == choices(t), (a, t)
    assert a["usage"] == t["usage"] and a["seed"] == t["seed"]
shared = sum(1 for t in together if t["id"].count("-") > 2)  # "cmpl-j-<hex>-<i>"
print("coalescing: %d of %d concurrent responses came from shared jobs" % (shared, len(together)))

# errors
error(post("/v1/completions", {"model": model, "prompt": "x"}, headers={}), 401)
error(post("/v1/completions", {"model": model, "prompt": "x"}, headers={"Authorization": "Bearer wrong"}), 401)
error(post("/v1/completions", {"model": "nope", "prompt": "x"}), 404, "model")
# declared in quasiroll.http.models but served by no worker: 503 with Retry-After
r = post("/v1/completions", {"model": "not-served-yet", "prompt": "x"})
error(r, 503, "model")
assert int(r.headers["Retry-After"]) > 0, r.headers
error(post("/v1/completions", {"model": model}), 400, "prompt")
error(post("/v1/completions", {"model": model, "prompt": "x", "n": 0}), 400, "n")
error(post("/v1/completions", {"model": model, "prompt": "x", "top_p": 1.5}), 400, "top_p")
error(post("/v1/completions", {"model": model, "prompt": "x", "stop": 3}), 400, "stop")
error(post("/v1/completions", {"model": model, "prompt": "x", "logprobs": 21}), 400, "logprobs")
error(post("/v1/completions", {"model": model, "prompt": "x", "presence_penalty": 0.5}), 400, "presence_penalty")
error(post("/v1/completions", {"model": model, "prompt": "x", "n": 4, "group_size": 8}), 400, "seed")
error(post("/v1/completions", {"model": model, "prompt": "x", "n": 4, "group_size": 8, "index_offset": 6, "seed": 1}), 400, "index_offset")
error(post("/v1/completions", {"model": model, "prompt": "x", "sampler": "bogus"}), 400)
error(post("/v1/completions", {"model": model, "prompt": [99999999]}), 400, "prompt")
error(post("/tokenize", {"model": model, "prompt": 5}), 400, "prompt")
error(requests.get(base + "/v1/completions", headers=auth, timeout=10), 405)
r = requests.post(base + "/v1/completions", data=b"{not json", headers={**auth, "Content-Type": "application/json"}, timeout=10)
error(r, 400)
big = {"model": model, "prompt": "x" * (max_bytes + 10)}
error(post("/v1/completions", big), 413)
# the server still serves after all that
assert post("/v1/completions", {"model": model, "prompt": "x", "max_tokens": 2}).status_code == 200
assert requests.get(base + "/health", timeout=10).json()["status"] == "ok"
assert requests.get(base + "/version", headers=auth, timeout=10).json()["version"]
print("http api check OK")
