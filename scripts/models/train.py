#!/usr/bin/env python3
"""Train one of Sluice's tiny (~1M parameter) shipped language models on CPU.

    /usr/bin/python3 scripts/models/train.py --arch llama --minutes 4 --out models/training/llama3
    /usr/bin/python3 scripts/models/train.py --arch qwen2 --minutes 4 --out models/training/qwen2

Needs only Debian's python3-torch and python3-numpy (no other Python packages, no network).
Reads models/training/corpus.txt (made by scripts/models/prepare_corpus.py), trains a
SentencePiece-style BPE tokenizer (the algorithm llama.cpp's "llama"/SPM tokenizer runs at
inference, reimplemented here), trains a llama- or qwen2-architecture decoder, and writes
model.safetensors, config.json, tokenizer.json and train_log.txt into --out, in the layout the
GGUF exporter (npm run model:export) reads.

RoPE is computed the way llama.cpp computes it for each architecture, because the exporter
does not permute q/k: llama = ggml "NORM" rope (adjacent pairs x[2i], x[2i+1]);
qwen2 = "NEOX" rope (pairs x[i], x[i + head_dim/2]).

--minutes N times a few steps, fixes the step count that fits N minutes and records it;
--steps S reruns exactly S steps (same learning-rate schedule) for reproduction.
"""
import os

# One OpenBLAS thread per torch thread: OpenBLAS's own pool fighting torch's OpenMP threads
# made a training step ~2x slower on a 2-core machine. Must be set before numpy/torch load.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import heapq
import json
import math
import random
import struct
import sys
import time
from collections import Counter

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SPACE = "\u2581"  # '▁'
UNK, BOS, EOS = 0, 1, 2
N_SPECIAL = 3
BYTE_BASE = N_SPECIAL  # <0x00> .. <0xFF> are ids 3 .. 258
TYPE_NORMAL, TYPE_UNKNOWN, TYPE_CONTROL, TYPE_BYTE = 1, 2, 3, 6


# ----------------------------------------------------------------------------------------
# Tokenizer: BPE learned on the corpus, applied with llama.cpp's SPM merge algorithm
# ----------------------------------------------------------------------------------------
def spm_normalize(text):
    """What llama.cpp does to raw text before SPM tokenization: a leading space
    (add_space_prefix) and every ' ' replaced by '▁'."""
    return (" " + text).replace(" ", SPACE)


def split_words(norm):
    """Split normalized text at '▁'. No vocab piece has '▁' except at its start and the
    corpus has single spaces, so no merge can cross a word start: encoding word by word
    gives exactly what llama.cpp gets on the whole string."""
    words, start = [], 0
    for i in range(1, len(norm)):
        if norm[i] == SPACE:
            words.append(norm[start:i])
            start = i
    words.append(norm[start:])
    return [w for w in words if w]


