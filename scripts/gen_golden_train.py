#!/usr/bin/python3
"""Writes the fixture dataset tests/fixtures/train_repro/ and the golden file
tests/golden/train_repro.safetensors: `sirs train` replayed step by step.

A development tool (Debian's python3-torch; no PIL, no torchvision). Issue #6:
with dataset.augment false, dataset.shuffle false and GRU dropout 0 a run of
`sirs train` is deterministic and reproduces the same steps in PyTorch. This
script writes a tiny dataset in the exact RSITMD + RSITMD-SS layout (DESIGN
section 2) with its own TIFF and PNG writers, a training configuration, the
initial parameters drawn by torch, and then replays what `sirs train` does
with them (apps/train.h), step by step, in float64:

  data     8 training and 2 test images, 64x64 RGB, uncompressed TIFF; masks
           mask_<stem>.png (8-bit gray, 10 x class, 255 = ignore; classes
           0..3); 5 distinct captions per image, plain lowercase words
           (tokenizing is a split; one word is outside the vocabulary and
           maps to <unk>); train_filename.txt one name per image,
           test_filename.txt one per caption (both forms RSITMD ships).
  inputs   evaluation pipeline (augment false): the images are already
           model.image_size, so the resize is skipped and each pixel is
           (v / 255 - mean) / std in float32 (data/pipeline.cpp, exactly);
           masks as labels.
  batches  samples = captions in file order (shuffle false), consecutive
           runs of batch_size, the last shorter one kept; tokens padded with 0
           to the longest caption of the batch; a batch of one caption is
           skipped (the triplet loss needs two) and takes no step.
  loss     DESIGN section 4: class-weighted pixel cross-entropy (weights
           max_c(count_c) / count_c over the training masks, rounded to
           float32 as sirs stores them) / B, hinge triplet loss (margin,
           max_violation), total = (w_ss L_SS + w_ir L_IR) / 2.
  step     backward; clip_grad_norm_ to optim.grad_clip (after backward, when
           > 0); torch.optim.Adam(lr); lr of epoch e = lr * decay^k with k
           the number of epochs e' <= e with e' % lr_update_epoch ==
           lr_update_epoch - 1 (DESIGN: "at the start of epoch e the lr is
           multiplied by decay when e % n == n - 1"); BatchNorm in train mode.

Why float64: sirs runs in float32; replaying in float64 from the same float32
initial values (and the same float32 inputs and class weights) gives the
exact-arithmetic trajectory, so the test measures sirs' own rounding only; a
float32 replay would add PyTorch's rounding on top. `--float32` replays in
float32 instead, for comparison.

Conditioning. A golden trajectory is only comparable at float32 precision
when no branch of the computation (a ReLU, a triplet hinge, a max_violation
maximum) sits within float32 noise of its switching point where one unit
carries a large share of the gradient; and batches must hold several
distinct images (5 consecutive captions share one image, and a batch-norm
over one or two distinct images at a 1x1 or 2x2 map turns rounding noise
into whole Adam steps). Hence 64x64 images (f4 is 2x2), batches of 13-14
captions (3+ images), lr 2e-4, and the MIN_MARGIN check below, which this
script asserts along the whole replay.

Cases (each a list of --set overrides on top of the fixture's sirs.yaml; the
test reads them from this file's metadata):
  a  batch 14 (two batches of 14 and a last one of 12, kept), grad_clip low
     enough to clip some steps, max_violation false, loss_weight [80, 20];
  b  batch 13 (three batches of 13, and a last one of 1 caption, skipped),
     no clipping, max_violation true, loss_weight [50, 30].
Both: 2 epochs, the lr halves at the start of epoch 1 (lr_update_epoch 2,
lr_decay_param 0.5).

Golden file: <case>.loss, .loss_ss, .loss_ir, .lr, .grad_norm (clipping case
only) [steps] float64, <case>.epoch, .batch [steps] int64; __metadata__:
sirs_golden_version, cases, <case>.sets, the model sizes. The fixture folder
gets the dataset, vocab.json, sirs.yaml and init.safetensors (the initial
parameters and buffers under their reference names).

usage: scripts/gen_golden_train.py [FIXTURE_DIR [GOLDEN.safetensors]] [--float32]
"""
import json
import os
import struct
import sys
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F

import gen_golden  # scripts/: the shared safetensors writer
from gen_golden_sirs import TinySirs

