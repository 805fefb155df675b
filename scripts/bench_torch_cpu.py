#!/usr/bin/python3
"""Times conv2d forward, backward-data and backward-filter in PyTorch CPU at
the four ResNet-18 stage shapes that bench/bench_conv2d.cpp times, so the two
tables can be compared side by side (docs/PERF.md).

  /usr/bin/python3 scripts/bench_torch_cpu.py [--threads 2] [--reps 15]
  /usr/bin/python3 scripts/bench_torch_cpu.py --rounds 3 --ours build/sirs_bench
  /usr/bin/python3 scripts/bench_torch_cpu.py --threads 1 --clock cpu --ours build/sirs_bench

With --ours, each of --rounds rounds times, for every shape and direction,
our live conv2d kernel (one run of our bench filtered to BM_conv2d/<dir>_live
at that shape, Google Benchmark JSON; --version 4,9 times BM_conv2d/<dir>_v4 and
_v9 instead, each in every round) and then PyTorch, back to back, so both
see the same machine load; the table gives, per shape and direction, the median
over rounds of each side's time and the ratio ours / PyTorch (< 1: ours is
faster), and "per round": the median over rounds of each round's own ratio. Ours runs with OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = --threads.
The machine these run on is shared, so rounds are interleaved
rather than run as two separate blocks.

Each direction runs alone: forward under no_grad, backward through
aten.convolution_backward with an output_mask that asks for only dx or only
dw (+ bias grad, as ours computes it alongside dw). Warm-up, then the median
of --reps timed calls. GFLOP/s = 2*B*K*C*R*S*Ho*Wo / time, as in ours.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import time

import torch

SHAPES = [  # (B, C, H, W, K, R, S, stride, pad)
    (8, 64, 64, 64, 64, 3, 3, 1, 1),
    (8, 128, 32, 32, 128, 3, 3, 1, 1),
    (8, 256, 16, 16, 256, 3, 3, 1, 1),
    (8, 512, 8, 8, 512, 3, 3, 1, 1),
]


CLOCK = time.perf_counter  # --clock cpu: time.process_time


def median_ms(fn, reps, warmup=3):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t0 = CLOCK()
        fn()
        ts.append((CLOCK() - t0) * 1e3)
    return statistics.median(ts)


def torch_fns(shape):
    """{direction: zero-argument callable} for one stage shape."""
    (B, C, H, W, K, R, S, st, pd) = shape
    x = torch.randn(B, C, H, W)
    w = torch.randn(K, C, R, S) * 0.05
    b = torch.randn(K)
    Ho = (H + 2 * pd - (R - 1) - 1) // st + 1
    Wo = (W + 2 * pd - (S - 1) - 1) // st + 1
    dy = torch.randn(B, K, Ho, Wo)

    def fwd():
        with torch.no_grad():
            torch.nn.functional.conv2d(x, w, b, stride=st, padding=pd)

    def bwd(mask):
        return lambda: torch.ops.aten.convolution_backward(
            dy, x, w, [K], [st, st], [pd, pd], [1, 1], False, [0, 0], 1, mask)

    return {"forward": fwd,
            "backward_data": bwd([True, False, False]),
            "backward_filter": bwd([False, True, True])}


DIRECTIONS = ("forward", "backward_data", "backward_filter")


def our_time(bench, direction, C, HW, min_time, threads, clock="wall", version="live"):
    """ms of our kernel version (default: the live one) for one direction and shape
    (one bench run): wall-clock time, or with clock "cpu" the CPU time of the bench
    thread."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    res = subprocess.run(
        [bench, f"--benchmark_filter=BM_conv2d/{direction}_{version}/C:{C}/HW:{HW}/",
         f"--benchmark_min_time={min_time}", "--benchmark_format=json"],
        check=True, capture_output=True, text=True, env=env)
    (bm,) = json.loads(res.stdout)["benchmarks"]
    scale = {"ms": 1.0, "us": 1e-3, "ns": 1e-6, "s": 1e3}[bm["time_unit"]]
    return bm["real_time" if clock == "wall" else "cpu_time"] * scale


