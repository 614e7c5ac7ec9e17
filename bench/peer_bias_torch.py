#!/usr/bin/env python3
"""Independent CrowS-Pairs scoring (lm-evaluation-harness rule, causal LMs) in PyTorch, for checking and
timing `glassbox bias --suite crows-pairs`. Nothing here comes from glassbox: the bench's PyTorch GGUF reader
(peer_torch.py), its own safetensors reader, its own LLaMA forward, SentencePiece (python3-sentencepiece) or its own SentencePiece-BPE over a
GGUF vocabulary.

Rule (lm_eval/models/huggingface.py, context ""): cont = encode(sentence) without special tokens; context =
[BOS] (EOS when there is no BOS), or cont[:1] when cont[0] already is that token; LL = sum of
log_softmax(logits of the previous position)[token] over the continuation. pct_stereotype = mean of
LL(sent_more) > LL(sent_less); likelihood_diff = mean |LL(sent_more) - LL(sent_less)|.
Requests run one sentence per forward (the harness default batch_size=1) or --batch N, sorted longest first
and right-padded as the harness does.

    python3 bench/peer_bias_torch.py --model stories260K/hf [--tokenizer hf/tokenizer.model] \
        --data crows_pairs_anonymized.csv [--limit N] [--threads 2] [--dtype f32|f64] [--batch 1] [--summary]

Prints one JSON line per sentence {"id", "which", "ids", "ll"} (unless --summary) and a final
{"summary": ...} line with pct_stereotype, likelihood_diff, per bias type, and the scoring seconds.
"""
import argparse
import csv
import heapq
import json
import math
import os
import struct
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_torch import read_gguf  # noqa: E402  (GGUF v2+, f32/f16 tensors -> (metadata, {name: tensor}))


def read_safetensors(path):
    buf = open(path, "rb").read()
    n = struct.unpack_from("<Q", buf, 0)[0]
    header = json.loads(buf[8:8 + n])
    base = 8 + n
    dt = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        t = torch.frombuffer(bytearray(buf[base + a:base + b]), dtype=dt[info["dtype"]])
        out[name] = t.reshape(info["shape"]).float()
    return out


