#!/usr/bin/python3
"""Writes tests/golden/sirs_step.safetensors: one training step of a tiny SIRS.

A development tool (PyTorch from Debian's python3-torch; torchvision is not
needed). This is our own PyTorch implementation of shared/DESIGN.md sections
3, 4 and 6, written module by module with the reference's tensor names, so
the C++ model can load its parameters with load_state_dict by name.

Tiny configuration: ResNet-18 with base width 16 (channels 16, 32, 64, 128;
16 is the smallest width for which the SSA GroupNorm(16 groups) divides every
scale), 64x64 images, 4 classes, embed 16, vocabulary 20 (embedding rows 21),
word dim 6, hidden 7, batch 3; decoder + SSA (averagePooling, groupNorm) +
VFM (mean); GRU dropout 0; training mode (BatchNorm uses batch statistics).

The parameters are drawn in float32 and the step is computed in float64 from
those float32 values; everything is stored as float32 (masks, tokens,
lengths int64). File contents:
  param.<name>        every parameter and buffer, reference names
  images [3,3,64,64], tokens [3,T], lengths [3], masks [3,64,64], class_weights [4]
  sims [3,3], seg_logits [3,4,64,64], image_vec.<k> [3,16], text_vec [3,16]
  loss_ss, loss_ir, loss (0-d)
  grad.<name>         d loss / d parameter (zeros for the unused decoder.toplayer)
  after.<name>        BatchNorm running stats after the step's forward
__metadata__: sirs_golden_version, and the configuration.

usage: scripts/gen_golden_sirs.py [OUT.safetensors]
"""
import json
import os
import struct
import sys

import torch

import gen_golden  # scripts/: the shared safetensors writer
import torch.nn as nn
import torch.nn.functional as F

VERSION = "1"
DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}

WIDTH = 16
IMAGE = 64
CLASSES = 4
EMBED = 16
VOCAB = 20
WORD_DIM = 6
HIDDEN = 7
BATCH = 3
SEMANTIC_KERNEL = 1  # DESIGN section 3: semantic_branch is a 1x1 conv



def save(path, tensors, meta):
    """The safetensors writer of gen_golden.py, with this file's VERSION."""
    gen_golden.save(path, tensors, meta, VERSION)