VERSION = "1"

# --- the model: resnet18 at width 4 (channels 4, 8, 16, 32). Width 4 keeps
# init.safetensors small (the decoder's fixed 256/128 channels dominate);
# the SSA normalisation is batchNorm because groupNorm (16 groups) needs
# width 16, which would make the fixture ~3 MB.
WIDTH = 4
IMAGE = 64
CLASSES = 4
EMBED = 16
WORD_DIM = 8
HIDDEN = 12
N_TRAIN, N_TEST = 8, 2
CAPS = 5

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)

BASE = {  # what sirs.yaml holds (besides paths and model sizes)
    "lr": 2e-3, "lr_decay_param": 0.5, "lr_update_epoch": 2, "epochs": 2,
    "margin": 0.2,
}
CASES = {
    "a": {"batch_size": 14, "grad_clip": 150.0, "max_violation": False, "loss_weight": (80, 20)},
    "b": {"batch_size": 13, "grad_clip": 0.0, "max_violation": True, "loss_weight": (50, 30)},
}

# --- captions: words of the vocabulary; "quietly" is not in it (-> <unk>).
WORDS = ["plane", "planes", "boat", "boats", "tank", "tanks", "white", "red", "big", "small",
         "two", "three", "many", "near", "water", "runway", "parked", "the", "on", "a",
         "green", "field", "are", "is"]
UNK_WORD = "quietly"
CLASS_WORDS = {1: "planes", 2: "boats", 3: "tanks"}
FILLER = [w for w in WORDS if w not in ("two", "three", "many", "planes", "boats", "tanks")]
CLASS_COLOURS = {0: (70, 90, 60), 1: (230, 230, 235), 2: (200, 40, 40), 3: (240, 220, 90)}


# --- file writers (ours; little-endian, uncompressed).
def write_tiff(path, pixels):
    """8-bit RGB [H, W, 3] uint8 tensor as a baseline TIFF: one strip, no compression."""
    h, w, c = pixels.shape
    data = pixels.contiguous().numpy().tobytes()
    bps_at = 8  # BitsPerSample's three values right after the header
    data_at = bps_at + 8  # then the pixels (6 bytes of values + 2 padding)
    ifd_at = data_at + len(data)
    # (tag, type, count, value); type 3 = SHORT, 4 = LONG; tags ascending.
    entries = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 3, bps_at), (259, 3, 1, 1),
               (262, 3, 1, 2), (273, 4, 1, data_at), (277, 3, 1, c), (278, 4, 1, h),
               (279, 4, 1, len(data)), (284, 3, 1, 1)]
    out = bytearray(b"II" + struct.pack("<HI", 42, ifd_at))
    out += struct.pack("<HHH", 8, 8, 8) + b"\0\0"
    out += data
    out += struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        if typ == 3 and count == 1:
            out += struct.pack("<HHIHH", tag, typ, count, value, 0)
        else:
            out += struct.pack("<HHII", tag, typ, count, value)
    out += struct.pack("<I", 0)  # no next IFD
    with open(path, "wb") as f:
        f.write(out)


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def write_png_gray(path, pixels):
    """8-bit grayscale [H, W] uint8 tensor as a PNG (filter 0 on every row)."""
    h, w = pixels.shape
    rows = b"".join(b"\0" + pixels[y].numpy().tobytes() for y in range(h))
    out = b"\x89PNG\r\n\x1a\n"
    out += png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
    out += png_chunk(b"IDAT", zlib.compress(rows, 9))
    out += png_chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(out)


def write_lines(path, lines):
    with open(path, "w") as f:
        f.write("".join(line + "\n" for line in lines))


