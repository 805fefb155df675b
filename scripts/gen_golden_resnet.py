#!/usr/bin/python3
"""Writes tests/golden/resnet.safetensors: tiny torchvision-structured
ResNet-18 (BasicBlock) and ResNet-50 (Bottleneck, v1.5) runs that
tests/test_resnet.cpp compares against.

A development tool (Debian's python3-torch; torchvision is not needed: the
module tree below has torchvision's structure and names, written from its
documented architecture). For each case ("r18": depth 18, base width 2;
"r50": depth 50, base width 2), float64 (BN over 2 values per channel at
f4 is ill-conditioned: float32 rounding alone moves the gradients by ~1e-3,
so float64 makes this a check of the structure, not of rounding):
  <case>.<state-dict name>   the weights (BN weights, biases and running stats randomised)
  <case>.x                   images [2, 3, 32, 32]
  <case>.f1 .. f4            training-mode features (batch statistics)
  <case>.d1 .. d4            upstream gradients; loss = sum_k sum(f_k * d_k)
  <case>.dx, <case>.grad.<parameter name>
  <case>.after.<buffer>      running stats and num_batches_tracked after that forward
  <case>.eval.f4             eval-mode f4 (running statistics) after the update

usage: scripts/gen_golden_resnet.py OUTDIR
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Same file format; the version key is gen_golden_gru.VERSION (bump it for a change here too).
from gen_golden_gru import save  # noqa: E402


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride, downsample):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + (self.downsample(x) if self.downsample is not None else x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride, downsample):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (self.downsample(x) if self.downsample is not None else x))


class ResNet(nn.Module):
    def __init__(self, block, layers, base):
        super().__init__()
        self.inplanes = base
        self.conv1 = nn.Conv2d(3, base, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(base)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._stage(block, base, layers[0], 1)
        self.layer2 = self._stage(block, base * 2, layers[1], 2)
        self.layer3 = self._stage(block, base * 4, layers[2], 2)
        self.layer4 = self._stage(block, base * 8, layers[3], 2)

    def _stage(self, block, planes, blocks, stride):
        ds = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            ds = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride,
                                         bias=False),
                               nn.BatchNorm2d(planes * block.expansion))
        out = [block(self.inplanes, planes, stride, ds)]
        self.inplanes = planes * block.expansion
        out += [block(self.inplanes, planes, 1, None) for _ in range(1, blocks)]
        return nn.Sequential(*out)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        f1 = self.layer1(x)
        f2 = self.layer2(f1)
        f3 = self.layer3(f2)
        return f1, f2, f3, self.layer4(f3)


def case(name, block, layers, base, seed):
    torch.manual_seed(seed)
    m = ResNet(block, layers, base).double()
    with torch.no_grad():
        for k, t in m.state_dict().items():
            if k.endswith("running_mean") or k.endswith(".bias"):
                t.copy_(torch.randn_like(t) * 0.1)
            elif k.endswith("running_var") or (k.endswith(".weight") and t.dim() == 1):
                t.copy_(torch.rand_like(t) + 0.5)
    out = {f"{name}.{k}": v.clone() for k, v in m.state_dict().items()}
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64).requires_grad_()
    m.train()
    fs = m(x)
    ds = [torch.randn_like(f) for f in fs]
    sum((f * d).sum() for f, d in zip(fs, ds)).backward()
    out[f"{name}.x"] = x
    for i, (f, d) in enumerate(zip(fs, ds)):
        out[f"{name}.f{i + 1}"] = f
        out[f"{name}.d{i + 1}"] = d
    out[f"{name}.dx"] = x.grad
    for k, p in m.named_parameters():
        out[f"{name}.grad.{k}"] = p.grad
    for k, b in m.named_buffers():
        out[f"{name}.after.{k}"] = b.clone()
    m.eval()
    with torch.no_grad():
        out[f"{name}.eval.f4"] = m(x)[3]
    return out


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "tests/golden"
    t = case("r18", BasicBlock, [2, 2, 2, 2], 2, 31)
    t.update(case("r50", Bottleneck, [3, 4, 6, 3], 2, 32))
    save(f"{outdir}/resnet.safetensors", t, {"case": "tiny ResNet-18 / ResNet-50"})


if __name__ == "__main__":
    main()
