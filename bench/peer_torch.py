#!/usr/bin/env python3
"""PyTorch peer for bench_forward.sh: the same LLaMA GGUF (f32 or f16 weights, computed in f32 as a
PyTorch CPU user would), pp (one batch of N tokens) and tg (N tokens one at a time with a KV cache),
`reps` timed runs after a warm-up. Prints one JSON line.

    python3 bench/peer_torch.py MODEL.gguf [pp=512] [tg=128] [threads=2] [reps=3]

Threads, made fair (PyTorch at its best on `threads` cores): Debian's python3-torch 1.13 is built with
BLAS_INFO=generic, so its f32 matmuls go to whatever libblas.so.3 the alternatives system selects (the
reference BLAS is ~25x slower; install libopenblas0-pthread). OpenBLAS (pthreads) starts its own
`threads` workers inside each matmul while torch's OpenMP team runs the element-wise ops; with the
default active wait policy torch's idle OpenMP workers spin on the cores OpenBLAS needs, which made
generation (one-token matvecs) ~8x slower. So: OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = threads and
OMP_WAIT_POLICY=PASSIVE, set before torch is imported (the caller's environment wins when set).
The printed JSON names the BLAS library in use ("blas").
"""
import json
import math
import os
import struct
import sys
import time

if __name__ == "__main__":  # as a script only (bench/peer_bias_torch.py imports read_gguf from here)
    _threads = sys.argv[4] if len(sys.argv) > 4 else "2"
    for _k, _v in (("OPENBLAS_NUM_THREADS", _threads), ("OMP_NUM_THREADS", _threads), ("OMP_WAIT_POLICY", "PASSIVE")):
        os.environ.setdefault(_k, _v)

import torch  # noqa: E402 (after the thread settings)
import torch.nn.functional as F

SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def read_gguf(path):
    buf = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from(fmt, buf, pos)
        pos += struct.calcsize(fmt)
        return v[0]

    def string():
        nonlocal pos
        n = take("<Q")
        s = buf[pos:pos + n].decode("utf-8", "replace")
        pos += n
        return s

    def value(t):
        if t == 8:
            return string()
        if t == 9:
            et, n = take("<I"), take("<Q")
            return [value(et) for _ in range(n)]
        return take(SCALAR[t])

    assert buf[:4] == b"GGUF"
    pos = 4
    version = take("<I")
    assert version >= 2, "GGUF v2+ only"
    n_t, n_kv = take("<Q"), take("<Q")
    meta = {}
    for _ in range(n_kv):
        k = string()
        meta[k] = value(take("<I"))
    infos = []
    for _ in range(n_t):
        name = string()
        nd = take("<I")
        ne = [take("<Q") for _ in range(nd)]
        infos.append((name, ne, take("<I"), take("<Q")))
    align = meta.get("general.alignment", 32)
    base = (pos + align - 1) // align * align
    tensors = {}
    for name, ne, typ, off in infos:
        n = math.prod(ne)
        dt = {0: torch.float32, 1: torch.float16}[typ]
        size = n * (4 if typ == 0 else 2)
        t = torch.frombuffer(bytearray(buf[base + off:base + off + size]), dtype=dt).reshape(list(reversed(ne)))
        tensors[name] = t.float()
    return meta, tensors


