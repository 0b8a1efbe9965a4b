#!/usr/bin/python3
"""Independent numpy forward pass of a HF Llama/Qwen2 directory (F32/F16 safetensors), for
checking quasiroll's fixtures against llama.cpp: if greedy continuations of the HF fixture
(HF half-split RoPE) and of the GGUF fixture run by llama.cpp (q/k permuted, ggml RoPE)
agree, the GGUF writer's q/k permutation and rope_freqs are right.

usage: tools/reference_forward.py HF_DIR N_NEW ID ID ...   -> prints the greedy new ids
"""
import json, struct, sys
import numpy as np

def load(dir_):
    with open(f"{dir_}/model.safetensors", "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dt = {"F32": np.float32, "F16": np.float16}
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        b, e = t["data_offsets"]
        out[name] = np.frombuffer(data[b:e], dtype=dt[t["dtype"]]).astype(np.float64).reshape(t["shape"])
    return out

def inv_freq(c):
    d = c["head_dim"]
    inv = c["rope_theta"] ** (-np.arange(0, d, 2) / d)
    s = c.get("rope_scaling")
    if s:
        lo = s["original_max_position_embeddings"] / s["low_freq_factor"]
        hi = s["original_max_position_embeddings"] / s["high_freq_factor"]
        wl = 2 * np.pi / inv
        smooth = (s["original_max_position_embeddings"] / wl - s["low_freq_factor"]) / (s["high_freq_factor"] - s["low_freq_factor"])
        scaled = np.where(wl > lo, inv / s["factor"], inv)
        mid = (wl >= hi) & (wl <= lo)
        scaled = np.where(mid, (1 - smooth) * inv / s["factor"] + smooth * inv, scaled)
        inv = scaled
    return inv

def forward(w, c, ids):
    T = len(ids)
    H, KV, D = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
    eps = c["rms_norm_eps"]
    norm = lambda x, g: x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * g
    ang = np.outer(np.arange(T), inv_freq(c))  # T x D/2
    cos, sin = np.cos(ang), np.sin(ang)
    def rope(x):  # x: T x heads x D, half-split pairs (i, i + D/2)
        a, b = x[..., : D // 2], x[..., D // 2 :]
        return np.concatenate([a * cos[:, None] - b * sin[:, None], b * cos[:, None] + a * sin[:, None]], -1)
    x = w["model.embed_tokens.weight"][ids]
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = norm(x, w[p + "input_layernorm.weight"])
        proj = lambda n: h @ w[p + f"self_attn.{n}_proj.weight"].T + w.get(p + f"self_attn.{n}_proj.bias", 0)
        q = rope(proj("q").reshape(T, H, D))
        k = rope(proj("k").reshape(T, KV, D))
        v = proj("v").reshape(T, KV, D)
        k = np.repeat(k, H // KV, axis=1)
        v = np.repeat(v, H // KV, axis=1)
        s = np.einsum("thd,shd->hts", q, k) / np.sqrt(D)
        s = s + np.triu(np.full((T, T), -np.inf), 1)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        o = np.einsum("hts,shd->thd", s, v).reshape(T, H * D)
        x = x + o @ w[p + "self_attn.o_proj.weight"].T
        h = norm(x, w[p + "post_attention_layernorm.weight"])
        g = h @ w[p + "mlp.gate_proj.weight"].T
        x = x + ((g / (1 + np.exp(-g))) * (h @ w[p + "mlp.up_proj.weight"].T)) @ w[p + "mlp.down_proj.weight"].T
    x = norm(x, w["model.norm.weight"])
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return x[-1] @ head.T

if __name__ == "__main__":
    d, n, ids = sys.argv[1], int(sys.argv[2]), [int(t) for t in sys.argv[3:]]
    c = json.load(open(f"{d}/config.json"))
    c.setdefault("head_dim", c["hidden_size"] // c["num_attention_heads"])
    w = load(d)
    out = []
    for _ in range(n):
        logits = forward(w, c, ids + out)
        top2 = np.sort(logits)[-2:]
        out.append(int(np.argmax(logits)))
        print(f"token {out[-1]} margin {top2[1] - top2[0]:.4f}", file=sys.stderr)
    print(out)