# --- the dataset.
def make_scene(gen, index):
    """One image [H, W, 3] uint8, its labels [H, W] (0..3, 255) and 5 captions."""
    labels = torch.zeros(IMAGE, IMAGE, dtype=torch.int64)
    counts = {}
    for cls in (1, 2, 3):
        n = int(torch.randint(0, 3, (1,), generator=gen))
        if index % 3 == cls - 1:
            n = max(n, 1)  # every image holds some foreground
        counts[cls] = n
        for _ in range(n):
            s = int(torch.randint(4, 9, (1,), generator=gen))
            y, x = (int(v) for v in torch.randint(0, IMAGE - s, (2,), generator=gen))
            labels[y:y + s, x:x + s] = cls
    img = torch.zeros(IMAGE, IMAGE, 3)
    for cls, colour in CLASS_COLOURS.items():
        img[labels == cls] = torch.tensor(colour, dtype=torch.float32)
    img += 25 * torch.randn(IMAGE, IMAGE, 3, generator=gen)
    img = img.round().clamp(0, 255).to(torch.uint8)
    # A few ignore pixels: a strip along one edge.
    labels[:, IMAGE - 1 - index % 2] = 255

    # Captions: a counted class, then random other words; lengths 3..9 so
    # that the padding differs from batch to batch.
    caps = []
    present = [c for c in (1, 2, 3) if counts[c] > 0]
    for j in range(CAPS):
        c = present[j % len(present)]
        words = [["two", "three", "many"][min(counts[c], 3) - 1], CLASS_WORDS[c]]
        n = int(torch.randint(1, 8, (1,), generator=gen))
        words += [FILLER[int(k)] for k in torch.randint(0, len(FILLER), (n,), generator=gen)]
        if index == 2 and j == 4:
            words.insert(1, UNK_WORD)
        caps.append(" ".join(words))
    return img, labels, caps


def write_dataset(root):
    os.makedirs(os.path.join(root, "images"), exist_ok=True)
    os.makedirs(os.path.join(root, "masks"), exist_ok=True)
    os.makedirs(os.path.join(root, "precomp"), exist_ok=True)
    gen = torch.Generator().manual_seed(66)
    splits = {"train": [], "test": []}
    for i in range(N_TRAIN + N_TEST):
        img, labels, caps = make_scene(gen, i)
        name = f"scene_{i}.tif"
        write_tiff(os.path.join(root, "images", name), img)
        write_png_gray(os.path.join(root, "masks", f"mask_scene_{i}.png"),
                       torch.where(labels == 255, labels, labels * 10).to(torch.uint8))
        splits["train" if i < N_TRAIN else "test"].append((name, img, labels, caps))
    all_caps = [c for items in splits.values() for _, _, _, caps in items for c in caps]
    assert len(set(all_caps)) == len(all_caps), "captions must be distinct"
    for split, items in splits.items():
        write_lines(os.path.join(root, "precomp", f"{split}_caps.txt"),
                    [c for _, _, _, caps in items for c in caps])
        per = 1 if split == "train" else CAPS
        write_lines(os.path.join(root, "precomp", f"{split}_filename.txt"),
                    [name for name, _, _, _ in items for _ in range(per)])
    vocab = {"word2idx": {}, "idx2word": {}, "idx": 1}
    for w in WORDS + ["<unk>"]:
        vocab["word2idx"][w] = vocab["idx"]
        vocab["idx2word"][str(vocab["idx"])] = w
        vocab["idx"] += 1
    with open(os.path.join(root, "vocab.json"), "w") as f:
        json.dump(vocab, f, indent=4)
    return splits["train"], vocab


def write_config(root):
    text = f"""# `sirs train` replay fixture: scripts/gen_golden_train.py writes it,
# tests/test_cli_repro.cpp runs it.
# Deterministic: no augmentation, no shuffling, GRU dropout 0, weights from
# init.safetensors (the test passes --set model.init=...). Cases a and b of the
# golden file add --set overrides.
model:
  backbone: resnet18
  resnet_width: {WIDTH}
  image_size: {IMAGE}
  num_classes: {CLASSES}
  embed:
    embed_dim: {EMBED}
  decoder: true
  SSA:
    use: true
    downsample: averagePooling
    normalization: batchNorm
  VFM:
    use: true
    sample: mean
  seq2vec:
    dropout: 0
    word_dim: {WORD_DIM}
    hidden_dim: {HIDDEN}
dataset:
  data_split: all
  data_path: precomp
  image_path: images
  mask_path: masks
  vocab_path: vocab.json
  batch_size: {CASES['a']['batch_size']}
  batch_size_val: 4
  workers: 1
  augment: false
  shuffle: false
optim:
  epochs: {BASE['epochs']}
  lr: {BASE['lr']}
  lr_decay_param: {BASE['lr_decay_param']}
  lr_update_epoch: {BASE['lr_update_epoch']}
  grad_clip: {CASES['a']['grad_clip']}
  max_violation: false
  margin: {BASE['margin']}
  loss_weight: [{CASES['a']['loss_weight'][0]}, {CASES['a']['loss_weight'][1]}]
  last_num_epochs_val: 1
logs:
  eval_step: 1
  print_freq: 1
  ckpt_save_path: runs
k_fold:
  experiment_name: repro
runtime:
  device: cpu
  threads: 2
  seed: 0
"""
    with open(os.path.join(root, "sirs.yaml"), "w") as f:
        f.write(text)


