#!/usr/bin/python3
"""Times conv2d forward, backward-data and backward-filter in PyTorch CPU at
the four ResNet-18 stage shapes that bench/bench_conv2d.cpp times, so the two
tables can be compared side by side (docs/PERF.md).

  /usr/bin/python3 scripts/bench_torch_cpu.py [--threads 2] [--reps 15]

Each direction runs alone: forward under no_grad, backward through
aten.convolution_backward with an output_mask that asks for only dx or only
dw (+ bias grad, as ours computes it alongside dw). Warm-up, then the median
of --reps timed calls. GFLOP/s = 2*B*K*C*R*S*Ho*Wo / time, as in ours.
"""
import argparse
import statistics
import time

import torch

SHAPES = [  # (B, C, H, W, K, R, S, stride, pad)
    (8, 64, 64, 64, 64, 3, 3, 1, 1),
    (8, 128, 32, 32, 128, 3, 3, 1, 1),
    (8, 256, 16, 16, 256, 3, 3, 1, 1),
    (8, 512, 8, 8, 512, 3, 3, 1, 1),
]


def median_ms(fn, reps, warmup=3):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=15)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"mkldnn {torch.backends.mkldnn.is_available()}")
    print(f"{'shape':<28}{'direction':<18}{'median ms':>10}{'GFLOP/s':>10}")
    for (B, C, H, W, K, R, S, st, pd) in SHAPES:
        x = torch.randn(B, C, H, W)
        w = torch.randn(K, C, R, S) * 0.05
        b = torch.randn(K)
        Ho = (H + 2 * pd - (R - 1) - 1) // st + 1
        Wo = (W + 2 * pd - (S - 1) - 1) // st + 1
        dy = torch.randn(B, K, Ho, Wo)
        flops = 2.0 * B * K * C * R * S * Ho * Wo

        def fwd():
            with torch.no_grad():
                torch.nn.functional.conv2d(x, w, b, stride=st, padding=pd)

        def bwd(mask):
            return lambda: torch.ops.aten.convolution_backward(
                dy, x, w, [K], [st, st], [pd, pd], [1, 1], False, [0, 0], 1, mask)

        name = f"B{B} C{C} {H}x{W} K{K} {R}x{S}"
        for direction, fn in (("forward", fwd),
                              ("backward_data", bwd([True, False, False])),
                              ("backward_filter", bwd([False, True, True]))):
            ms = median_ms(fn, args.reps)
            print(f"{name:<28}{direction:<18}{ms:>10.2f}{flops / ms / 1e6:>10.1f}")


if __name__ == "__main__":
    main()