class Llama:
    def __init__(self, meta, w):
        a = meta["general.architecture"]
        self.w = w
        self.n_layer = meta[a + ".block_count"]
        self.n_head = meta[a + ".attention.head_count"]
        self.n_kv = meta.get(a + ".attention.head_count_kv", self.n_head)
        self.eps = meta.get(a + ".attention.layer_norm_rms_epsilon", 1e-5)
        self.theta = meta.get(a + ".rope.freq_base", 10000.0)
        d = w["token_embd.weight"].shape[1]
        self.hd = d // self.n_head
        self.out = w.get("output.weight", w["token_embd.weight"])

    def rope(self, x, p0):  # x (T, H, E), interleaved pairs (GGUF layout)
        T, E = x.shape[0], x.shape[2]
        inv = self.theta ** (-torch.arange(0, E, 2, dtype=torch.float64) / E)
        ang = torch.outer(torch.arange(p0, p0 + T, dtype=torch.float64), inv)
        c = torch.polar(torch.ones_like(ang), ang).to(torch.complex64)
        xc = torch.view_as_complex(x.reshape(T, x.shape[1], E // 2, 2))
        return torch.view_as_real(xc * c[:, None, :]).reshape(x.shape)

    def norm(self, x, g):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * g

    @torch.inference_mode()
    def forward(self, ids, cache, last_only=True):
        w, H, Hk, E = self.w, self.n_head, self.n_kv, self.hd
        p0 = cache[0][0].shape[0] if cache and cache[0] else 0
        x = w["token_embd.weight"][ids]
        T = x.shape[0]
        for l in range(self.n_layer):
            b = f"blk.{l}."
            h = self.norm(x, w[b + "attn_norm.weight"])
            q = self.rope((h @ w[b + "attn_q.weight"].T).view(T, H, E), p0)
            k = self.rope((h @ w[b + "attn_k.weight"].T).view(T, Hk, E), p0)
            v = (h @ w[b + "attn_v.weight"].T).view(T, Hk, E)
            if cache[l]:
                k = torch.cat([cache[l][0], k]); v = torch.cat([cache[l][1], v])
            cache[l] = (k, v)
            kk = k.repeat_interleave(H // Hk, dim=1).transpose(0, 1)
            vv = v.repeat_interleave(H // Hk, dim=1).transpose(0, 1)
            s = (q.transpose(0, 1) @ kk.transpose(1, 2)) / math.sqrt(E)
            P = kk.shape[1]
            mask = torch.ones(T, P, dtype=torch.bool).tril(P - T)
            s = s.masked_fill(~mask, float("-inf"))
            o = (torch.softmax(s, -1) @ vv).transpose(0, 1).reshape(T, H * E)
            x = x + o @ w[b + "attn_output.weight"].T
            h = self.norm(x, w[b + "ffn_norm.weight"])
            x = x + (F.silu(h @ w[b + "ffn_gate.weight"].T) * (h @ w[b + "ffn_up.weight"].T)) @ w[b + "ffn_down.weight"].T
        x = self.norm(x[-1:] if last_only else x, w["output_norm.weight"])
        return x @ self.out.T


def blas_info():
    """BLAS_INFO from torch's build config, plus the libblas.so.3 that the dynamic loader resolved."""
    cfg = torch.__config__.show()
    info = cfg.split("BLAS_INFO=")[1].split(",")[0] if "BLAS_INFO=" in cfg else "?"
    lib = "?"
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({ln.split()[-1] for ln in f if "blas" in ln.lower() and "/" in ln})
        lib = " ".join(os.path.realpath(x) for x in libs) or "none loaded"
    except OSError:
        pass
    return f"BLAS_INFO={info}; loaded: {lib}"


def main():
    path = sys.argv[1]
    args, defaults = sys.argv[2:], [512, 128, 2, 3]
    pp, tg, threads, reps = (int(args[i]) if i < len(args) else defaults[i] for i in range(4))
    torch.set_num_threads(threads)
    meta, w = read_gguf(path)
    m = Llama(meta, w)
    g = torch.Generator().manual_seed(1234)
    out = {"peer": f"PyTorch {torch.__version__}", "model": path, "threads": threads, "blas": blas_info(),
           "env": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "OMP_WAIT_POLICY")}}

    def stats(v):
        mean = sum(v) / len(v)
        sd = math.sqrt(sum((x - mean) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
        return {"mean": mean, "sd": sd, "runs": v}

    for name, n, batch in (("pp", pp, True), ("tg", tg, False)):
        if n <= 0:
            continue
        v = []
        for r in range(reps + 1):
            ids = torch.randint(3, 32000, (n,), generator=g)
            cache = [None] * m.n_layer
            t0 = time.perf_counter()
            if batch:
                m.forward(ids, cache)
            else:
                for i in range(n):
                    m.forward(ids[i:i + 1], cache)
            dt = time.perf_counter() - t0
            if r > 0:
                v.append(n / dt)
        out[name] = stats(v)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