def case_sets(c):
    p = CASES[c]
    return [f"dataset.batch_size={p['batch_size']}", f"optim.grad_clip={p['grad_clip']}",
            f"optim.max_violation={'true' if p['max_violation'] else 'false'}",
            f"optim.loss_weight=[{p['loss_weight'][0]},{p['loss_weight'][1]}]"]


# --- the model: gen_golden_sirs.py's, at this file's sizes, SSA with
# batchNorm (this configuration's choice).
def make_model(vocab_size):
    return TinySirs(WIDTH, CLASSES, EMBED, vocab_size, WORD_DIM, HIDDEN, ssa_norm=nn.BatchNorm2d)


# Smallest distance to a branch point that a golden run may come: float32
# activations of sirs differ from this float64 replay by ~1e-7..1e-6, so a
# ReLU input or a triplet hinge closer than that to 0 may switch, and a
# switch where one unit carries a large share of the gradient (the coarse
# decoder and ResNet maps, the text vector, the triplet terms) changes the
# following steps by far more than rounding. The fine maps (p2, layer2) are
# only reported: each of their many units carries a small share.
MIN_MARGIN = {g: 1e-5 for g in ("stem", "layer1", "layer2", "layer3", "layer4", "p4", "p3", "p2",
                                "text", "triplet")}


def make_init(vocab_size):
    torch.manual_seed(5)
    model = make_model(vocab_size)
    relu_fed = [m for name, m in model.named_modules()
                if name.startswith("extract_feature") or name == "decoder.gn1"]
    with torch.no_grad():
        # Non-trivial affine parameters for every norm layer, so a swapped
        # weight/bias or a parameter that is not loaded shows in the losses.
        # The norms that feed a ReLU (ResNet, decoder.gn1) get biases near 3:
        # their outputs then rarely come near the ReLU's kink (see
        # MIN_MARGIN), while a few units in the tails are still cut.
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                m.weight.copy_(1 + 0.2 * torch.randn_like(m.weight))
                m.bias.copy_((3.0 if m in relu_fed else 0.0) + 0.1 * torch.randn_like(m.bias))
        model.text_feature.seq2vec.embedding.weight[0].zero_()
    return model


# --- the replay.
def normalise(img):
    """data/pipeline.cpp's lookup table, in float32: (float(v) / 255 - mean) / std."""
    x = img.permute(2, 0, 1).to(torch.float32) / torch.tensor(255.0)
    mean = torch.tensor(MEAN, dtype=torch.float32).view(3, 1, 1)
    std = torch.tensor(STD, dtype=torch.float32).view(3, 1, 1)
    return (x - mean) / std


def class_weights(train):
    """DESIGN section 4 over the training masks: max_c(count_c) / count_c, float32."""
    counts = torch.zeros(CLASSES, dtype=torch.float64)
    for _, _, labels, _ in train:
        for c in range(CLASSES):
            counts[c] += float((labels == c).sum())
    assert (counts > 0).all(), "every class must occur in the training masks"
    return (counts.max() / counts).to(torch.float32)


def epoch_lr(e):
    lr = BASE["lr"]
    for k in range(e + 1):
        if k % BASE["lr_update_epoch"] == BASE["lr_update_epoch"] - 1:
            lr *= BASE["lr_decay_param"]
    return lr


def cosine_matrix(a, b):
    return (a @ b.t()) / (a.norm(dim=1, keepdim=True) * b.norm(dim=1)[None]).clamp(min=1e-8)


