#!/usr/bin/env python3
"""The compact table scripts/gpu-check.sh prints last: for each CUDA bench
case, our time (Google Benchmark JSON from build/sirs_bench), the baseline's
time (PyTorch on the same GPU from scripts/bench_torch_cuda.py, or cuDNN
called directly where the bench case has a twin: cuDNN timed in the same
iterations, alternating with ours; then both columns are medians), the ratio
ours / baseline (< 1: ours is faster) and whether the issue's target holds:

  elementwise, norm, reduction, softmax: GB/s >= 70 % of the device-to-device
      copy's GB/s measured in the same run (the largest copy row; where a
      smaller copy row moves the op's bytes, the share of that copy's GB/s
      is shown too, for information);
  bilinear, pooling, cross-entropy, embedding: no slower than PyTorch;
  conv2d: under 5 % over cuDNN called directly (where the case has that
      twin; the forward both as the autograd op and as the bare launcher,
      conv2d_fwd_launcher), else informational against PyTorch;
  matmul, Adam: informational against PyTorch.
A numbered version of an op (embedding_v2) is held to its op's target,
against PyTorch's row for the op.

  python3 scripts/gpu_table.py --ours ours.json --torch torch.json [--tests tests.log] [--md]
"""
import argparse
import json
import re

BANDWIDTH = ("add", "add_channel_bias", "relu", "sigmoid", "sum_all", "sum_dim0", "sum_dim1",
             "softmax", "batch_norm_train", "group_norm", "group_norm_backward")
VS_TORCH = ("max_pool2d_3x3s2", "adaptive_avg_pool2d_1", "upsample_bilinear_x4",
            "upsample_bilinear_x4_backward", "cross_entropy", "embedding")


def load_json(path, empty):
    try:
        return json.load(open(path))
    except (OSError, ValueError) as e:
        print(f"gpu_table: {path}: {e}")
        return empty


def load_ours(path):
    out = {}
    for b in load_json(path, {}).get("benchmarks", []):
        parts = b["name"].split("/")
        if len(parts) < 3 or parts[0] != "cuda":
            continue
        key = "/".join(parts[:3])
        if b.get("error_occurred"):
            out[key] = {"error": b.get("error_message", "error")}
            continue
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
        out[key] = {"ms": b["real_time"] * scale, "gbs": b.get("GB/s"), "gflops": b.get("GFLOP/s")}
        if b.get("twin_median_us"):
            out[key]["ms"] = b["median_us"] / 1e3
            out[key]["twin_ms"] = b["twin_median_us"] / 1e3
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True)
    ap.add_argument("--torch")
    ap.add_argument("--tests")
    ap.add_argument("--md", action="store_true", help="markdown table (for docs/PERF.md)")
    a = ap.parse_args()
    ours = load_ours(a.ours)
    torch = load_json(a.torch, {"ms": {}}) if a.torch else {"ms": {}}
    tms = torch.get("ms", {})
    # The copy rows by bytes moved; the largest is the device's copy bandwidth
    # (the 70 % reference). A smaller one with an op's bytes is shown beside
    # that op's share: what the same traffic gets at that size.
    copies = {2 * 4 * int(k.split("/")[2]): v["gbs"] for k, v in ours.items()
              if k.startswith("cuda/copy_d2d/") and v.get("gbs") and k.split("/")[2].isdigit()}
    copy_gbs = copies[max(copies)] if copies else None
    rows = []
    for key, v in sorted(ours.items()):
        _, op, shape = key.split("/")
        if "error" in v:
            rows.append((op, shape, "error", "", "", v["error"][:40], "FAIL"))
            continue
        # A numbered version of an op (embedding_v2) against PyTorch's op.
        version = re.fullmatch(r"(.+)_v\d+", op)
        base_op = version.group(1) if version else op
        torch_op = base_op if base_op in VS_TORCH else op
        base_name, base_ms = "torch", tms.get(f"cuda/{torch_op}/{shape}")
        if op.startswith("conv2d") and v.get("twin_ms"):
            base_name, base_ms = "cudnn", v["twin_ms"]
        ratio = v["ms"] / base_ms if base_ms else None
        rate = (f"{v['gbs']:7.0f} GB/s" if v.get("gbs") else
                f"{v['gflops']:7.0f} GFLOP/s" if v.get("gflops") else "")
        if op == "copy_d2d":
            crit = "reference" if shape.isdigit() and 8 * int(shape) == max(copies, default=0) else "info"
            ok = None
        elif base_op in BANDWIDTH and copy_gbs and v.get("gbs"):
            frac = v["gbs"] / copy_gbs
            crit, ok = f">=70% copy bw ({100 * frac:.0f}%)", frac >= 0.7
            moved = v["gbs"] * v["ms"] * 1e6
            same = [g for b, g in copies.items() if b != max(copies) and abs(b - moved) < 0.01 * b]
            if same:
                crit = crit[:-1] + f"; {100 * v['gbs'] / same[0]:.0f}% of a same-size copy)"
        elif torch_op in VS_TORCH:
            crit, ok = "<= torch", (ratio is not None and ratio <= 1.0)
        elif op.startswith("conv2d") and base_name == "cudnn":
            crit, ok = "< 1.05 x cudnn", ratio is not None and ratio < 1.05
        else:
            crit, ok = "info", None
        rows.append((op, shape, f"{v['ms']:.3f} ms {rate}",
                     f"{base_ms:.3f} ms {base_name}" if base_ms else "-",
                     f"{ratio:.2f}" if ratio else "-", crit,
                     "" if ok is None else ("pass" if ok else "FAIL")))
    head = ("op", "shape", "ours", "baseline", "ratio", "target", "")
    if a.tests:
        try:
            log = open(a.tests, errors="replace").read()
        except OSError:
            log = ""
        m = re.findall(r"^tests: (\d+) passed, (\d+) failed, (\d+) skipped$", log, re.M)
        p, f, s = (sum(int(x[i]) for x in m) for i in range(3))
        print("CUDA tests:", f"{p} passed, {f} failed, {s} skipped" if m else "no summary line (crashed?)")
        for name in sorted(set(re.findall(r"^\[  FAILED  \] ([A-Za-z]\w*\.\w+)", log, re.M)))[:60]:
            print("  FAILED", name)
        for line in re.findall(r"^gpu-check: suite .*$", log, re.M):
            print(" ", line)
    print("GPU:", torch.get("device", "?"), "| torch", torch.get("torch", "?"), "| cuDNN", torch.get("cudnn", "?"),
          "| L2 flush", torch.get("flush", "memset"))
    if not rows:
        print("no benchmark results")
        return
    if a.md:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        w = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
        for r in [head] + rows:
            print("  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)))


if __name__ == "__main__":
    main()