def compare(args):
    """Per round, per shape and direction: ours (each version asked for), then PyTorch,
    back to back."""
    ours, theirs = {}, {}
    fns = {shape: torch_fns(shape) for shape in SHAPES}
    for r in range(args.rounds):
        for shape in SHAPES:
            C, H = shape[1], shape[2]
            for d in args.directions:
                for v in args.version:
                    ours.setdefault((v, C, d), []).append(
                        our_time(args.ours, d, C, H, args.min_time, args.threads, args.clock, v))
                theirs.setdefault((C, d), []).append(median_ms(fns[shape][d], args.reps))
        print(f"round {r + 1}/{args.rounds} done", flush=True)
    for v in args.version:
        print(f"\nours: {v}")
        print(f"| shape (B=8, 3x3, s1, p1) | direction | ours ms | PyTorch ms | ours/PyTorch | "
              f"per round | ours GFLOP/s | PyTorch GFLOP/s |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for (B, C, H, W, K, R, S, st, pd) in SHAPES:
            flops = 2.0 * B * K * C * R * S * H * W
            for d in args.directions:
                o = statistics.median(ours[(v, C, d)])
                t = statistics.median(theirs[(C, d)])
                # Median over rounds of the round's own ratio (both sides timed back
                # to back): less sensitive to the load drifting between rounds.
                pr = statistics.median(a / b for a, b in zip(ours[(v, C, d)], theirs[(C, d)]))
                print(f"| C={C} {H}x{W} | {d} | {o:.1f} | {t:.1f} | {o / t:.2f} | {pr:.2f} | "
                      f"{flops / o / 1e6:.1f} | {flops / t / 1e6:.1f} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--ours", help="path to build/sirs_bench: compare side by side")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=0.2)
    ap.add_argument("--version", default="live",
                    help="our kernel versions to time, comma-separated: live "
                    "(BM_conv2d/<dir>_live) or N (BM_conv2d/<dir>_vN), e.g. 4,9: one table each, "
                    "same PyTorch times")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="cpu: CPU time instead of wall-clock time (time.process_time; ours: "
                    "the bench thread's CPU time). Only meaningful with --threads 1, where it "
                    "hides the time other processes take from us on a loaded machine.")
    ap.add_argument("--directions", default=",".join(DIRECTIONS),
                    help="comma-separated subset of " + ", ".join(DIRECTIONS) + " (with --ours)")
    args = ap.parse_args()
    args.directions = args.directions.split(",")
    for d in args.directions:
        if d not in DIRECTIONS:
            ap.error(f"unknown direction {d}")
    args.version = [v if v == "live" else f"v{int(v)}" for v in args.version.split(",")]
    if args.clock == "cpu":
        if args.threads != 1:
            ap.error("--clock cpu needs --threads 1")
        global CLOCK
        CLOCK = time.process_time
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.ours:
        print(f"torch {torch.__version__}, threads {torch.get_num_threads()}; ours: {args.ours} "
              f"(versions {', '.join(args.version)}); {args.rounds} interleaved rounds; {args.clock} clock",
              flush=True)
        compare(args)
        return
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"mkldnn {torch.backends.mkldnn.is_available()}")
    print(f"{'shape':<28}{'direction':<18}{'median ms':>10}{'GFLOP/s':>10}")
    for shape in SHAPES:
        (B, C, H, W, K, R, S, st, pd) = shape
        flops = 2.0 * B * K * C * R * S * H * W  # stride 1, pad 1: Ho, Wo = H, W
        name = f"B{B} C{C} {H}x{W} K{K} {R}x{S}"
        for direction, fn in torch_fns(shape).items():
            ms = median_ms(fn, args.reps)
            print(f"{name:<28}{direction:<18}{ms:>10.2f}{flops / ms / 1e6:>10.1f}")


if __name__ == "__main__":
    main()
