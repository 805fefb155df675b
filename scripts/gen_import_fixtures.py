#!/usr/bin/python3
"""Writes the small files tests/test_zip.cpp, test_pickle.cpp and
test_import.cpp read (tests/fixtures/), and the values they must import.

A development tool (PyTorch 1.13 and NumPy as Debian ships them); sirs never
runs Python. Every "*_expected.safetensors" holds, under the names sirs must
produce, the values computed here in Python the way the reference code does.

usage: scripts/gen_import_fixtures.py tests/fixtures
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import numpy as np
import torch

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}


def save_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        data = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def write_zip64(path, entries):
    """A stored zip whose central directory keeps sizes and offsets only in
    ZIP64 extra fields (0xffffffff in the 32-bit fields), with a ZIP64 end
    record and locator, as a writer does for archives above 4 GiB."""
    body, central = b"", b""
    for name, data in entries:
        n = name.encode()
        crc = zipfile.crc32(data)
        offset = len(body)
        body += struct.pack("<IHHHHHIIIHH", 0x04034b50, 45, 0, 0, 0, 0, crc,
                            len(data), len(data), len(n), 0) + n + data
        extra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 45, 45, 0, 0, 0, 0, crc,
                               0xffffffff, 0xffffffff, len(n), len(extra), 0, 0, 0, 0,
                               0xffffffff) + n + extra
    cd_offset, count = len(body), len(entries)
    end64_offset = cd_offset + len(central)
    end64 = struct.pack("<IQHHIIQQQQ", 0x06064b50, 44, 45, 45, 0, 0, count, count,
                        len(central), cd_offset)
    locator = struct.pack("<IIQI", 0x07064b50, 0, end64_offset, 1)
    end = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 0xffff, 0xffff, 0xffffffff,
                      0xffffffff, 0)
    with open(path, "wb") as f:
        f.write(body + central + end64 + locator + end)
    with zipfile.ZipFile(path) as z:  # Python's reader agrees
        assert z.testzip() is None and len(z.namelist()) == count


def rnd(*shape, dtype=torch.float32):
    return torch.randn(*shape).to(dtype)


def state_pth(out):
    # float32, int64, float64, a 0-d tensor, a non-contiguous view at an
    # offset, and two tensors sharing one storage.
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8
    sd = collections.OrderedDict()
    sd["w"] = rnd(2, 3)
    sd["idx"] = torch.tensor([3, -1, 1 << 40, 7], dtype=torch.int64)
    sd["d"] = rnd(2, dtype=torch.float64)
    sd["scalar"] = torch.tensor(2.5)
    sd["view"] = base[1:, 2:5].t()  # [3, 3], strides (1, 6), offset 8
    sd["shared_a"] = base
    sd["shared_b"] = base[2]  # same storage, offset 12
    sd["empty"] = torch.zeros(0, 3)
    torch.save(sd, f"{out}/state.pth")
    save_safetensors(f"{out}/state_expected.safetensors", sd)
    # Same dict, deflate-compressed entries (not what torch writes, but a
    # valid archive): rewrite the zip with ZIP_DEFLATED.
    with zipfile.ZipFile(f"{out}/state.pth") as src, \
            zipfile.ZipFile(f"{out}/state_deflate.pth", "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            # A fixed timestamp: the same bytes on every run (writestr with
            # a bare name would stamp each entry with the current time).
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, src.read(info.filename))
    # The same entries with every size and offset in ZIP64 records.
    with zipfile.ZipFile(f"{out}/state.pth") as src:
        write_zip64(f"{out}/state_zip64.pth",
                    [(i.filename, src.read(i.filename)) for i in src.infolist()])
    # A global a state dict never holds.
    torch.save({"x": collections.Counter(a=1)}, f"{out}/unknown_global.pth")
    # The legacy (pre-1.6) format. Its bytes differ from run to run: torch
    # names each storage by its memory address (the tests only check that
    # sirs refuses the format with a clear error, so any run's file serves).
    torch.save({"x": torch.ones(2)}, f"{out}/legacy.pth", _use_new_zipfile_serialization=False)


def resnet_like():
    sd = collections.OrderedDict()
    sd["conv1.weight"] = rnd(4, 3, 3, 3)
    sd["bn1.weight"] = rnd(4)
    sd["bn1.bias"] = rnd(4)
    sd["bn1.running_mean"] = rnd(4)
    sd["bn1.running_var"] = rnd(4).abs()
    sd["bn1.num_batches_tracked"] = torch.tensor(17, dtype=torch.int64)
    sd["layer1.0.conv1.weight"] = rnd(4, 4, 3, 3)
    sd["layer1.0.downsample.0.weight"] = rnd(4, 4, 1, 1)
    sd["fc.weight"] = rnd(5, 4)
    sd["fc.bias"] = rnd(5)
    return sd


def resnet(out):
    sd = resnet_like()
    torch.save(sd, f"{out}/resnet_tv.pth")
    save_safetensors(f"{out}/resnet_tv.safetensors", sd)
    exp = {"extract_feature.resnet." + k: v for k, v in sd.items() if not k.startswith("fc.")}
    save_safetensors(f"{out}/resnet_expected.safetensors", exp)


def reference(out):
    model = collections.OrderedDict()
    model["extract_feature.resnet.conv1.weight"] = rnd(4, 3, 3, 3)
    model["extract_feature.resnet.bn1.num_batches_tracked"] = torch.tensor(5, dtype=torch.int64)
    model["extract_feature.resnet.fc.weight"] = rnd(5, 4)
    model["extract_feature.resnet.fc.bias"] = rnd(5)
    model["decoder.latlayer1.weight"] = rnd(6, 4, 1, 1)
    model["decoder.latlayer1.bias"] = rnd(6)
    model["decoder.layer1.weight"] = rnd(6, 4, 1, 1)
    model["decoder.layer4.bias"] = rnd(6)
    model["decoder.conv1.weight"] = rnd(2, 2, 1, 1)
    model["decoder.smooth1.weight"] = rnd(2, 2, 3, 3)
    model["decoder.conv2.weight"] = rnd(2, 2, 1, 1)
    model["decoder.gn2.weight"] = rnd(2)
    model["decoder.gn1.weight"] = rnd(2)
    model["decoder.conv3.weight"] = rnd(3, 2, 1, 1)
    model["text_feature.to_out.weight"] = torch.nn.Parameter(rnd(4, 3))  # _rebuild_parameter
    unused = ("decoder.layer", "decoder.conv1.", "decoder.smooth", "decoder.conv2.",
              "decoder.gn2.", "extract_feature.resnet.fc.")
    ckpt = {"epoch": 3, "model": model, "best_rsum": 1.5,
            "options": {"model": {"name": "SIRS", "decoder": True, "SSA": None},
                        "optim": {"lr": 2e-4, "loss_weight": [80, 20]}},
            "rsum_np": np.float64(2.5)}
    torch.save(ckpt, f"{out}/reference.pth.tar")
    dp = collections.OrderedDict(("module." + k, v) for k, v in model.items())
    torch.save({"epoch": 7, "model": dp}, f"{out}/reference_module.pth.tar")
    exp = {k: v for k, v in model.items() if not k.startswith(unused)}
    save_safetensors(f"{out}/reference_expected.safetensors", exp)


class Py2Pickler(pickle._Pickler):
    """Pickles bytes as Python 2 str (BINSTRING / SHORT_BINSTRING), the way
    the published skip-thoughts utable.npy (written under Python 2) holds
    its raw array data."""
    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj):
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", n) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def npy_object_file(path, obj_array, py2):
    header = "{'descr': '|O', 'fortran_order': False, 'shape': %r, }" % (obj_array.shape,)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    buf = io.BytesIO()
    if py2:
        Py2Pickler(buf, protocol=2).dump(obj_array)
    else:
        pickle.dump(obj_array, buf, protocol=3)
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(buf.getvalue())


def skipthoughts(out):
    E, H = 6, 3
    words = ["UNK", "<eos>", "plane", "boat", "river", "green"]
    with open(f"{out}/skipthoughts/dictionary.txt", "w") as f:
        f.write("\n".join(words) + "\n")
    table = [np.random.randn(1, E).astype(np.float32) if i % 2 == 0 else
             np.random.randn(E).astype(np.float32) for i in range(len(words))]
    obj = np.empty(len(words), dtype=object)
    for i, row in enumerate(table):
        obj[i] = row
    np.save(f"{out}/skipthoughts/utable.npy", obj, allow_pickle=True)  # Python 3 pickle
    npy_object_file(f"{out}/skipthoughts/utable_py2.npy", obj, py2=True)
    np.save(f"{out}/skipthoughts/utable_plain.npy",
            np.stack([r.reshape(E) for r in table]).astype(np.float32))
    p = {"encoder_W": np.random.randn(E, 2 * H).astype(np.float32),
         "encoder_b": np.random.randn(2 * H).astype(np.float32),
         "encoder_U": np.random.randn(H, 2 * H).astype(np.float32),
         "encoder_Wx": np.random.randn(E, H).astype(np.float32),
         "encoder_bx": np.random.randn(H).astype(np.float32),
         "encoder_Ux": np.random.randn(H, H).astype(np.float32),
         # Present in the release, unused by the uni-skip encoder.
         "Wemb": np.random.randn(4, E).astype(np.float32)}
    np.savez(f"{out}/skipthoughts/uni_skip.npz", **p)
    np.savez_compressed(f"{out}/skipthoughts/uni_skip_deflate.npz", **p)
    np.savez(f"{out}/skipthoughts/uni_skip_bad.npz", **dict(p, encoder_U=p["encoder_U"][:, :5]))
    # Fortran-order copy of one array (read back in C order).
    np.save(f"{out}/skipthoughts/fortran.npy", np.asfortranarray(p["encoder_U"]))

    # The vocabulary the test builds (ids 1..4): two dictionary words, two
    # missing ones (-> UNK). The reference: weight[id] = table[dict[word]]
    # or table[dict['UNK']]; W.t()[:H] -> weight_ir, ...
    vocab = ["plane", "boat", "airport", "<unk>"]
    d = {w: i for i, w in enumerate(words)}
    emb = torch.zeros(len(vocab) + 1, E)
    for i, w in enumerate(vocab):
        emb[i + 1] = torch.from_numpy(table[d.get(w, d["UNK"])])
    t = {k: torch.from_numpy(v) for k, v in p.items()}
    g = "text_feature.seq2vec.rnn.gru_cell."
    exp = collections.OrderedDict()
    exp["text_feature.seq2vec.embedding.weight"] = emb
    exp[g + "weight_ir.weight"] = t["encoder_W"].t()[:H]
    exp[g + "weight_ii.weight"] = t["encoder_W"].t()[H:]
    exp[g + "weight_in.weight"] = t["encoder_Wx"].t()
    exp[g + "weight_ir.bias"] = t["encoder_b"][:H]
    exp[g + "weight_ii.bias"] = t["encoder_b"][H:]
    exp[g + "weight_in.bias"] = t["encoder_bx"]
    exp[g + "weight_hr.weight"] = t["encoder_U"].t()[:H]
    exp[g + "weight_hi.weight"] = t["encoder_U"].t()[H:]
    exp[g + "weight_hn.weight"] = t["encoder_Ux"].t()
    exp["encoder_U"] = t["encoder_U"]  # for fortran.npy
    save_safetensors(f"{out}/skipthoughts_expected.safetensors", exp)


def main():
    out = sys.argv[1]
    os.makedirs(f"{out}/skipthoughts", exist_ok=True)
    torch.manual_seed(4)
    np.random.seed(4)
    state_pth(out)
    resnet(out)
    reference(out)
    skipthoughts(out)


if __name__ == "__main__":
    main()