def kink_distance(s, margin, max_violation, image_of):
    """How far the batch is from a branch change of the triplet loss: the
    smallest |hinge| and, with max_violation, the smallest gap between the
    largest cost of a row / column and the runner-up. Captions of one image
    share the image vector, so their cost_i is exactly the margin and ties
    among them are harmless: a column's candidates are grouped by image."""
    B = s.size(0)
    d = s.diag()
    same = image_of[:, None] == image_of[None, :]
    off = ~torch.eye(B, dtype=torch.bool)
    cost_c = margin + s - d[:, None]
    cost_i = margin + s - d[None, :]
    dist = cost_c[off].abs().min().item()
    if (off & ~same).any():
        dist = min(dist, cost_i[off & ~same].abs().min().item())
    if max_violation:
        for i in range(B):
            row = cost_c[i][off[i]].clamp(min=0).sort(descending=True).values
            if row[0] > 0:
                dist = min(dist, (row[0] - row[1]).item())
            best = {}
            for r in range(B):
                if r != i:
                    k = int(image_of[r])
                    best[k] = max(best.get(k, 0.0), cost_i[r, i].clamp(min=0).item())
            v = sorted(best.values(), reverse=True) + [0.0]
            if v[0] > 0:
                dist = min(dist, v[0] - v[1])
    return dist


class ReluMargins:
    """Records, per group of ReLUs, the smallest |input| over the run: a
    ReLU input within float32 noise of 0 may switch in float32 and change the
    gradient by a whole unit's share. Groups: the decoder's GroupNorm-ReLU
    at p4 / p3 / p2 (4x4, 8x8, 16x16 for 64x64 images), the ReLUs of ResNet
    layers 2..4, and the text vector's ReLU."""

    def __init__(self, model):
        self.min = {}
        self._gn_calls = 0
        self._bn2 = {}
        self._down = {}
        dec = model.decoder
        dec.gn1.register_forward_hook(self._gn1)
        model.text_feature.to_out.register_forward_hook(
            lambda m, i, o: self._note("text", o))
        res = model.extract_feature.resnet
        res.bn1.register_forward_hook(lambda m, i, o: self._note("stem", o))
        for li in (1, 2, 3, 4):
            for blk in getattr(res, f"layer{li}"):
                name = f"layer{li}"
                blk.bn1.register_forward_hook(lambda m, i, o, n=name: self._note(n, o))
                blk.bn2.register_forward_hook(lambda m, i, o, b=blk: self._bn2.__setitem__(b, o))
                if blk.downsample is not None:
                    blk.downsample.register_forward_hook(
                        lambda m, i, o, b=blk: self._down.__setitem__(b, o))
                blk.register_forward_hook(lambda m, i, o, n=name: self._block(m, i, n))

    def _note(self, group, pre):
        v = pre.detach().abs().min().item()
        self.min[group] = min(self.min.get(group, float("inf")), v)

    def _gn1(self, m, inp, out):
        # Decoder.forward runs the branch on p4, p3, p2 in this order.
        self._note(("p4", "p3", "p2")[self._gn_calls % 3], out)
        self._gn_calls += 1

    def _block(self, blk, inp, group):
        idn = inp[0] if blk.downsample is None else self._down[blk]
        self._note(group, self._bn2[blk] + idn)