# --- image encoder: torchvision's ResNet-18 structure and names, up to layer4.
class BasicBlock(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        idn = x if self.downsample is None else self.downsample(x)
        return F.relu(out + idn)


class ResNet18(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.conv1 = nn.Conv2d(3, w, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        chans, cin = [w, 2 * w, 4 * w, 8 * w], w
        for i, c in enumerate(chans):
            stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(cin, c, stride),
                                                         BasicBlock(c, c, 1)))
            cin = c
        self.channels = chans

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        f1 = self.layer1(x)
        f2 = self.layer2(f1)
        f3 = self.layer3(f2)
        f4 = self.layer4(f3)
        return [f1, f2, f3, f4]


class ExtractFeature(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.resnet = ResNet18(w)


# --- segmentation decoder (DESIGN section 3).
class Decoder(nn.Module):
    def __init__(self, chans, classes):
        super().__init__()
        self.toplayer = nn.Conv2d(chans[3], 256, 1)
        self.latlayer1 = nn.Conv2d(chans[2], 256, 1)
        self.latlayer2 = nn.Conv2d(chans[1], 256, 1)
        self.latlayer3 = nn.Conv2d(chans[0], 256, 1)
        self.semantic_branch = nn.Conv2d(256, 128, SEMANTIC_KERNEL, 1, SEMANTIC_KERNEL // 2)
        self.conv3 = nn.Conv2d(128, classes, 1)
        self.gn1 = nn.GroupNorm(128, 128)

    def forward(self, f, size):
        _ = self.toplayer(f[3])  # computed by the reference, unused
        p4 = self.latlayer1(f[2])
        p3 = self.latlayer2(f[1])
        p2 = self.latlayer3(f[0])
        h, w = p2.shape[-2:]

        def branch(p):
            return F.relu(self.gn1(self.semantic_branch(p)))

        s4 = F.interpolate(branch(p4), size=(h, w), mode="bilinear", align_corners=True)
        s3 = F.interpolate(branch(p3), size=(h, w), mode="bilinear", align_corners=True)
        s2 = branch(p2)
        return F.interpolate(self.conv3(s2 + s3 + s4), size=size, mode="bilinear",
                             align_corners=True)


# --- SSA (averagePooling, groupNorm 16) and AMW (mean, linear mapping).
def group_norm_16(c):
    return nn.GroupNorm(16, c)


class SSA(nn.Module):
    # norm(c): the normalisation of each scale (DESIGN: GroupNorm(16, c);
    # gen_golden_train.py's configuration uses nn.BatchNorm2d).
    def __init__(self, chans, norm=group_norm_16):
        super().__init__()
        for k, c in enumerate(chans):
            setattr(self, f"norm{k + 1}", norm(c))

    def forward(self, f, logits):
        att = logits[:, 1:].sum(1, keepdim=True)
        out = []
        for k, fk in enumerate(f):
            a = F.adaptive_avg_pool2d(att, fk.shape[-2:])
            out.append(getattr(self, f"norm{k + 1}")(fk * a))
        return out


class AMW(nn.Module):
    def __init__(self, chans, embed):
        super().__init__()
        for k, c in enumerate(chans):
            setattr(self, f"mapping{k + 1}", nn.Linear(c, embed))

    def forward(self, g):
        return [getattr(self, f"mapping{k + 1}")(gk.mean((2, 3))) for k, gk in enumerate(g)]


# --- skip-thoughts uni-skip text encoder (DESIGN section 3), dropout 0.
class GRUCell(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.weight_ir, self.weight_ii, self.weight_in = nn.Linear(d, h), nn.Linear(d, h), nn.Linear(d, h)
        self.weight_hr = nn.Linear(h, h, bias=False)
        self.weight_hi = nn.Linear(h, h, bias=False)
        self.weight_hn = nn.Linear(h, h, bias=False)

    def forward(self, e, h):
        r = torch.sigmoid(self.weight_ir(e) + self.weight_hr(h))
        z = torch.sigmoid(self.weight_ii(e) + self.weight_hi(h))
        n = torch.tanh(self.weight_in(e) + r * self.weight_hn(h))
        return (1 - z) * n + z * h


class RNN(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.gru_cell = GRUCell(d, h)
        self.hidden = h

    def forward(self, e, lengths):
        B, T = e.shape[:2]
        h = e.new_zeros(B, self.hidden)
        outs = []
        for t in range(int(lengths.max())):
            h = self.gru_cell(e[:, t], h)
            outs.append(h)
        outs = torch.stack(outs, 1)
        return outs[torch.arange(B), lengths - 1]


class Seq2Vec(nn.Module):
    def __init__(self, vocab, d, h):
        super().__init__()
        self.embedding = nn.Embedding(vocab + 1, d, padding_idx=0)
        self.rnn = RNN(d, h)


class TextFeature(nn.Module):
    def __init__(self, vocab, d, h, embed):
        super().__init__()
        self.seq2vec = Seq2Vec(vocab, d, h)
        self.to_out = nn.Linear(h, embed)

    def forward(self, tokens, lengths):
        h = self.seq2vec.rnn(self.seq2vec.embedding(tokens), lengths)
        return F.relu(self.to_out(h))


class TinySirs(nn.Module):
    # The sizes default to this file's; gen_golden_train.py passes its own.
    def __init__(self, width=WIDTH, classes=CLASSES, embed=EMBED, vocab=VOCAB, word_dim=WORD_DIM,
                 hidden=HIDDEN, ssa_norm=group_norm_16):
        super().__init__()
        self.extract_feature = ExtractFeature(width)
        chans = self.extract_feature.resnet.channels
        self.decoder = Decoder(chans, classes)
        self.ss_attention = SSA(chans, ssa_norm)
        self.visual_feature = AMW(chans, embed)
        self.text_feature = TextFeature(vocab, word_dim, hidden, embed)

    def forward(self, images, tokens, lengths):
        f = self.extract_feature.resnet(images)
        logits = self.decoder(f, images.shape[-2:])
        g = self.ss_attention(f, logits)
        v = self.visual_feature(g)
        t = self.text_feature(tokens, lengths)
        return v, t, logits


def cosine_matrix(a, b):
    dots = a @ b.t()
    return dots / (a.norm(dim=1, keepdim=True) * b.norm(dim=1)[None]).clamp(min=1e-8)


def contrastive_loss(s, margin=0.2):
    B = s.size(0)
    d = s.diag().view(B, 1)
    cost_c = (margin + s - d.expand_as(s)).clamp(min=0)
    cost_i = (margin + s - d.t().expand_as(s)).clamp(min=0)
    eye = torch.eye(B, dtype=torch.bool)
    cost_c = cost_c.masked_fill(eye, 0)
    cost_i = cost_i.masked_fill(eye, 0)
    # Margins within 1e-3 of a hinge would make float32 and float64 disagree.
    for c in (margin + s - d.expand_as(s), margin + s - d.t().expand_as(s)):
        off = c.masked_select(~eye)
        assert off.abs().min() > 1e-3, "hinge too close to its kink; change the seed"
    return (cost_c.sum() + cost_i.sum()) / (2 * B * B - 2 * B)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/golden/sirs_step.safetensors"
    torch.set_num_threads(1)
    torch.manual_seed(2024)
    model = TinySirs()
    with torch.no_grad():
        # Non-trivial affine parameters for every norm layer, so a swapped
        # weight/bias or a missing affine shows.
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                m.weight.copy_(1 + 0.2 * torch.randn_like(m.weight))
                m.bias.copy_(0.1 * torch.randn_like(m.bias))
        model.text_feature.seq2vec.embedding.weight[0].zero_()
    params32 = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model = model.double()
    model.train()

    images = torch.randn(BATCH, 3, IMAGE, IMAGE)
    lengths = torch.tensor([5, 3, 4])
    T = 5
    tokens = torch.zeros(BATCH, T, dtype=torch.int64)
    for b in range(BATCH):
        tokens[b, : lengths[b]] = torch.randint(1, VOCAB + 1, (int(lengths[b]),))
    masks = torch.randint(0, CLASSES, (BATCH, IMAGE, IMAGE))
    masks[torch.rand(BATCH, IMAGE, IMAGE) < 0.1] = 255
    class_weights = torch.tensor([1.0, 2.5, 4.0, 1.5])

    v, t, logits = model(images.double(), tokens, lengths)
    sims = sum(cosine_matrix(vk, t) for vk in v) / len(v)
    loss_ss = F.cross_entropy(logits, masks, weight=class_weights.double(), ignore_index=255) / BATCH
    loss_ir = contrastive_loss(sims)
    loss = (80 * loss_ss + 20 * loss_ir) / 2
    loss.backward()

    f32 = lambda x: x.detach().float() if x.is_floating_point() else x.detach()
    tensors = {}
    for k, p in params32.items():
        tensors[f"param.{k}"] = p
    tensors.update({"images": images, "tokens": tokens, "lengths": lengths, "masks": masks,
                    "class_weights": class_weights, "sims": f32(sims),
                    "seg_logits": f32(logits), "text_vec": f32(t),
                    "loss_ss": f32(loss_ss), "loss_ir": f32(loss_ir), "loss": f32(loss)})
    for k, vk in enumerate(v):
        tensors[f"image_vec.{k}"] = f32(vk)
    for k, p in model.named_parameters():
        # decoder.toplayer feeds nothing: no gradient in PyTorch, stored as zeros.
        tensors[f"grad.{k}"] = f32(p.grad if p.grad is not None else torch.zeros_like(p))
    for k, b in model.named_buffers():
        if "running" in k:
            tensors[f"after.{k}"] = f32(b)
    meta = {"case": "sirs_step", "backbone": "resnet18", "resnet_width": str(WIDTH),
            "image_size": str(IMAGE), "num_classes": str(CLASSES), "embed_dim": str(EMBED),
            "vocab_size": str(VOCAB), "word_dim": str(WORD_DIM), "hidden_dim": str(HIDDEN),
            "ssa_downsample": "averagePooling", "ssa_normalization": "groupNorm",
            "vfm_sample": "mean", "gru_dropout": "0", "loss_weight": "80,20"}
    save(out, tensors, meta)
    print(f"wrote {out}: loss_ss {loss_ss.item():.6f} loss_ir {loss_ir.item():.6f} "
          f"loss {loss.item():.6f}, {len(params32)} state tensors")


if __name__ == "__main__":
    main()
