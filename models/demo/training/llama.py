"""A tiny Llama in plain torch whose math and parameter names match Hugging Face's
LlamaForCausalLM exactly, so the exported weights load in any Llama implementation:

  h = embed_tokens(ids)
  per layer:  h = h + o_proj(attn(rope(q_proj(rms(h))), rope(k_proj(..)), v_proj(..)))
              h = h + down_proj(silu(gate_proj(rms(h))) * up_proj(rms(h)))
  logits = lm_head(norm(h))

RMSNorm: x * rsqrt(mean(x^2) + eps) * weight (in float32). RoPE in HF's half-split
("neox") layout: rotate_half pairs dimension i with i + head_dim/2, inv_freq[i] =
theta^(-2i/head_dim). Grouped-query attention repeats each K/V head for
num_attention_heads / num_key_value_heads query heads. No biases anywhere.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope_cos_sin(positions, head_dim, theta):
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=positions.device) / head_dim))
    freqs = positions.float()[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_heads = cfg["num_attention_heads"]
        self.n_kv = cfg["num_key_value_heads"]
        self.head_dim = cfg["head_dim"]
        d = cfg["hidden_size"]
        self.q_proj = nn.Linear(d, self.n_heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(d, self.n_kv * self.head_dim, bias=False)
        self.v_proj = nn.Linear(d, self.n_kv * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.n_heads * self.head_dim, d, bias=False)

    def forward(self, x, cos, sin, past=None):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.n_kv, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.n_kv, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        present = (k, v)
        rep = self.n_heads // self.n_kv
        kk = k.repeat_interleave(rep, dim=1)
        vv = v.repeat_interleave(rep, dim=1)
        scores = (q @ kk.transpose(-1, -2)) / math.sqrt(self.head_dim)
        tk = kk.shape[2]
        # Causal: query i (absolute position tk - t + i) sees keys 0..tk - t + i.
        mask = torch.ones(t, tk, dtype=torch.bool, device=x.device).tril(diagonal=tk - t)
        scores = scores.masked_fill(~mask, float("-inf"))
        out = F.softmax(scores.float(), dim=-1).to(q.dtype) @ vv
        out = out.transpose(1, 2).reshape(b, t, self.n_heads * self.head_dim)
        return self.o_proj(out), present


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, f = cfg["hidden_size"], cfg["intermediate_size"]
        self.gate_proj = nn.Linear(d, f, bias=False)
        self.up_proj = nn.Linear(d, f, bias=False)
        self.down_proj = nn.Linear(f, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self_attn = Attention(cfg)
        self.mlp = MLP(cfg)
        self.input_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.post_attention_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])

    def forward(self, x, cos, sin, past=None):
        a, present = self.self_attn(self.input_layernorm(x), cos, sin, past)
        x = x + a
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, present


class LlamaModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.layers = nn.ModuleList([DecoderLayer(cfg) for _ in range(cfg["num_hidden_layers"])])
        self.norm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])


class LlamaForCausalLM(nn.Module):
    """state_dict() keys are exactly HF's: model.embed_tokens.weight,
    model.layers.N.self_attn.q_proj.weight, ..., model.norm.weight, lm_head.weight."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = LlamaModel(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        std = 0.02
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, mean=0.0, std=std)
        # GPT-2-style scaled init of residual outputs keeps early training stable.
        for layer in self.model.layers:
            nn.init.normal_(layer.self_attn.o_proj.weight, std=std / math.sqrt(2 * cfg["num_hidden_layers"]))
            nn.init.normal_(layer.mlp.down_proj.weight, std=std / math.sqrt(2 * cfg["num_hidden_layers"]))

    def forward(self, ids, past=None):
        """ids: (batch, t). past: list of per-layer (k, v) or None. Returns logits, presents."""
        start = 0 if past is None else past[0][0].shape[2]
        positions = torch.arange(start, start + ids.shape[1], device=ids.device)
        cos, sin = rope_cos_sin(positions, self.cfg["head_dim"], self.cfg["rope_theta"])
        x = self.model.embed_tokens(ids)
        presents = []
        for i, layer in enumerate(self.model.layers):
            x, p = layer(x, cos, sin, None if past is None else past[i])
            presents.append(p)
        return self.lm_head(self.model.norm(x)), presents