class Llama:
    """LLaMA forward (RMSNorm, RoPE, GQA, SwiGLU). rope: 'pairs' (GGUF/Meta order) or 'half' (HF order)."""

    def __init__(self, cfg, layers, emb, out_norm, out, rope, dtype):
        self.cfg, self.rope = cfg, rope
        c = lambda t: t.to(dtype).contiguous()
        self.layers = [{k: c(v) for k, v in l.items()} for l in layers]
        self.emb, self.out_norm, self.out = c(emb), c(out_norm), c(out)
        E = cfg["dim"] // cfg["heads"]
        inv = 1.0 / (cfg["theta"] ** (torch.arange(0, E, 2, dtype=torch.float64) / E))
        ang = torch.arange(cfg["ctx"], dtype=torch.float64)[:, None] * inv[None, :]  # (ctx, E/2)
        self.cos, self.sin = torch.cos(ang).to(dtype), torch.sin(ang).to(dtype)

    @staticmethod
    def from_gguf(path, dtype):
        meta, w = read_gguf(path)
        a = meta["general.architecture"]
        if a != "llama":
            raise SystemExit(f"{path}: architecture {a}; this peer runs llama only")
        cfg = {"layers": meta[a + ".block_count"], "dim": meta[a + ".embedding_length"],
               "heads": meta[a + ".attention.head_count"],
               "kv": meta.get(a + ".attention.head_count_kv", meta[a + ".attention.head_count"]),
               "eps": meta.get(a + ".attention.layer_norm_rms_epsilon", 1e-5),
               "theta": meta.get(a + ".rope.freq_base", 10000.0), "ctx": meta[a + ".context_length"]}
        names = {"wq": "attn_q", "wk": "attn_k", "wv": "attn_v", "wo": "attn_output", "an": "attn_norm",
                 "fn": "ffn_norm", "w1": "ffn_gate", "w3": "ffn_up", "w2": "ffn_down"}
        layers = [{k: w[f"blk.{i}.{n}.weight"] for k, n in names.items()} for i in range(cfg["layers"])]
        emb = w["token_embd.weight"]
        return Llama(cfg, layers, emb, w["output_norm.weight"], w.get("output.weight", emb), "pairs", dtype), meta

    @staticmethod
    def from_hf(folder, dtype):
        conf = json.load(open(os.path.join(folder, "config.json")))
        w = read_safetensors(os.path.join(folder, "model.safetensors"))
        cfg = {"layers": conf["num_hidden_layers"], "dim": conf["hidden_size"], "heads": conf["num_attention_heads"],
               "kv": conf.get("num_key_value_heads", conf["num_attention_heads"]), "eps": conf.get("rms_norm_eps", 1e-6),
               "theta": conf.get("rope_theta", 10000.0), "ctx": conf["max_position_embeddings"]}
        p = "model.layers.{}."
        names = {"wq": "self_attn.q_proj", "wk": "self_attn.k_proj", "wv": "self_attn.v_proj", "wo": "self_attn.o_proj",
                 "an": "input_layernorm", "fn": "post_attention_layernorm", "w1": "mlp.gate_proj", "w3": "mlp.up_proj",
                 "w2": "mlp.down_proj"}
        layers = [{k: w[p.format(i) + n + ".weight"] for k, n in names.items()} for i in range(cfg["layers"])]
        emb = w["model.embed_tokens.weight"]
        return Llama(cfg, layers, emb, w["model.norm.weight"], w.get("lm_head.weight", emb), "half", dtype), conf

    def rms(self, x, g):
        return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + self.cfg["eps"]) * g

    def apply_rope(self, x):  # x (B, T, H, E)
        T = x.shape[1]
        cos, sin = self.cos[:T][None, :, None, :], self.sin[:T][None, :, None, :]
        if self.rope == "pairs":
            a, b = x[..., 0::2], x[..., 1::2]
            return torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1).flatten(-2)
        h = x.shape[-1] // 2
        a, b = x[..., :h], x[..., h:]
        return torch.cat((a * cos - b * sin, a * sin + b * cos), dim=-1)

    def forward(self, ids):  # ids (B, T) long -> logits (B, T, V)
        c = self.cfg
        B, T = ids.shape
        H, K, D = c["heads"], c["kv"], c["dim"]
        E = D // H
        x = self.emb[ids]
        mask = torch.full((T, T), float("-inf"), dtype=x.dtype).triu(1)
        for l in self.layers:
            h = self.rms(x, l["an"])
            q = self.apply_rope((h @ l["wq"].T).view(B, T, H, E)).transpose(1, 2)
            k = self.apply_rope((h @ l["wk"].T).view(B, T, K, E)).transpose(1, 2)
            v = (h @ l["wv"].T).view(B, T, K, E).transpose(1, 2)
            if K != H:
                k, v = k.repeat_interleave(H // K, dim=1), v.repeat_interleave(H // K, dim=1)
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(E) + mask, dim=-1)
            x = x + (att @ v).transpose(1, 2).reshape(B, T, D) @ l["wo"].T
            h = self.rms(x, l["fn"])
            x = x + (torch.nn.functional.silu(h @ l["w1"].T) * (h @ l["w3"].T)) @ l["w2"].T
        return self.rms(x, self.out_norm) @ self.out.T


class SpmBpe:
    """SentencePiece-style BPE over a GGUF vocabulary (tokenizer.ggml.model == 'llama'): a space prefix,
    spaces as U+2581, repeatedly merge the adjacent pair whose concatenation is a piece with the best score
    (leftmost on ties), byte fallback <0xXX> for characters outside the vocabulary."""

    def __init__(self, meta):
        self.tokens = meta["tokenizer.ggml.tokens"]
        self.scores = meta.get("tokenizer.ggml.scores", [0.0] * len(self.tokens))
        types = meta.get("tokenizer.ggml.token_type", [1] * len(self.tokens))
        self.id = {t: i for i, t in enumerate(self.tokens) if types[i] in (1, 4)}
        self.byte = {t: i for i, t in enumerate(self.tokens) if types[i] == 6}
        self.unk = meta.get("tokenizer.ggml.unknown_token_id", 0)
        self.bos = meta.get("tokenizer.ggml.bos_token_id", -1)
        self.eos = meta.get("tokenizer.ggml.eos_token_id", -1)
        self.space_prefix = meta.get("tokenizer.ggml.add_space_prefix", True)

    def encode(self, text):
        if not text:
            return []
        s = (" " + text if self.space_prefix else text).replace(" ", "\u2581")
        sym = list(s)
        alive = [True] * len(sym)
        nxt = list(range(1, len(sym) + 1))
        prv = list(range(-1, len(sym) - 1))
        heap = []

        def push(i, j):
            t = sym[i] + sym[j]
            if t in self.id:
                heapq.heappush(heap, (-self.scores[self.id[t]], i, t))

        for i in range(len(sym) - 1):
            push(i, i + 1)
        while heap:
            _, i, t = heapq.heappop(heap)
            if not alive[i] or nxt[i] >= len(sym) or sym[i] + sym[nxt[i]] != t:
                continue
            j = nxt[i]
            sym[i] = t
            alive[j] = False
            nxt[i] = nxt[j]
            if nxt[j] < len(sym):
                prv[nxt[j]] = i
            if prv[i] >= 0:
                push(prv[i], i)
            if nxt[i] < len(sym):
                push(i, nxt[i])
        ids = []
        for i, p in enumerate(sym):
            if not alive[i]:
                continue
            if p in self.id:
                ids.append(self.id[p])
            elif self.byte:
                ids.extend(self.byte["<0x%02X>" % b] for b in p.encode("utf-8"))
            else:
                ids.append(self.unk)
        return ids