class SpmTokenizer:
    def __init__(self, tokens, scores, types):
        self.tokens, self.scores, self.types = tokens, scores, types
        self.index = {t: i for i, t in enumerate(tokens) if types[i] == TYPE_NORMAL}
        self.cache = {}

    # --- training ----------------------------------------------------------------------
    @classmethod
    def train(cls, lines, vocab_size, log=print):
        word_counts = Counter()
        for line in lines:
            word_counts.update(split_words(spm_normalize(line)))
        char_counts = Counter()
        for w, c in word_counts.items():
            for ch in w:
                char_counts[ch] += c
        chars = sorted(char_counts, key=lambda ch: (-char_counts[ch], ch))
        tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + chars
        n_merges = vocab_size - len(tokens)
        if n_merges < 0:
            raise SystemExit(f"vocab_size {vocab_size} too small for {len(chars)} corpus characters")
        vocab = set(chars)

        # incremental BPE over the unique words
        words = [list(w) for w in word_counts]
        counts = [word_counts[w] for w in word_counts]
        pair_counts = Counter()
        where = {}  # pair -> set of word indices containing it
        for wi, syms in enumerate(words):
            for a, b in zip(syms, syms[1:]):
                pair_counts[(a, b)] += counts[wi]
                where.setdefault((a, b), set()).add(wi)
        merges = []
        while len(merges) < n_merges and pair_counts:
            best = max(pair_counts.items(), key=lambda kv: (kv[1], kv[0]))
            (a, b), cnt = best
            if cnt < 2:
                break
            new = a + b
            for wi in list(where.get((a, b), ())):
                syms = words[wi]
                c = counts[wi]
                for x, y in zip(syms, syms[1:]):
                    pair_counts[(x, y)] -= c
                    if pair_counts[(x, y)] <= 0:
                        del pair_counts[(x, y)]
                    s = where.get((x, y))
                    if s is not None:
                        s.discard(wi)
                out, i = [], 0
                while i < len(syms):
                    if i + 1 < len(syms) and syms[i] == a and syms[i + 1] == b:
                        out.append(new)
                        i += 2
                    else:
                        out.append(syms[i])
                        i += 1
                words[wi] = out
                for x, y in zip(out, out[1:]):
                    pair_counts[(x, y)] += c
                    where.setdefault((x, y), set()).add(wi)
            where.pop((a, b), None)
            pair_counts.pop((a, b), None)
            if new not in vocab:
                vocab.add(new)
                merges.append(new)
        tokens += merges
        # scores: merges decrease with rank (first merge highest); characters below all
        # merges (their score is never used for a merge); specials and bytes 0.
        scores = [0.0] * (N_SPECIAL + 256)
        scores += [-float(len(merges) + 1 + i) for i in range(len(chars))]
        scores += [-float(1 + r) for r in range(len(merges))]
        types = [TYPE_UNKNOWN, TYPE_CONTROL, TYPE_CONTROL] + [TYPE_BYTE] * 256
        types += [TYPE_NORMAL] * (len(chars) + len(merges))
        log(f"tokenizer: {len(tokens)} tokens = 3 special + 256 byte + {len(chars)} chars + {len(merges)} merges")
        return cls(tokens, scores, types)

    # --- encoding (llama.cpp llm_tokenizer_spm, per word) ----------------------------------
    def _encode_word(self, word):
        ids = self.cache.get(word)
        if ids is not None:
            return ids
        text = list(word)  # symbols: UTF-8 characters
        n = len(text)
        prev = list(range(-1, n - 1))
        nxt = list(range(1, n + 1))
        nxt[-1] = -1
        alive = [True] * n
        heap = []

        def try_add(left, right):
            if left == -1 or right == -1:
                return
            piece = text[left] + text[right]
            tid = self.index.get(piece)
            if tid is None:
                return
            # llama.cpp: highest score first, then leftmost
            heapq.heappush(heap, (-self.scores[tid], left, right, len(piece)))

        for i in range(n - 1):
            try_add(i, i + 1)
        while heap:
            _, left, right, size = heapq.heappop(heap)
            if not alive[left] or not alive[right] or len(text[left]) + len(text[right]) != size:
                continue
            text[left] += text[right]
            alive[right] = False
            nxt[left] = nxt[right]
            if nxt[right] != -1:
                prev[nxt[right]] = left
            try_add(prev[left], left)
            try_add(left, nxt[left])
        ids = []
        i = 0
        while i != -1:
            tid = self.index.get(text[i])
            if tid is not None:
                ids.append(tid)
            else:  # byte fallback
                ids.extend(BYTE_BASE + b for b in text[i].encode("utf-8"))
            i = nxt[i]
        self.cache[word] = ids
        return ids

    def encode(self, text, bos=False, eos=False):
        ids = [BOS] if bos else []
        for w in split_words(spm_normalize(text)):
            ids.extend(self._encode_word(w))
        if eos:
            ids.append(EOS)
        return ids

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            if self.types[i] == TYPE_BYTE:
                out.append(i - BYTE_BASE)
            elif self.types[i] == TYPE_NORMAL:
                out += self.tokens[i].replace(SPACE, " ").encode("utf-8")
        s = out.decode("utf-8", errors="replace")
        return s[1:] if s.startswith(" ") else s

    def to_json(self):
        return {
            "model": "llama",
            "tokens": self.tokens,
            "scores": self.scores,
            "token_types": self.types,
            "bos_id": BOS,
            "eos_id": EOS,
            "unk_id": UNK,
            "add_bos": True,
            "add_space_prefix": True,
        }