def replay(case, model32, train, vocab, dtype):
    p = CASES[case]
    model = make_model(vocab["idx"] - 1)
    model.load_state_dict(model32.state_dict())
    model = model.to(dtype)
    model.train()
    weights = class_weights(train).to(dtype)
    opt = torch.optim.Adam(model.parameters(), lr=BASE["lr"])
    w2i = vocab["word2idx"]
    samples = []  # (image tensor, labels, token ids) per caption, file order
    for img, labels, caps in ((x[1], x[2], x[3]) for x in train):
        image = normalise(img)
        for c in caps:
            samples.append((image, labels, [w2i.get(w, w2i["<unk>"]) for w in c.split(" ")],
                            len(samples) // CAPS))
    rec = {k: [] for k in ("loss", "loss_ss", "loss_ir", "lr", "grad_norm", "epoch", "batch")}
    clipped, kink = 0, float("inf")
    margins = ReluMargins(model)
    for e in range(BASE["epochs"]):
        lr = epoch_lr(e)
        for g in opt.param_groups:
            g["lr"] = lr
        for bi, start in enumerate(range(0, len(samples), p["batch_size"])):
            batch = samples[start:start + p["batch_size"]]
            B = len(batch)
            if B < 2:
                continue
            T = max(len(s[2]) for s in batch)
            images = torch.stack([s[0] for s in batch]).to(dtype)
            masks = torch.stack([s[1] for s in batch])
            tokens = torch.zeros(B, T, dtype=torch.int64)
            for i, s in enumerate(batch):
                tokens[i, : len(s[2])] = torch.tensor(s[2])
            lengths = torch.tensor([len(s[2]) for s in batch])
            image_of = torch.tensor([s[3] for s in batch])

            v, t, logits = model(images, tokens, lengths)
            sims = sum(cosine_matrix(vk, t) for vk in v) / len(v)
            kink = min(kink, kink_distance(sims.detach(), BASE["margin"], p["max_violation"],
                                           image_of))
            loss_ss = F.cross_entropy(logits, masks, weight=weights, ignore_index=255) / B
            m = BASE["margin"]
            diag = sims.diag().view(B, 1)
            eye = torch.eye(B, dtype=torch.bool)
            cost_c = (m + sims - diag).clamp(min=0).masked_fill(eye, 0)
            cost_i = (m + sims - diag.t()).clamp(min=0).masked_fill(eye, 0)
            if p["max_violation"]:
                loss_ir = (cost_c.max(1)[0].sum() + cost_i.max(0)[0].sum()) / (2 * B * B - 2 * B)
            else:
                loss_ir = (cost_c.sum() + cost_i.sum()) / (2 * B * B - 2 * B)
            w_ss, w_ir = p["loss_weight"]
            loss = (w_ss * loss_ss + w_ir * loss_ir) / 2
            opt.zero_grad()
            loss.backward()
            gnorm = float("nan")
            if p["grad_clip"] > 0:
                gnorm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), p["grad_clip"]))
                clipped += gnorm > p["grad_clip"]
            opt.step()
            for k, val in (("loss", loss), ("loss_ss", loss_ss), ("loss_ir", loss_ir)):
                rec[k].append(float(val))
            rec["lr"].append(lr)
            rec["grad_norm"].append(gnorm)
            rec["epoch"].append(e)
            rec["batch"].append(bi)
            print(f"  {case} e{e} b{bi} B{B} loss {float(loss):.6f} ss {float(loss_ss):.6f} "
                  f"ir {float(loss_ir):.6f} gnorm {gnorm:.4f}")
    if p["grad_clip"] > 0:
        assert 0 < clipped < len(rec["loss"]), f"case {case}: grad_clip clipped {clipped} steps"
    margins.min["triplet"] = kink
    return rec, clipped, margins.min


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    dtype = torch.float32 if "--float32" in sys.argv else torch.float64
    fixture = args[0] if len(args) > 0 else "tests/fixtures/train_repro"
    out = args[1] if len(args) > 1 else "tests/golden/train_repro.safetensors"
    torch.set_num_threads(1)
    train, vocab = write_dataset(fixture)
    write_config(fixture)
    model32 = make_init(vocab["idx"] - 1)
    state = {k: v.detach().clone() for k, v in model32.state_dict().items()}
    gen_golden.save(os.path.join(fixture, "init.safetensors"), state,
                    {"case": "train_repro_init"}, VERSION)

    tensors, meta = {}, {"case": "train_repro", "cases": ",".join(CASES),
                         "dtype": str(dtype).replace("torch.", ""),
                         "resnet_width": str(WIDTH), "image_size": str(IMAGE),
                         "num_classes": str(CLASSES), "embed_dim": str(EMBED),
                         "word_dim": str(WORD_DIM), "hidden_dim": str(HIDDEN)}
    for c in CASES:
        rec, clipped, margin = replay(c, model32, train, vocab, dtype)
        print(f"case {c}: {len(rec['loss'])} steps, loss {rec['loss'][0]:.6f} -> "
              f"{rec['loss'][-1]:.6f}, clipped {clipped}")
        print("  margins " + " ".join(f"{k} {v:.1e}" for k, v in margin.items()))
        for k, need in MIN_MARGIN.items():
            assert margin[k] >= need, (
                f"case {c}: {k} comes within {margin[k]:.1e} of a kink (need {need:.0e}); "
                "float32 may take the other branch there: change the seed of make_init")
        for k, vals in rec.items():
            if k == "grad_norm" and CASES[c]["grad_clip"] <= 0:
                continue
            kind = torch.int64 if k in ("epoch", "batch") else torch.float64
            tensors[f"{c}.{k}"] = torch.tensor(vals, dtype=kind)
        meta[f"{c}.sets"] = " ".join(case_sets(c))
    gen_golden.save(out, tensors, meta, VERSION)
    print(f"wrote {fixture}/ and {out}")


if __name__ == "__main__":
    main()
