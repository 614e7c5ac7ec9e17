#!/usr/bin/env python3
"""Independent direct logit attribution of CrowS-Pairs minimal pairs in PyTorch, for checking
`glassbox bias-localize`. Nothing here comes from glassbox: the bench's GGUF reader (peer_torch.py), its
LLaMA weights and SentencePiece-BPE over the GGUF vocabulary (peer_bias_torch.py), and a forward pass of its
own that keeps every head's output before the output projection.

Definitions (TransformerLens decompose_resid / direct logit attribution): position t predicts u = ids[t+1];
x_t is the residual after the last block, s_t = 1/sqrt(mean(x_t^2) + eps) its RMSNorm scale, frozen;
g_t = s_t * w_norm * W_U[u]. embed = sum_t g_t . emb_t; head(l, h) = sum_t g_t . W_O[:, h] z_t(l, h);
mlp(l) = sum_t g_t . mlp_out_t(l); target_logits = sum_t logit_t[u]; log_partition = sum_t logsumexp(logit_t).
Sentences are [BOS] + encode(sentence) (lm-evaluation-harness rule). A pair's terms are sent_more - sent_less.

    python3 bench/peer_localize_torch.py --model stories260K.gguf --data crows_pairs_anonymized.csv --limit 20

Prints one JSON line per pair: {"id", "more_ids", "less_ids", "embed", "heads" (L x H), "mlp" (L),
"target_logits", "log_partition", "ll", "sum_terms"} (differences, float64).
"""
import argparse
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_bias_torch import Llama, SpmBpe, read_crows  # noqa: E402


def decompose(m, ids):
    """Terms of one sentence (ids include the BOS; the last id is only a target)."""
    c = m.cfg
    H, K, D = c["heads"], c["kv"], c["dim"]
    E = D // H
    inp = torch.tensor([ids[:-1]], dtype=torch.long)
    T = inp.shape[1]
    x = m.emb[inp]
    embed = x[0].clone()
    mask = torch.full((T, T), float("-inf"), dtype=x.dtype).triu(1)
    heads, mlps = [], []
    for l in m.layers:
        h = m.rms(x, l["an"])
        q = m.apply_rope((h @ l["wq"].T).view(1, T, H, E)).transpose(1, 2)
        k = m.apply_rope((h @ l["wk"].T).view(1, T, K, E)).transpose(1, 2)
        v = (h @ l["wv"].T).view(1, T, K, E).transpose(1, 2)
        if K != H:
            k, v = k.repeat_interleave(H // K, dim=1), v.repeat_interleave(H // K, dim=1)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(E) + mask, dim=-1)
        z = (att @ v)[0]  # (H, T, E)
        wo = l["wo"].view(D, H, E)  # (D, H, E)
        per_head = torch.einsum("hte,dhe->htd", z, wo)  # (H, T, D): each head's write into the residual
        heads.append(per_head)
        x = x + per_head.sum(0)[None]
        h = m.rms(x, l["fn"])
        mo = (torch.nn.functional.silu(h @ l["w1"].T) * (h @ l["w3"].T)) @ l["w2"].T
        mlps.append(mo[0])
        x = x + mo
    xf = x[0]  # (T, D)
    logits = m.rms(x, m.out_norm)[0] @ m.out.T  # (T, V)
    tgt = torch.tensor(ids[1:], dtype=torch.long)
    s = torch.rsqrt((xf * xf).mean(-1, keepdim=True) + c["eps"])  # (T, 1) frozen scale
    g = s * m.out_norm[None, :] * m.out[tgt]  # (T, D)
    r = {"embed": float((g * embed).sum()),
         "heads": [[float((g * hh[j]).sum()) for j in range(H)] for hh in heads],
         "mlp": [float((g * mo).sum()) for mo in mlps],
         "target_logits": float(logits.gather(-1, tgt[:, None]).sum()),
         "log_partition": float(torch.logsumexp(logits, dim=-1).sum())}
    r["ll"] = r["target_logits"] - r["log_partition"]
    r["sum_terms"] = r["embed"] + sum(map(sum, r["heads"])) + sum(r["mlp"])
    return r


def minus(a, b):
    out = {}
    for k, v in a.items():
        if k == "heads":
            out[k] = [[x - y for x, y in zip(ra, rb)] for ra, rb in zip(v, b[k])]
        elif isinstance(v, list):
            out[k] = [x - y for x, y in zip(v, b[k])]
        else:
            out[k] = v - b[k]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="a llama GGUF (f32/f16)")
    ap.add_argument("--data", required=True, help="crows_pairs_anonymized.csv")
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model, meta = Llama.from_gguf(a.model, torch.float64)
    tok = SpmBpe(meta)
    prefix = tok.bos if tok.bos is not None and tok.bos >= 0 else tok.eos
    rows = read_crows(a.data)[:a.limit]
    with torch.inference_mode():
        for r in rows:
            ids = {}
            for which in ("more", "less"):
                cont = tok.encode(r[which])
                ids[which] = cont if cont and cont[0] == prefix else [prefix] + cont
            d = minus(decompose(model, ids["more"]), decompose(model, ids["less"]))
            d.update({"id": r["id"], "more_ids": ids["more"], "less_ids": ids["less"]})
            print(json.dumps(d))


if __name__ == "__main__":
    sys.exit(main())