# ----------------------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------------------
class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(seq_len, head_dim, theta):
    inv = theta ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)  # theta^(-2i/d)
    ang = torch.arange(seq_len, dtype=torch.float64)[:, None] * inv[None, :]  # [T, d/2]
    return torch.cos(ang).float(), torch.sin(ang).float()


def apply_rope(x, cos, sin, neox):
    """x: [B, H, T, d]; cos/sin: [T, d/2]."""
    if neox:  # ggml NEOX (qwen2): pairs (x[i], x[i + d/2])
        half = x.shape[-1] // 2
        x0, x1 = x[..., :half], x[..., half:]
        return torch.cat([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1)
    # ggml NORM (llama): adjacent pairs (x[2i], x[2i+1])
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1).flatten(-2)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, h, kv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
        self.h, self.kv, self.hd = h, kv, d // h
        bias = cfg["architecture"] == "qwen2"
        self.q_proj = nn.Linear(d, h * self.hd, bias=bias)
        self.k_proj = nn.Linear(d, kv * self.hd, bias=bias)
        self.v_proj = nn.Linear(d, kv * self.hd, bias=bias)
        self.o_proj = nn.Linear(h * self.hd, d, bias=False)
        self.neox = cfg["architecture"] == "qwen2"

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.h, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.kv, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.kv, self.hd).transpose(1, 2)
        q = apply_rope(q, cos[:T], sin[:T], self.neox)
        k = apply_rope(k, cos[:T], sin[:T], self.neox)
        if self.kv != self.h:  # GQA: query head j uses kv head j // (h / kv), as llama.cpp
            k = k.repeat_interleave(self.h // self.kv, dim=1)
            v = v.repeat_interleave(self.h // self.kv, dim=1)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.hd))
        att = att.masked_fill(mask[:T, :T], float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, self.h * self.hd)
        return self.o_proj(y)


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, f = cfg["hidden_size"], cfg["intermediate_size"]
        self.gate_proj = nn.Linear(d, f, bias=False)
        self.up_proj = nn.Linear(d, f, bias=False)
        self.down_proj = nn.Linear(f, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.mlp = MLP(cfg)

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class Decoder(nn.Module):
    """Parameter names match Hugging Face's LlamaForCausalLM / Qwen2ForCausalLM."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = nn.Module()
        self.model.embed_tokens = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.model.layers = nn.ModuleList(Layer(cfg) for _ in range(cfg["num_hidden_layers"]))
        self.model.norm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        if cfg["tie_word_embeddings"]:
            self.lm_head.weight = self.model.embed_tokens.weight
        hd = cfg["hidden_size"] // cfg["num_attention_heads"]
        cos, sin = rope_tables(cfg["max_position_embeddings"], hd, cfg["rope_theta"])
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        n = cfg["max_position_embeddings"]
        self.register_buffer("mask", torch.triu(torch.ones(n, n, dtype=torch.bool), 1), persistent=False)
        for name, p in self.named_parameters():
            if name.endswith("norm.weight") or name.endswith("layernorm.weight"):
                continue
            if name.endswith(".bias"):
                nn.init.zeros_(p)
            elif name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * cfg["num_hidden_layers"]))
            else:
                nn.init.normal_(p, std=0.02)

    def forward(self, idx):
        x = self.model.embed_tokens(idx)
        for layer in self.model.layers:
            x = layer(x, self.cos, self.sin, self.mask)
        return self.lm_head(self.model.norm(x))


# ----------------------------------------------------------------------------------------
# Checkpoint writing (safetensors without the safetensors package)
# ----------------------------------------------------------------------------------------
def write_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        arr = np.ascontiguousarray(t.detach().cpu().float().numpy().astype("<f4"))
        data = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[b:e], dtype="<f4").reshape(info["shape"]).copy())
    return out


# ----------------------------------------------------------------------------------------
# Sampling
# ----------------------------------------------------------------------------------------
@torch.no_grad()
def generate(model, tok, prompt, max_new=60, temperature=0.0, top_k=40, gen=None):
    ids = tok.encode(prompt, bos=True)
    limit = model.cfg["max_position_embeddings"]
    for _ in range(max_new):
        logits = model(torch.tensor([ids[-limit:]]))[0, -1]
        if temperature <= 0:
            nid = int(logits.argmax())
        else:
            logits = logits / temperature
            if top_k:
                v, _ = torch.topk(logits, top_k)
                logits[logits < v[-1]] = float("-inf")
            nid = int(torch.multinomial(logits.softmax(-1), 1, generator=gen))
        if nid == EOS:
            break
        ids.append(nid)
    return tok.decode(ids[1:])  # whole sequence, so the space between prompt and continuation survives


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=["llama", "qwen2"], required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--corpus", default="models/training/corpus.txt")
    ap.add_argument("--minutes", type=float, default=4.0, help="training-loop time budget")
    ap.add_argument("--steps", type=int, default=0, help="exact step count (overrides --minutes)")
    ap.add_argument("--name", default=None)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--vocab", type=int, default=1024)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=None, help="default 4 (llama) / 2 (qwen2)")
    ap.add_argument("--ffn", type=int, default=384)
    ap.add_argument("--seq-len", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    log_lines = []

    def log(msg):
        print(msg, flush=True)
        log_lines.append(msg)

    t_start = time.time()
    if not os.path.exists(args.corpus):
        sys.exit(f"{args.corpus} missing: run scripts/models/prepare_corpus.py first")
    lines = [l.rstrip("\n") for l in open(args.corpus, encoding="utf-8") if l.strip()]
    tok = SpmTokenizer.train(lines, args.vocab, log=log)
    train_ids, val_ids = [], []
    for i, line in enumerate(lines):
        (val_ids if i % 50 == 0 else train_ids).extend(tok.encode(line, bos=True, eos=True))
    n_chars = sum(len(l) for l in lines)
    log(f"corpus: {len(lines)} docs, {n_chars} chars, {len(train_ids)} train + {len(val_ids)} val tokens "
        f"({n_chars / (len(train_ids) + len(val_ids)):.2f} chars/token); prep {time.time() - t_start:.1f}s")
    train_t = torch.tensor(train_ids, dtype=torch.long)
    val_t = torch.tensor(val_ids, dtype=torch.long)

    arch = args.arch
    cfg = {
        "architecture": arch,
        "vocab_size": len(tok.tokens),
        "hidden_size": args.dim,
        "intermediate_size": args.ffn,
        "num_hidden_layers": args.layers,
        "num_attention_heads": args.heads,
        "num_key_value_heads": args.kv_heads or (4 if arch == "llama" else 2),
        "max_position_embeddings": 1024,
        "rms_norm_eps": 1e-5 if arch == "llama" else 1e-6,
        "rope_theta": 10000.0 if arch == "llama" else 1000000.0,
        "tie_word_embeddings": False,
    }
    model = Decoder(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: {arch} {json.dumps(cfg)}; {n_params} parameters")

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    gen = torch.Generator().manual_seed(args.seed)
    T, B = args.seq_len, args.batch

    def batch(data, g):
        ix = torch.randint(0, len(data) - T - 1, (B,), generator=g)
        x = torch.stack([data[i:i + T] for i in ix])
        y = torch.stack([data[i + 1:i + T + 1] for i in ix])
        return x, y

    @torch.no_grad()
    def val_loss(n=8):
        model.eval()
        g = torch.Generator().manual_seed(999)
        losses = [F.cross_entropy(model(x).view(-1, cfg["vocab_size"]), y.view(-1)).item()
                  for x, y in (batch(val_t, g) for _ in range(n))]
        model.train()
        return sum(losses) / len(losses)

    total_steps = args.steps or None
    warmup = 30
    budget = args.minutes * 60

    def lr_at(step, total):
        if step < warmup:
            return args.lr * (step + 1) / warmup
        p = min(1.0, (step - warmup) / max(1, total - warmup))
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))

    model.train()
    t0 = time.time()
    step, ema = 0, None
    probe = 10
    while True:
        if total_steps is None and step == probe:
            per_step = (time.time() - t0) / probe
            total_steps = max(probe + 1, int(budget / per_step))
            log(f"timing: {per_step:.3f}s/step -> {total_steps} steps for {args.minutes} min")
        if total_steps is not None and step >= total_steps:
            break
        for group in opt.param_groups:
            group["lr"] = lr_at(step, total_steps or 10 ** 9)
        x, y = batch(train_t, gen)
        loss = F.cross_entropy(model(x).view(-1, cfg["vocab_size"]), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        if step % 50 == 0 or step == 1:
            log(f"step {step:5d}/{total_steps or '?'}  loss {loss.item():.4f}  ema {ema:.4f}  "
                f"lr {opt.param_groups[0]['lr']:.2e}  {time.time() - t0:.0f}s")
        if step % 250 == 0:
            log(f"step {step:5d}  val_loss {val_loss():.4f}")
    train_secs = time.time() - t0
    final_val = val_loss(16)
    log(f"done: {step} steps in {train_secs:.0f}s, final train loss (ema) {ema:.4f}, val loss {final_val:.4f}")

    # samples
    model.eval()
    samples = []
    sgen = torch.Generator().manual_seed(args.seed)
    for prompt in ["The ", "Once upon a time", "A hacker is", "In the beginning", "He said"]:
        g = generate(model, tok, prompt, temperature=0.0)
        s = generate(model, tok, prompt, temperature=0.8, top_k=40, gen=sgen)
        samples.append({"prompt": prompt, "greedy": g, "temperature_0.8": s})
        log(f"[greedy] {g!r}")
        log(f"[t=0.8 ] {s!r}")

    # checkpoint
    sd = {k: v for k, v in model.state_dict().items()}
    if cfg["tie_word_embeddings"]:
        sd.pop("lm_head.weight", None)
    write_safetensors(os.path.join(args.out, "model.safetensors"), sd, {"format": "pt"})
    name = args.name or ("sluice-llama3-tiny" if arch == "llama" else "sluice-qwen2-tiny")
    sources = json.load(open(os.path.splitext(args.corpus)[0] + ".sources.json"))
    config = dict(cfg)
    config.update({
        "name": name,
        "license": "CC0-1.0 (weights, by the Sluice project); trained only on public-domain text: "
                   "World English Bible, The Jargon File 4.4.7, Ambrose Bierce's The Devil's Dictionary",
        "description": (f"Tiny {arch}-architecture test model ({n_params} parameters) trained from scratch on CPU "
                        f"for {step} steps ({train_secs / 60:.1f} min); final train loss {ema:.3f}, "
                        f"val loss {final_val:.3f}. Writes English-like text, knows nothing. "
                        f"Greedy sample: {samples[0]['greedy']!r}. Sampled (t=0.8): {samples[1]['temperature_0.8']!r}"),
        "source": "Debian packages " + ", ".join(sources["packages"]) + "; files: "
                  + "; ".join(f"{s['package']}: {', '.join(s['files'])}" for s in sources["sources"].values())
                  + "; built by scripts/models/prepare_corpus.py",
        "num_parameters": n_params,
        "train": {
            "steps": step, "minutes": round(train_secs / 60, 2), "final_loss": round(ema, 4),
            "val_loss": round(final_val, 4), "seed": args.seed, "seq_len": T, "batch_size": B,
            "lr": args.lr, "optimizer": "AdamW(0.9,0.95,wd=0.1), warmup 30, cosine to 10%",
            "threads": args.threads, "torch": torch.__version__,
            "corpus_chars": n_chars, "train_tokens": len(train_ids),
            "command": f"scripts/models/train.py --arch {arch} --steps {step} --seed {args.seed}",
            "samples": samples,
        },
    })
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(args.out, "tokenizer.json"), "w") as f:
        json.dump(tok.to_json(), f)
    # round-trip check of the written checkpoint
    back = read_safetensors(os.path.join(args.out, "model.safetensors"))
    check = Decoder(cfg)
    check.load_state_dict(back, strict=not cfg["tie_word_embeddings"])
    check.eval()
    x = torch.tensor([tok.encode("The quick brown fox", bos=True)])
    with torch.no_grad():
        diff = (check(x) - model(x)).abs().max().item()
    log(f"checkpoint round-trip max |diff| {diff:.2e}; wrote {args.out} in {time.time() - t_start:.0f}s total")
    with open(os.path.join(args.out, "train_log.txt"), "w") as f:
        f.write("\n".join(log_lines) + "\n")
    assert diff == 0.0, "checkpoint round-trip mismatch"


if __name__ == "__main__":
    main()