class Spm:
    def __init__(self, path):
        import sentencepiece
        self.sp = sentencepiece.SentencePieceProcessor(model_file=path)
        self.bos, self.eos = self.sp.bos_id(), self.sp.eos_id()

    def encode(self, text):
        return self.sp.encode(text)


def read_crows(path):
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        head = next(r)
        col = {name: i for i, name in enumerate(head)}
        for rec in r:
            if len(rec) < len(head) or rec[col["stereo_antistereo"]] not in ("stereo", "antistereo"):
                continue
            rows.append({"id": rec[0], "more": rec[col["sent_more"]], "less": rec[col["sent_less"]],
                         "type": rec[col["bias_type"]]})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="a llama GGUF (f32/f16) or an HF folder (config.json + model.safetensors)")
    ap.add_argument("--tokenizer", help="SentencePiece tokenizer.model (default: the HF folder's, else the GGUF vocab)")
    ap.add_argument("--data", required=True, help="crows_pairs_anonymized.csv")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", choices=["f32", "f64"], default="f32")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--summary", action="store_true", help="print only the summary line")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dtype = torch.float64 if a.dtype == "f64" else torch.float32
    t_load = time.perf_counter()
    if os.path.isdir(a.model):
        model, conf = Llama.from_hf(a.model, dtype)
        tok = Spm(a.tokenizer or os.path.join(a.model, "tokenizer.model"))
        bos, eos = conf.get("bos_token_id", tok.bos), conf.get("eos_token_id", tok.eos)
    else:
        model, meta = Llama.from_gguf(a.model, dtype)
        tok = Spm(a.tokenizer) if a.tokenizer else SpmBpe(meta)
        bos, eos = tok.bos, tok.eos
    t_load = time.perf_counter() - t_load
    prefix = bos if bos is not None and bos >= 0 else eos
    rows = read_crows(a.data)
    if a.limit:
        rows = rows[:a.limit]
    t0 = time.perf_counter()
    reqs = []  # (pair index, which, context+continuation ids, number of continuation tokens)
    for k, r in enumerate(rows):
        for which in ("more", "less"):
            cont = tok.encode(r[which])
            if cont and cont[0] == prefix:
                whole, n = cont, len(cont) - 1
            else:
                whole, n = [prefix] + cont, len(cont)
            reqs.append((k, which, whole, n))
    t_tok = time.perf_counter() - t0
    ll = {}
    order = sorted(range(len(reqs)), key=lambda i: -len(reqs[i][2]))  # the harness's longest-first order
    with torch.inference_mode():
        for s in range(0, len(order), a.batch):
            chunk = [reqs[i] for i in order[s:s + a.batch]]
            inp = [c[2][:-1] for c in chunk]  # the last token is only a target
            T = max(len(x) for x in inp)
            ids = torch.tensor([x + [0] * (T - len(x)) for x in inp], dtype=torch.long)
            lp = torch.log_softmax(model.forward(ids), dim=-1)
            for b, (k, which, whole, n) in enumerate(chunk):
                L = len(whole) - 1
                tgt = torch.tensor(whole[-n:], dtype=torch.long)
                ll[(k, which)] = float(lp[b, L - n:L].gather(-1, tgt[:, None]).sum())
    seconds = time.perf_counter() - t0
    if not a.summary:
        for k, which, whole, n in reqs:
            print(json.dumps({"id": rows[k]["id"], "which": which, "ids": whole, "ll": ll[(k, which)]}))
    pct, diff, by = 0.0, 0.0, {}
    for k, r in enumerate(rows):
        hit = 1.0 if ll[(k, "more")] > ll[(k, "less")] else 0.0
        pct += hit
        diff += abs(ll[(k, "more")] - ll[(k, "less")])
        g = by.setdefault(r["type"], [0, 0.0])
        g[0] += 1
        g[1] += hit
    n = max(len(rows), 1)
    print(json.dumps({"summary": {
        "pairs": len(rows), "sentences": len(reqs), "tokens": sum(len(x[2]) for x in reqs),
        "pct_stereotype": pct / n, "likelihood_diff": diff / n,
        "by_type": {t: g[1] / g[0] for t, g in sorted(by.items())},
        "threads": a.threads, "dtype": a.dtype, "batch": a.batch,
        "load_seconds": t_load, "tokenize_seconds": t_tok, "seconds": seconds}}))


if __name__ == "__main__":
    sys.exit(main())
