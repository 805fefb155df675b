#!/usr/bin/env python3
"""Times in PyTorch, on the same GPU, the cases bench/bench_cuda.cpp times in
sirs, under the same names (cuda/<op>/<shape>), the same way: CUDA events
around one call, the L2 cache flushed by a 256 MiB memset before each call,
the median of the timed calls after warm-up. Writes JSON {name: ms}.

  python3 scripts/bench_torch_cuda.py --out torch.json [--reps 50] [--tf32]

fp32 throughout, TF32 off (as sirs' default) unless --tf32.
"""
import argparse
import json
import os
import statistics
import sys

import torch
import torch.nn.functional as F


def cases(dev):
    def rn(*s, grad=False):
        g = torch.Generator(device="cpu").manual_seed(1)
        t = torch.randn(*s, generator=g).to(dev)
        return t.requires_grad_(grad)

    lab = lambda s: "x".join(str(d) for d in s)
    c = {}
    big = (1 << 26,)
    x = rn(*big); y = rn(*big)
    c["cuda/copy_d2d/" + lab(big)] = lambda: x.clone()
    c["cuda/add/" + lab(big)] = lambda: x + y
    act = (32, 64, 112, 112)
    a = rn(*act); bias = rn(64, 1, 1)
    c["cuda/add_channel_bias/" + lab(act)] = lambda: a + bias
    c["cuda/relu/" + lab(big)] = lambda: torch.relu(x)
    c["cuda/sigmoid/" + lab(big)] = lambda: torch.sigmoid(x)
    c["cuda/sum_all/" + lab(big)] = lambda: x.sum()
    mat = (8192, 8192)
    m = rn(*mat)
    c["cuda/sum_dim1/" + lab(mat)] = lambda: m.sum(1)
    c["cuda/sum_dim0/" + lab(mat)] = lambda: m.sum(0)
    lg = (8192, 1000)
    l = rn(*lg)
    c["cuda/softmax/" + lab(lg)] = lambda: torch.softmax(l, 1)
    w64, b64 = rn(64), rn(64)
    rm, rv = torch.zeros(64, device=dev), torch.ones(64, device=dev)
    c["cuda/batch_norm_train/" + lab(act)] = lambda: F.batch_norm(a, rm, rv, w64, b64, True, 0.1, 1e-5)
    gn = (32, 256, 32, 32)
    g = rn(*gn); w256, b256 = rn(256), rn(256)
    c["cuda/group_norm/" + lab(gn)] = lambda: F.group_norm(g, 32, w256, b256, 1e-5)
    # The backward alone: the graph is built once, outside the timed call.
    gx, gw, gb = g.clone().requires_grad_(), w256.clone().requires_grad_(), b256.clone().requires_grad_()
    gy, gdy = F.group_norm(gx, 32, gw, gb, 1e-5), rn(*gn)
    c["cuda/group_norm_backward/" + lab(gn)] = lambda: torch.autograd.grad(gy, [gx, gw, gb], gdy, retain_graph=True)
    gn_flat = (g.numel(),)
    gf = rn(*gn_flat)
    c["cuda/copy_d2d/" + lab(gn_flat)] = lambda: gf.clone()
    c["cuda/max_pool2d_3x3s2/" + lab(act)] = lambda: F.max_pool2d(a, 3, 2, 1)
    feat = (32, 512, 7, 7)
    f = rn(*feat)
    c["cuda/adaptive_avg_pool2d_1/" + lab(feat)] = lambda: F.adaptive_avg_pool2d(f, 1)
    dec = (32, 128, 64, 64)
    d = rn(*dec); dg = rn(*dec, grad=True); dy = rn(32, 128, 256, 256)
    c["cuda/upsample_bilinear_x4/" + lab(dec)] = lambda: F.interpolate(d, size=(256, 256), mode="bilinear", align_corners=False)
    c["cuda/upsample_bilinear_x4_backward/" + lab(dec)] = lambda: F.interpolate(dg, size=(256, 256), mode="bilinear", align_corners=False).backward(dy)
    seg = (32, 7, 256, 256)
    s = rn(*seg)
    t = torch.randint(0, 7, (32, 256, 256), generator=torch.Generator().manual_seed(5)).to(dev)
    c["cuda/cross_entropy/" + lab(seg)] = lambda: F.cross_entropy(s, t)
    ew = rn(10000, 300)
    idx = torch.randint(0, 10000, (128, 32), generator=torch.Generator().manual_seed(5)).to(dev)
    c["cuda/embedding/10000x300_128x32"] = lambda: F.embedding(idx, ew)
    for n in (1024, 4096):
        ma, mb = rn(n, n), rn(n, n)
        c["cuda/matmul/" + lab((n, n, n))] = (lambda ma, mb: lambda: ma @ mb)(ma, mb)
    for C, HW in ((64, 56), (128, 28), (256, 14), (512, 7)):
        xs = (32, C, HW, HW)
        cx, cw = rn(*xs), rn(C, C, 3, 3)
        gx, gw, gdy = rn(*xs, grad=True), rn(C, C, 3, 3, grad=True), rn(*xs)
        c["cuda/conv2d_fwd/" + lab(xs)] = (lambda cx, cw: lambda: F.conv2d(cx, cw, None, 1, 1))(cx, cw)
        c["cuda/conv2d_fwd_bwd/" + lab(xs)] = (lambda gx, gw, gdy: lambda: F.conv2d(gx, gw, None, 1, 1).backward(gdy))(gx, gw, gdy)
    ps = [torch.randn(188000, device=dev, requires_grad=True) for _ in range(62)]
    for p in ps:
        p.grad = torch.randn_like(p)
    opt = torch.optim.Adam(ps, lr=1e-4, fused=True)
    c["cuda/adam_step/62x188k"] = opt.step
    return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--tf32", action="store_true")
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cudnn.benchmark = True
    dev = torch.device("cuda")
    flush = torch.empty(256 << 20, dtype=torch.uint8, device=dev)
    # SIRS_BENCH_FLUSH=read: the memset, then a read of the whole buffer (as
    # bench/bench_cuda.cpp's flush_l2 does under the same variable).
    mode = os.environ.get("SIRS_BENCH_FLUSH", "memset")
    if mode not in ("memset", "read"):
        sys.exit(f"bench_torch_cuda.py: SIRS_BENCH_FLUSH must be memset or read, got '{mode}'")
    res_flush = mode
    res = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
           "cudnn": torch.backends.cudnn.version(), "flush": res_flush, "ms": {}}
    for name, fn in cases(dev).items():
        for _ in range(3):
            fn()
        torch.cuda.synchronize()
        times = []
        for _ in range(args.reps):
            flush.zero_()
            if res_flush == "read":
                flush.sum()
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            fn()
            e.record()
            e.synchronize()
            times.append(s.elapsed_time(e))
        res["ms"][name] = statistics.median(times)
        print(f"{name:60s} {res['ms'][name]:9.3f} ms", flush=True)
    with open(args.out, "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
