"""Byte-level BPE: training, encoding, decoding, and tokenizer.json export.

Conventions follow Hugging Face tokenizers (as used by Llama-3 / Qwen2):
  text -> Split(PRE_TOKENIZER_REGEX, behavior Isolated) -> ByteLevel (GPT-2 byte-to-unicode
  map, no prefix space, no regex) -> BPE merges by rank -> ids.
Digits are always single pre-tokens (optionally with one leading space) and punctuation
is one character per pre-token, so maze rows, Sudoku grids and numbers keep their
structure; merges mostly compress the fixed prompt templates.
"""
import collections
import json
import re

# Python `re` lacks \p{L}/\p{N}; PRE_TOKENIZER_REGEX (exported, Oniguruma/Java syntax) and
# _PY_REGEX must split identically on the ASCII text the tasks use (checked by
# check_regex_agreement on the training corpus).
PRE_TOKENIZER_REGEX = r" ?\p{L}+| ?\p{N}| ?[^\s\p{L}\p{N}]|\s*[\r\n]+|\s+(?!\S)|\s+"
_PY_REGEX = re.compile(r" ?[^\W\d_]+| ?\d| ?[^\s\w]| ?_|\s*[\r\n]+|\s+(?!\S)|\s+")

BOS = "<|bos|>"
EOS = "<|eos|>"


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable unicode char map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


B2U = bytes_to_unicode()
U2B = {u: b for b, u in B2U.items()}


def pre_tokenize(text):
    return [''.join(B2U[b] for b in piece.encode("utf-8")) for piece in _PY_REGEX.findall(text)]


def check_regex_agreement(texts):
    """The Python regex must reproduce the exported one on ASCII: every character is covered
    exactly once and the split is the one the \\p{...} classes would give."""
    for t in texts:
        pieces = _PY_REGEX.findall(t)
        assert "".join(pieces) == t, t
        assert all(ord(c) < 128 for c in t), "non-ASCII training text: regex agreement unchecked"


class BPE:
    def __init__(self, vocab, merges):
        self.vocab = vocab  # token string -> id (byte-level unicode strings)
        self.merges = merges  # list of (a, b)
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.id_to_token = {i: t for t, i in vocab.items()}
        self.cache = {}
        self.bos_id = vocab[BOS]
        self.eos_id = vocab[EOS]

    @staticmethod
    def train(texts, vocab_size):
        """Classic BPE on pre-token frequencies; ties broken by the pair's string order so the
        result is a pure function of the corpus."""
        words = collections.Counter()
        for t in texts:
            words.update(pre_tokenize(t))
        vocab = {B2U[b]: b for b in range(256)}
        merges = []
        seqs = {w: list(w) for w in words}
        n_merges = vocab_size - 256 - 2
        for _ in range(n_merges):
            pairs = collections.Counter()
            for w, f in words.items():
                s = seqs[w]
                for a, b in zip(s, s[1:]):
                    pairs[(a, b)] += f
            if not pairs:
                break
            best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
            if pairs[best] < 2:
                break
            merges.append(best)
            new = best[0] + best[1]
            vocab[new] = len(vocab)
            for w in words:
                s = seqs[w]
                if len(s) < 2:
                    continue
                out, i = [], 0
                while i < len(s):
                    if i + 1 < len(s) and s[i] == best[0] and s[i + 1] == best[1]:
                        out.append(new)
                        i += 2
                    else:
                        out.append(s[i])
                        i += 1
                seqs[w] = out
        vocab[BOS] = len(vocab)
        vocab[EOS] = len(vocab)
        return BPE(vocab, merges)

    def _bpe(self, piece):
        if piece in self.cache:
            return self.cache[piece]
        parts = list(piece)
        while len(parts) > 1:
            best, best_rank = None, None
            for i in range(len(parts) - 1):
                r = self.ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = i, r
            if best is None:
                break
            parts[best:best + 2] = [parts[best] + parts[best + 1]]
        ids = [self.vocab[p] for p in parts]
        self.cache[piece] = ids
        return ids

    def encode(self, text):
        out = []
        for piece in pre_tokenize(text):
            out.extend(self._bpe(piece))
        return out

    def decode(self, ids):
        chars = "".join(self.id_to_token[i] for i in ids if i not in (self.bos_id, self.eos_id))
        return bytes(U2B[c] for c in chars).decode("utf-8", errors="replace")

    def tokenizer_json(self):
        special = [BOS, EOS]
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [
                {"id": self.vocab[t], "content": t, "single_word": False, "lstrip": False,
                 "rstrip": False, "normalized": False, "special": True}
                for t in special
            ],
            "normalizer": None,
            "pre_tokenizer": {
                "type": "Sequence",
                "pretokenizers": [
                    {"type": "Split", "pattern": {"Regex": PRE_TOKENIZER_REGEX},
                     "behavior": "Isolated", "invert": False},
                    {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                     "use_regex": False},
                ],
            },
            "post_processor": {
                "type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": BOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": BOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": BOS, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {BOS: {"id": BOS, "ids": [self.vocab[BOS]], "tokens": [BOS]}},
            },
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {
                "type": "BPE",
                "dropout": None,
                "unk_token": None,
                "continuing_subword_prefix": None,
                "end_of_word_suffix": None,
                "fuse_unk": False,
                "byte_fallback": False,
                "ignore_merges": False,
                "vocab": {t: i for t, i in sorted(self.vocab.items(), key=lambda kv: kv[1]) if t not in special},
                "merges": [[a, b] for a, b in self.merges],
            },
        }

    @staticmethod
    def from_tokenizer_json(obj):
        vocab = dict(obj["model"]["vocab"])
        for t in obj["added_tokens"]:
            vocab[t["content"]] = t["id"]
        merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in obj["model"]["merges"]]
        return BPE(vocab, merges)
