#!/usr/bin/python3
"""Writes tests/golden/gru.safetensors, the skip-thoughts GRU golden that
tests/test_gru.cpp compares against.

A development tool (Debian's python3-torch); sirs never runs Python. The GRU
is written out from shared/DESIGN.md section 3 (the reference's BayesianGRU
cell: each gate's input and hidden state pass their own per-sequence dropout
mask before the gate's Linear, the update uses the undropped h):

  r = sigmoid(W_ir (e*m_ir) + b_ir + W_hr (h*m_hr))
  z = sigmoid(W_ii (e*m_ii) + b_ii + W_hi (h*m_hi))
  n = tanh(W_in (e*m_in) + b_in + r * (W_hn (h*m_hn)))
  h' = (1 - z) * n + z * h,   h0 = 0, max(lengths) steps, output h at length-1

Two cases in one file, float32: "eval" (no masks, lengths reach T) and "drop"
(six fixed masks 0 or 1/(1-p), p = 0.25; max(lengths) < T). Each holds the
weights under the module's state-dict names, emb, lengths, the output, the
upstream gradient dout and the gradients of emb and every weight.

usage: scripts/gen_golden_gru.py OUTDIR
"""
import json
import os
import struct
import sys

import torch

import gen_golden  # scripts/: the shared safetensors writer

VERSION = "1"
DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}
GATES_IN = ["ir", "ii", "in"]
GATES_H = ["hr", "hi", "hn"]



def save(path, tensors, meta):
    """The safetensors writer of gen_golden.py, with this file's VERSION."""
    gen_golden.save(path, tensors, meta, VERSION)


def gru(emb, lengths, w, masks):
    B = emb.shape[0]
    H = w["hr"].shape[0]
    h = emb.new_zeros(B, H)
    hs = []
    for t in range(int(lengths.max())):
        e = emb[:, t]
        def inp(g):
            x = e * masks[g] if masks else e
            return x @ w[g].t() + w["b" + g]
        def hid(g):
            x = h * masks[g] if masks else h
            return x @ w[g].t()
        r = torch.sigmoid(inp("ir") + hid("hr"))
        z = torch.sigmoid(inp("ii") + hid("hi"))
        n = torch.tanh(inp("in") + r * hid("hn"))
        h = (1 - z) * n + z * h
        hs.append(h)
    hs = torch.stack(hs, 0)
    return hs[lengths - 1, torch.arange(B)]


def case(prefix, B, T, E, H, lengths, p, seed):
    torch.manual_seed(seed)
    w = {}
    for g in GATES_IN:
        w[g] = (torch.randn(H, E) * 0.5).requires_grad_()
        w["b" + g] = (torch.randn(H) * 0.5).requires_grad_()
    for g in GATES_H:
        w[g] = (torch.randn(H, H) * 0.5).requires_grad_()
    emb = torch.randn(B, T, E).requires_grad_()
    lengths = torch.tensor(lengths, dtype=torch.int64)
    masks = None
    if p > 0:
        masks = {g: torch.bernoulli(torch.full((B, E if g in GATES_IN else H), 1 - p)) / (1 - p)
                 for g in GATES_IN + GATES_H}
    out = gru(emb, lengths, w, masks)
    dout = torch.randn_like(out)
    out.backward(dout)
    t = {f"{prefix}.emb": emb, f"{prefix}.lengths": lengths, f"{prefix}.out": out,
         f"{prefix}.dout": dout, f"{prefix}.demb": emb.grad}
    for g in GATES_IN + GATES_H:
        t[f"{prefix}.gru_cell.weight_{g}.weight"] = w[g]
        t[f"{prefix}.grad.gru_cell.weight_{g}.weight"] = w[g].grad
        if g in GATES_IN:
            t[f"{prefix}.gru_cell.weight_{g}.bias"] = w["b" + g]
            t[f"{prefix}.grad.gru_cell.weight_{g}.bias"] = w["b" + g].grad
        if masks:
            t[f"{prefix}.mask.{g}"] = masks[g]
    return t


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/golden"
    t = case("eval", B=3, T=4, E=5, H=6, lengths=[4, 2, 3], p=0.0, seed=21)
    t.update(case("drop", B=3, T=5, E=4, H=7, lengths=[2, 4, 1], p=0.25, seed=22))
    save(f"{out}/gru.safetensors", t, {"case": "skip-thoughts GRU"})


if __name__ == "__main__":
    main()
