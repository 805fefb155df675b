#!/usr/bin/python3
"""Writes the golden files that tests/test_golden.cpp compares against.

A development tool: needs PyTorch (Debian's python3-torch; `make golden`
installs it). sirs never runs Python at run time.

Each file is a safetensors file (written here by hand: 8-byte little-endian
header length, JSON header, raw little-endian data) holding the inputs,
outputs and gradients of one layer or of one whole training step, with
__metadata__ {"sirs_golden_version": VERSION, "case": name, ...}. Bump
VERSION whenever a case changes; the tests refuse other versions and say how
to regenerate.

usage: scripts/gen_golden.py OUTDIR
"""
import json
import os
import struct
import sys

import torch
import torch.nn.functional as F

VERSION = "1"
DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}


def save(path, tensors, meta, version=VERSION):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        data = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    header["__metadata__"] = dict(meta, sirs_golden_version=version)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(path + ".tmp", path)


def leaf(*shape, scale=1.0):
    return (torch.randn(*shape) * scale).requires_grad_()


def case_conv2d(out):
    torch.manual_seed(1)
    x, w, b = leaf(2, 3, 9, 8), leaf(5, 3, 3, 2, scale=0.3), leaf(5)
    y = F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2))
    dy = torch.randn_like(y)
    y.backward(dy)
    save(f"{out}/conv2d.safetensors",
         {"x": x, "w": w, "b": b, "y": y, "dy": dy, "dx": x.grad, "dw": w.grad, "db": b.grad},
         {"case": "conv2d", "stride": "2,1", "padding": "1,2", "dilation": "1,2"})


def case_batch_norm(out):
    torch.manual_seed(2)
    x, w, b = leaf(4, 3, 5, 6, scale=2.0), leaf(3), leaf(3)
    with torch.no_grad():
        x += 1.5
    rm, rv = torch.zeros(3), torch.ones(3)
    y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5)
    dy = torch.randn_like(y)
    y.backward(dy)
    y_eval = F.batch_norm(x.detach(), rm, rv, w.detach(), b.detach(), training=False, eps=1e-5)
    save(f"{out}/batch_norm.safetensors",
         {"x": x, "w": w, "b": b, "y": y, "dy": dy, "dx": x.grad, "dw": w.grad, "db": b.grad,
          "running_mean": rm, "running_var": rv, "y_eval": y_eval},
         {"case": "batch_norm", "momentum": "0.1", "eps": "1e-5"})


def case_group_norm(out):
    torch.manual_seed(3)
    x, w, b = leaf(2, 8, 5, 3), leaf(8), leaf(8)
    y = F.group_norm(x, 4, w, b, eps=1e-5)
    dy = torch.randn_like(y)
    y.backward(dy)
    save(f"{out}/group_norm.safetensors",
         {"x": x, "w": w, "b": b, "y": y, "dy": dy, "dx": x.grad, "dw": w.grad, "db": b.grad},
         {"case": "group_norm", "groups": "4"})


def case_bilinear(out):
    tensors = {}
    for align in (True, False):
        for name, (h, w, oh, ow) in {"up": (4, 5, 9, 7), "down": (9, 7, 4, 3)}.items():
            torch.manual_seed(4)
            x = leaf(2, 3, h, w)
            y = F.interpolate(x, size=(oh, ow), mode="bilinear", align_corners=align)
            dy = torch.randn_like(y)
            y.backward(dy)
            key = f"{name}_{'ac' if align else 'noac'}"
            tensors.update({f"{key}.x": x, f"{key}.y": y, f"{key}.dy": dy, f"{key}.dx": x.grad})
    save(f"{out}/bilinear.safetensors", tensors, {"case": "bilinear"})


def case_cross_entropy(out):
    torch.manual_seed(5)
    logits = leaf(2, 4, 5, 6, scale=2.0)
    target = torch.randint(0, 4, (2, 5, 6))
    target[0, 0, :3] = 255
    target[1, 4, 5] = 255
    weight = torch.tensor([0.5, 1.0, 2.0, 3.0])
    loss = F.cross_entropy(logits, target, weight=weight, ignore_index=255)
    loss.backward()
    save(f"{out}/cross_entropy.safetensors",
         {"logits": logits, "target": target, "weight": weight, "loss": loss,
          "dlogits": logits.grad},
         {"case": "cross_entropy", "ignore_index": "255"})


def case_cnn_step(out):
    """One Adam step of a small CNN: conv-BN-ReLU-maxpool-conv-ReLU-avgpool-linear-CE."""
    torch.manual_seed(6)
    p = {
        "conv1.w": leaf(4, 3, 3, 3, scale=0.4), "bn1.w": leaf(4), "bn1.b": leaf(4),
        "conv2.w": leaf(6, 4, 3, 3, scale=0.3), "conv2.b": leaf(6),
        "fc.w": leaf(5, 6, scale=0.4), "fc.b": leaf(5),
    }
    with torch.no_grad():
        p["bn1.w"] += 1.0
    x = torch.randn(3, 3, 12, 12)
    y = torch.tensor([1, 4, 0])
    init = {k: v.detach().clone() for k, v in p.items()}
    rm, rv = torch.zeros(4), torch.ones(4)
    h = F.conv2d(x, p["conv1.w"], None, padding=1)
    h = F.relu(F.batch_norm(h, rm, rv, p["bn1.w"], p["bn1.b"], training=True))
    h = F.max_pool2d(h, 3, 2, 1)
    h = F.relu(F.conv2d(h, p["conv2.w"], p["conv2.b"], stride=2, padding=1))
    h = F.adaptive_avg_pool2d(h, 1).flatten(1)
    logits = F.linear(h, p["fc.w"], p["fc.b"])
    loss = F.cross_entropy(logits, y)
    opt = torch.optim.Adam(p.values(), lr=1e-2)
    loss.backward()
    grads = {f"grad.{k}": v.grad.clone() for k, v in p.items()}
    opt.step()
    tensors = {"x": x, "y": y, "logits": logits, "loss": loss,
               "running_mean": rm, "running_var": rv}
    tensors.update({f"init.{k}": v for k, v in init.items()})
    tensors.update(grads)
    tensors.update({f"after.{k}": v for k, v in p.items()})
    save(f"{out}/cnn_step.safetensors", tensors, {"case": "cnn_step", "lr": "1e-2"})


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    for case in (case_conv2d, case_batch_norm, case_group_norm, case_bilinear,
                 case_cross_entropy, case_cnn_step):
        case(out)
        print(f"wrote {out}/{case.__name__[5:]}.safetensors")


if __name__ == "__main__":
    main()
