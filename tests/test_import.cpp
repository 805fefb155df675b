// Weight import (layers/pth.h, layers/npz.h, models/import.h) against the
// fixtures of scripts/gen_import_fixtures.py: each import is compared, value
// for value (bit-exact), with the *_expected.safetensors files that script
// computed in PyTorch/NumPy the way the reference code does.
//
// make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Import*'
// Regenerate the fixtures: /usr/bin/python3 scripts/gen_import_fixtures.py tests/fixtures
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "layers/npz.h"
#include "layers/pth.h"
#include "layers/safetensors.h"
#include "models/import.h"
#include "tests/test_util.h"

namespace sirs {
namespace {

using test::fixture;
using test::slurp;

std::string write_temp(const std::string& name, const std::string& bytes) {
  std::string path = testing::TempDir() + "sirs_import_" + std::to_string(::getpid()) + "_" + name;
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

template <class E = IOError, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "no error of the expected type";
}

void expect_same(const Tensor& got, const Tensor& want, const std::string& name) {
  ASSERT_TRUE(got.defined()) << name;
  EXPECT_EQ(got.shape(), want.shape()) << name;
  ASSERT_EQ(got.dtype(), want.dtype()) << name << ": " << dtype_name(got.dtype());
  if (got.shape() != want.shape()) return;
  Tensor g = view::contiguous(got), w = view::contiguous(want);
  EXPECT_EQ(std::memcmp(g.raw_data(), w.raw_data(), static_cast<size_t>(g.numel()) * dtype_size(g.dtype())), 0)
      << name << " values differ";
}

// Names in order and every value equal to the expected file's.
void expect_same(const NamedTensors& got, const std::string& expected_file) {
  SafetensorsFile want = load_safetensors(fixture(expected_file));
  ASSERT_EQ(got.size(), want.tensors.size()) << expected_file;
  for (size_t k = 0; k < got.size(); ++k) {
    EXPECT_EQ(got[k].first, want.tensors[k].first) << "position " << k;
    expect_same(got[k].second, want.at(got[k].first), got[k].first);
  }
}

TEST(ImportPth, StateDictValuesAndLayouts) {
  // float32, int64 (incl. 2^40), float64, 0-d, a transposed view at an
  // offset, two tensors sharing a storage, an empty tensor.
  NamedTensors sd = load_pth(fixture("state.pth"));
  expect_same(sd, "state_expected.safetensors");
  EXPECT_EQ(sd[4].first, "view");
  EXPECT_EQ(sd[4].second.shape(), Shape({3, 3}));
  EXPECT_TRUE(sd[4].second.is_contiguous());
  // The same archive deflated, and with ZIP64 records.
  expect_same(load_pth(fixture("state_deflate.pth")), "state_expected.safetensors");
  expect_same(load_pth(fixture("state_zip64.pth")), "state_expected.safetensors");
}

TEST(ImportPth, RefusesWhatItCannotRead) {
  std::string msg = error_of([] { load_pth(fixture("unknown_global.pth")); });
  EXPECT_NE(msg.find("unknown global 'collections.Counter'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unknown_global.pth"), std::string::npos) << msg;
  EXPECT_NE(msg.find("data.pkl"), std::string::npos) << msg;
  msg = error_of([] { load_pth(fixture("legacy.pth")); });
  EXPECT_NE(msg.find("legacy"), std::string::npos) << msg;
  EXPECT_NE(msg.find("PyTorch >= 1.6"), std::string::npos) << msg;
  msg = error_of([] { load_pth(fixture("reference.pth.tar")); });
  EXPECT_NE(msg.find("'epoch' is a int, not a tensor"), std::string::npos) << msg;
  msg = error_of([] { load_pth(fixture("resnet_tv.safetensors")); });
  EXPECT_NE(msg.find("not a torch.save zip checkpoint"), std::string::npos) << msg;
}

TEST(ImportPth, StorageSizeMismatchNamesTheEntry) {
  // Shrink storage "state/data/1" (int64 idx, 32 bytes) in the central
  // directory and its local header: the pickle's numel no longer fits.
  std::string bytes = slurp(fixture("state_zip64.pth"));
  // In the ZIP64 fixture the sizes live in the extra fields: patch the
  // uncompressed and compressed sizes (two 8-byte fields) after the name.
  std::string name = "state/data/1";
  size_t cd = bytes.rfind(name);  // central directory copy (after the data)
  ASSERT_NE(cd, std::string::npos);
  size_t extra = cd + name.size() + 4;
  bytes[extra] = 24;      // uncompressed size 32 -> 24
  bytes[extra + 8] = 24;  // compressed size
  std::string path = write_temp("badsize.pth", bytes);
  std::string msg = error_of([&] { load_pth(path); });
  EXPECT_NE(msg.find("'state/data/1'"), std::string::npos) << msg;
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
}

TEST(ImportPth, GenericObjectsOfACheckpoint) {
  TorchFile f = load_torch(fixture("reference.pth.tar"));
  const PyValue& root = *f.root;
  ASSERT_TRUE(root.is(PyValue::Kind::Dict));
  EXPECT_EQ(root.get("epoch")->i, 3);
  EXPECT_EQ(root.get("best_rsum")->f, 1.5);
  const PyValue* opts = root.get("options");
  ASSERT_NE(opts, nullptr);
  EXPECT_EQ(opts->get("model")->get("name")->s, "SIRS");
  EXPECT_EQ(opts->get("model")->get("decoder")->i, 1);
  EXPECT_TRUE(opts->get("model")->get("SSA")->is(PyValue::Kind::None));
  EXPECT_EQ(opts->get("optim")->get("lr")->f, 2e-4);
  EXPECT_EQ(opts->get("optim")->get("loss_weight")->items[1]->i, 20);
  // numpy.float64 stays an inert object.
  EXPECT_TRUE(root.get("rsum_np")->is(PyValue::Kind::Object));
  EXPECT_EQ(f.tensor(root.get("epoch")), nullptr);
}

TEST(ImportResnet, FromPthAndSafetensors) {
  for (const char* file : {"resnet_tv.pth", "resnet_tv.safetensors"}) {
    SCOPED_TRACE(file);
    ImportResult r = import_torchvision_resnet(fixture(file));
    expect_same(r.tensors, "resnet_expected.safetensors");
    EXPECT_EQ(r.skipped, std::vector<std::string>({"fc.weight", "fc.bias"}));
    ASSERT_EQ(r.notices.size(), 1u);
    EXPECT_NE(r.notices[0].find("fc.weight, fc.bias"), std::string::npos) << r.notices[0];
  }
  // num_batches_tracked stays int64.
  ImportResult r = import_torchvision_resnet(fixture("resnet_tv.pth"));
  EXPECT_EQ(r.tensors[5].first, "extract_feature.resnet.bn1.num_batches_tracked");
  EXPECT_EQ(r.tensors[5].second.dtype(), DType::I64);
}

TEST(ImportReference, CheckpointWithUnusedTensors) {
  const std::vector<std::string> unused = {
      "extract_feature.resnet.fc.weight", "extract_feature.resnet.fc.bias", "decoder.layer1.weight",
      "decoder.layer4.bias", "decoder.conv1.weight", "decoder.smooth1.weight", "decoder.conv2.weight",
      "decoder.gn2.weight"};
  for (const char* file : {"reference.pth.tar", "reference_module.pth.tar"}) {
    SCOPED_TRACE(file);
    ReferenceCheckpoint c = load_reference_checkpoint(fixture(file));
    EXPECT_EQ(c.epoch, std::string(file) == "reference.pth.tar" ? 3 : 7);
    ASSERT_TRUE(c.root);
    EXPECT_EQ(c.root->get("epoch")->i, c.epoch);
    expect_same(c.weights.tensors, "reference_expected.safetensors");
    EXPECT_EQ(c.weights.skipped, unused);
    std::string notices;
    for (auto& n : c.weights.notices) notices += n + "\n";
    EXPECT_NE(notices.find("skipped 8 tensors"), std::string::npos) << notices;
    EXPECT_NE(notices.find("decoder.gn2.weight"), std::string::npos) << notices;
    EXPECT_EQ(notices.find("module.") != std::string::npos, std::string(file) == "reference_module.pth.tar")
        << notices;
  }
  EXPECT_TRUE(is_unused_reference_tensor("decoder.smooth3.bias"));
  EXPECT_FALSE(is_unused_reference_tensor("decoder.gn1.weight"));
  EXPECT_FALSE(is_unused_reference_tensor("decoder.conv3.weight"));
  std::string msg = error_of<ValueError>([] { load_reference_checkpoint(fixture("state.pth")); });
  EXPECT_NE(msg.find("no 'model'"), std::string::npos) << msg;
}

Vocab test_vocab() {
  // The vocabulary gen_import_fixtures.py assumed: ids 1..4.
  Vocab v;
  v.add_word("plane");
  v.add_word("boat");
  v.add_word("airport");  // not in the dictionary -> UNK
  v.add_word(Vocab::kUnk);  // not in the dictionary -> UNK
  return v;
}

TEST(ImportSkipThoughts, EveryTableLayoutAndArchive) {
  const std::string dir = fixture("skipthoughts/");
  for (const char* table : {"utable.npy", "utable_py2.npy", "utable_plain.npy"}) {
    for (const char* npz : {"uni_skip.npz", "uni_skip_deflate.npz"}) {
      SCOPED_TRACE(std::string(table) + " + " + npz);
      SkipThoughtsFiles files{dir + "dictionary.txt", dir + table, dir + npz};
      ImportResult r = import_skipthoughts(files, test_vocab());
      SafetensorsFile want = load_safetensors(fixture("skipthoughts_expected.safetensors"));
      ASSERT_EQ(r.tensors.size(), 10u);
      for (auto& kv : r.tensors) expect_same(kv.second, want.at(kv.first), kv.first);
      ASSERT_EQ(r.notices.size(), 1u);
      EXPECT_NE(r.notices[0].find("2 of 4"), std::string::npos) << r.notices[0];
    }
  }
  SkipThoughtsFiles f = skipthoughts_files(fixture("skipthoughts"));
  EXPECT_EQ(f.utable, dir + "utable.npy");
  // Row 0 (padding) is zero.
  ImportResult r = import_skipthoughts(f, test_vocab());
  const Tensor& emb = r.tensors[0].second;
  EXPECT_EQ(emb.shape(), Shape({5, 6}));
  for (int64_t j = 0; j < 6; ++j) EXPECT_EQ(emb.data<float>()[j], 0.0f);
}

TEST(ImportSkipThoughts, MismatchedFilesAreNamed) {
  const std::string dir = fixture("skipthoughts/");
  // The dictionary names 6 words; a 5-line one does not fit the table.
  std::string short_dict = write_temp("dict5.txt", "UNK\n<eos>\nplane\nboat\nriver\n");
  std::string msg = error_of<ValueError>([&] {
    import_skipthoughts({short_dict, dir + "utable.npy", dir + "uni_skip.npz"}, test_vocab());
  });
  EXPECT_NE(msg.find("6 rows"), std::string::npos) << msg;
  std::string no_unk = write_temp("dict_nounk.txt", "a\nb\nc\nd\ne\nf\n");
  msg = error_of<ValueError>([&] {
    import_skipthoughts({no_unk, dir + "utable.npy", dir + "uni_skip.npz"}, test_vocab());
  });
  EXPECT_NE(msg.find("no 'UNK'"), std::string::npos) << msg;
  // Weights of the wrong shape, and an archive that is not an .npz.
  msg = error_of<ValueError>([&] {
    import_skipthoughts({dir + "dictionary.txt", dir + "utable.npy", dir + "uni_skip_bad.npz"}, test_vocab());
  });
  EXPECT_NE(msg.find("'encoder_U' is [3, 5], expected [3, 6]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("uni_skip_bad.npz"), std::string::npos) << msg;
  msg = error_of([&] {
    import_skipthoughts({dir + "dictionary.txt", dir + "utable.npy", fixture("state.pth")}, test_vocab());
  });
  EXPECT_NE(msg.find("entry 'state/data.pkl': is not a .npy file"), std::string::npos) << msg;
}

TEST(ImportNpy, ObjectArraysAndFortranOrder) {
  const std::string dir = fixture("skipthoughts/");
  NpyArray a = read_npy(dir + "utable.npy");
  ASSERT_TRUE(a.is_object());
  EXPECT_EQ(a.shape(), Shape({6}));
  EXPECT_EQ(a.num_objects(), 6);
  EXPECT_EQ(a.object(0).shape(), Shape({1, 6}));
  EXPECT_EQ(a.object(1).shape(), Shape({6}));
  NpyArray b = read_npy(dir + "utable_py2.npy");
  for (int64_t i = 0; i < 6; ++i) expect_same(b.object(i), a.object(i), "row " + std::to_string(i));
  EXPECT_NE(error_of([&] { a.tensor(); }).find("object array"), std::string::npos);
  EXPECT_NE(error_of([&] { a.object(6); }).find("out of range"), std::string::npos);
  SafetensorsFile want = load_safetensors(fixture("skipthoughts_expected.safetensors"));
  expect_same(read_npy(dir + "fortran.npy").tensor(), want.at("encoder_U"), "fortran.npy");
  auto npz = read_npz(dir + "uni_skip_deflate.npz");
  ASSERT_EQ(npz.size(), 7u);
  EXPECT_EQ(npz[0].first, "encoder_W");
}

TEST(ImportNpy, BadFilesAreNamed) {
  const std::string dir = fixture("skipthoughts/");
  std::string good = slurp(dir + "utable_plain.npy");
  auto corrupt = [&](const std::string& name, std::string bytes) {
    std::string path = write_temp(name, bytes);
    std::string msg = error_of([&] { read_npy(path); });
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    return msg;
  };
  std::string bad = good;
  bad.replace(bad.find("descr"), 5, "dexcr");
  EXPECT_NE(corrupt("nodescr.npy", bad).find("bad .npy header"), std::string::npos);
  bad = good;
  bad[1] = 'X';
  EXPECT_NE(corrupt("magic.npy", bad).find("bad magic"), std::string::npos);
  bad = good;
  bad.replace(bad.find("<f4"), 3, ">f4");
  EXPECT_NE(corrupt("bigendian.npy", bad).find("unsupported dtype"), std::string::npos);
  bad = good;
  bad[9] = '\x7f';  // header length past the end
  EXPECT_NE(corrupt("hdrlen.npy", bad).find("truncated"), std::string::npos);
  EXPECT_NE(corrupt("short.npy", good.substr(0, good.size() - 4)).find("data bytes"), std::string::npos);
  // Object array whose pickle is cut short.
  std::string obj = slurp(dir + "utable.npy");
  EXPECT_NE(corrupt("shortobj.npy", obj.substr(0, obj.size() - 50)).find("pickle"), std::string::npos);
  // A bad entry inside an .npz is named.
  std::string npz = slurp(dir + "uni_skip.npz");
  size_t at = npz.find("\x93NUMPY");
  ASSERT_NE(at, std::string::npos);
  npz[at + 1] = 'X';  // breaks the magic (and the CRC: both name the entry)
  std::string path = write_temp("bad.npz", npz);
  std::string msg = error_of([&] { read_npz(path); });
  EXPECT_NE(msg.find("'encoder_W.npy'"), std::string::npos) << msg;
}

}  // namespace
}  // namespace sirs

namespace sirs {
namespace {

// Random damage (fixed seed): overwrite a few bytes, or cut the file. Every
// outcome must be a value or a typed sirs error; never a crash or hang (run
// under `make asan` too).
TEST(ImportDamage, RandomBytesGiveTypedErrors) {
  struct Case {
    const char* file;
    void (*load)(const std::string&);
  };
  const Case cases[] = {
      {"state.pth", [](const std::string& p) { load_pth(p); }},
      {"state_deflate.pth", [](const std::string& p) { load_pth(p); }},
      {"reference.pth.tar", [](const std::string& p) { load_reference_checkpoint(p); }},
      {"skipthoughts/utable_py2.npy",
       [](const std::string& p) {
         NpyArray a = read_npy(p);
         for (int64_t i = 0; i < a.num_objects(); ++i) a.object(i);
       }},
      {"skipthoughts/uni_skip.npz", [](const std::string& p) { read_npz(p); }},
  };
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  int errors = 0, loaded = 0;
  for (const Case& c : cases) {
    std::string good = slurp(fixture(c.file));
    for (int trial = 0; trial < 40; ++trial) {
      std::string bad = good;
      if (trial % 10 == 9) {
        bad.resize(next() % bad.size());
      } else {
        for (int k = 0, n = 1 + static_cast<int>(next() % 4); k < n; ++k)
          bad[next() % bad.size()] = static_cast<char>(next() & 0xff);
      }
      std::string path = write_temp("damaged", bad);
      try {
        c.load(path);
        ++loaded;
      } catch (const Error&) {
        ++errors;
      }
    }
  }
  EXPECT_GT(errors, 60);  // most damage is caught (CRC, structure)
  EXPECT_EQ(errors + loaded, 200);
}

}  // namespace
}  // namespace sirs
