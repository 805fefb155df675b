// End-to-end tests of the data and weight subcommands of build/sirs (synth,
// tokenize, vocab, convert, overlay, compare) and of the shared argument
// parser (apps/args.h): each test runs the binary as a process and checks its
// output files, its standard output and its exit status (0 ok, 1 failure,
// 2 usage error).
//
// make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='CliTools*'
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "data/image_io.h"
#include "data/mask.h"
#include "data/precomp.h"
#include "data/vocab.h"
#include "layers/safetensors.h"
#include "tests/test_util.h"

namespace sirs {
namespace {

using test::fixture;
using test::slurp;


bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

#define EXPECT_RUN(r, code, part)                                  \
  do {                                                             \
    EXPECT_EQ((r).status, code) << (r).out;                        \
    EXPECT_TRUE(has((r).out, part)) << "want '" << (part) << "' in:\n" << (r).out; \
  } while (0)

void expect_same_tensors(const NamedTensors& got, const NamedTensors& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t k = 0; k < got.size(); ++k) {
    EXPECT_EQ(got[k].first, want[k].first) << k;
    ASSERT_EQ(got[k].second.shape(), want[k].second.shape()) << got[k].first;
    ASSERT_EQ(got[k].second.dtype(), want[k].second.dtype()) << got[k].first;
    Tensor g = view::contiguous(got[k].second), w = view::contiguous(want[k].second);
    EXPECT_EQ(std::memcmp(g.raw_data(), w.raw_data(), size_t(g.numel()) * dtype_size(g.dtype())), 0)
        << got[k].first;
  }
}

TEST(CliToolsArgs, HelpUnknownMissingAndBadValues) {
  for (const char* cmd : {"synth", "tokenize", "vocab", "convert", "overlay", "compare"}) {
    SCOPED_TRACE(cmd);
    test::SirsRun h = test::run_sirs(std::string(cmd) + " --help");
    EXPECT_RUN(h, 0, std::string("usage: sirs ") + cmd);
    EXPECT_RUN(test::run_sirs(std::string(cmd) + " --bogus 1"), 2, "unknown option '--bogus'");
  }
  EXPECT_RUN(test::run_sirs("synth"), 2, "missing required option '--out'");
  EXPECT_RUN(test::run_sirs("synth --out /tmp/x --images"), 2, "option '--images' needs a value");
  EXPECT_RUN(test::run_sirs("synth --out /tmp/x --images 12x"), 2, "'--images' needs an integer, got '12x'");
  EXPECT_RUN(test::run_sirs("synth --out /tmp/x --size=32"), 2, "'--size' must be in [64, 4096], got 32");
  EXPECT_RUN(test::run_sirs("synth --out /tmp/x --out /tmp/y"), 2, "'--out' given twice");
  EXPECT_RUN(test::run_sirs("synth stray --out /tmp/x"), 2, "unexpected argument 'stray'");
  EXPECT_RUN(test::run_sirs("tokenize --vocab v.json --ids=1"), 2, "'--ids' takes no value");
  EXPECT_RUN(test::run_sirs("overlay --image a --mask b --out c.png --alpha 2"), 2, "'--alpha' must be in [0, 1]");
  // Paths: a folder where a file is wanted and the reverse name the option.
  const std::string src = test::source_dir();
  EXPECT_RUN(test::run_sirs("tokenize --vocab " + src + " < /dev/null"), 1, "--vocab " + src + ": is a folder, not a file");
  EXPECT_RUN(test::run_sirs("compare --pred " + src + "/Makefile --gt " + src + "/Makefile"), 1,
             "--gt " + src + "/Makefile: is not a folder");
  EXPECT_RUN(test::run_sirs("convert --export " + src + "/nope.safetensors --out x.safetensors"), 1,
             "--export " + src + "/nope.safetensors: no such file");
}

TEST(CliTools, SynthWritesAReadableDatasetAndConfig) {
  test::TempDir dir("cli_synth");
  const std::string out = dir.file("data");
  test::SirsRun r = test::run_sirs("synth --out " + out + " --images 12 --size 64 --seed 3");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(has(r.out, "class pixel shares")) << r.out;
  EXPECT_TRUE(has(r.out, "Background")) << r.out;
  PrecompOptions opt;
  opt.image_dir = join_path(out, "images");
  opt.mask_dir = join_path(out, "masks");
  PrecompSplit train = read_precomp(join_path(out, "precomp"), "train", opt);
  PrecompSplit test = read_precomp(join_path(out, "precomp"), "test", opt);
  EXPECT_EQ(train.num_images() + test.num_images(), 12);
  EXPECT_EQ(test.num_images(), 1);  // floor(12 * 0.1)
  EXPECT_EQ(train.num_captions(), 5 * train.num_images());
  Image img = read_image_rgb(train.image_paths[0]);
  EXPECT_EQ(img.h, 64);
  EXPECT_EQ(read_mask(train.mask_paths[0]).w, 64);
  Vocab v = Vocab::load_json(join_path(out, "vocab.json"));
  EXPECT_GT(v.size(), 10);
  // The config: reference sections plus ours, paths relative to its folder.
  YAML::Node cfg = YAML::LoadFile(join_path(out, "sirs.yaml"));
  for (const char* s : {"model", "dataset", "optim", "logs", "k_fold", "runtime"}) EXPECT_TRUE(cfg[s].IsMap()) << s;
  EXPECT_EQ(cfg["runtime"]["seed"].as<int>(), 3);
  EXPECT_EQ(cfg["model"]["image_size"].as<int>(), 96);  // images smaller than 128
  EXPECT_GT(cfg["model"]["seq2vec"]["word_dim"].as<int>(), 0);
  EXPECT_GT(cfg["optim"]["epochs"].as<int>(), 0);
  for (const char* k : {"data_path", "image_path", "mask_path", "vocab_path"}) {
    const std::string p = join_path(out, cfg["dataset"][k].as<std::string>());
    EXPECT_TRUE(std::filesystem::exists(p)) << k << " -> " << p;
  }
  // Bad output folder: a file in the way.
  const std::string file = dir.write("afile", "x");
  EXPECT_RUN(test::run_sirs("synth --out " + file + "/sub --images 2 --size 64"), 1, file);
}

TEST(CliTools, TokenizeTokensAndIds) {
  test::TempDir dir("cli_tok");
  Vocab v;
  v.add_word("planes");  // 1
  v.add_word("boat");    // 2
  v.add_word(Vocab::kUnk);  // 3
  v.save_json(dir.file("vocab.json"));
  dir.write("caps.txt", "Two planes, parked near a Boat.\r\n\n!!\nboat's planes\n");
  const std::string base = "tokenize --vocab " + dir.file("vocab.json");
  test::SirsRun t = test::run_sirs(base + " < " + dir.file("caps.txt"));
  ASSERT_EQ(t.status, 0) << t.out;
  EXPECT_EQ(t.out, "<unk> planes <unk> <unk> <unk> boat\n\n\nboat <unk> planes\n");
  test::SirsRun i = test::run_sirs(base + " --ids < " + dir.file("caps.txt"));
  ASSERT_EQ(i.status, 0) << i.out;
  EXPECT_EQ(i.out, "3 1 3 3 3 2\n0\n0\n2 3 1\n");
  EXPECT_RUN(test::run_sirs("tokenize --vocab " + dir.file("missing.json") + " < /dev/null"), 1, "missing.json");
  dir.write("bad.json", "{\"word2idx\": {}}");
  EXPECT_RUN(test::run_sirs("tokenize --vocab " + dir.file("bad.json") + " < /dev/null"), 1, "bad.json");
  EXPECT_RUN(test::run_sirs("tokenize < /dev/null"), 2, "'--vocab'");
}

TEST(CliTools, VocabFromCaptionFiles) {
  test::TempDir dir("cli_vocab");
  dir.write("a.txt", "The plane is white.\nA white plane\n");
  dir.write("b.txt", "one boat\n");
  const std::string caps = "--captions " + dir.file("a.txt") + " --captions=" + dir.file("b.txt");
  test::SirsRun r = test::run_sirs("vocab " + caps + " --out " + dir.file("v.json") + " --threshold 2");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(has(r.out, "3 captions")) << r.out;
  Vocab v = Vocab::load_json(dir.file("v.json"));
  ASSERT_EQ(v.size(), 3);  // plane, white (seen twice, not stopwords), <unk>
  EXPECT_EQ(v.id("plane"), 1);
  EXPECT_EQ(v.id("white"), 2);
  EXPECT_EQ(v.unk_id(), 3);
  r = test::run_sirs("vocab " + caps + " --out " + dir.file("w.json") + " --threshold 1 --keep-stopwords");
  ASSERT_EQ(r.status, 0) << r.out;
  Vocab w = Vocab::load_json(dir.file("w.json"));
  EXPECT_EQ(w.size(), 8);  // the plane is white a one boat <unk>
  EXPECT_EQ(w.id("the"), 1);
  EXPECT_EQ(w.id("boat"), 7);
  EXPECT_RUN(test::run_sirs("vocab --captions " + dir.file("nope.txt") + " --out " + dir.file("x.json")), 1, "nope.txt");
  EXPECT_RUN(test::run_sirs("vocab --out " + dir.file("x.json")), 2, "'--captions'");
  EXPECT_RUN(test::run_sirs("vocab --captions " + dir.file("a.txt") + " --out " + dir.file("x.json") + " --threshold 0"),
             2, "'--threshold' must be >= 1");
}

TEST(CliTools, ConvertImportsCombinesAndExports) {
  test::TempDir dir("cli_convert");
  const std::string tv = dir.file("tv.safetensors"), ref = dir.file("ref.safetensors");
  test::SirsRun r = test::run_sirs("convert --torchvision " + fixture("resnet_tv.pth") + " --out " + tv);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(has(r.out, "fc.weight")) << r.out;  // the skipped classifier is reported
  expect_same_tensors(load_safetensors(tv).tensors, load_safetensors(fixture("resnet_expected.safetensors")).tensors);
  r = test::run_sirs("convert --reference " + fixture("reference.pth.tar") + " --out " + ref);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(has(r.out, "decoder.smooth1.weight")) << r.out;
  expect_same_tensors(load_safetensors(ref).tensors,
                      load_safetensors(fixture("reference_expected.safetensors")).tensors);

  // torchvision + skip-thoughts into one file (the vocabulary the fixtures assume).
  Vocab v;
  for (const char* w : {"plane", "boat", "airport", Vocab::kUnk}) v.add_word(w);
  v.save_json(dir.file("vocab.json"));
  const std::string both = dir.file("both.safetensors");
  r = test::run_sirs("convert --torchvision " + fixture("resnet_tv.pth") + " --skipthoughts " + fixture("skipthoughts") +
               " --vocab " + dir.file("vocab.json") + " --out " + both);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(has(r.out, "2 of 4")) << r.out;  // vocabulary words on the UNK row
  // The ResNet tensors first, then the 10 text-encoder tensors (looked up by
  // name: the expected file holds more than the import returns).
  NamedTensors got = load_safetensors(both).tensors;
  NamedTensors want = load_safetensors(fixture("resnet_expected.safetensors")).tensors;
  ASSERT_EQ(got.size(), want.size() + 10);
  SafetensorsFile st = load_safetensors(fixture("skipthoughts_expected.safetensors"));
  for (size_t k = want.size(); k < got.size(); ++k) {
    EXPECT_EQ(got[k].first.rfind("text_feature.seq2vec.", 0), 0u) << got[k].first;
    want.push_back({got[k].first, st.at(got[k].first)});
  }
  expect_same_tensors(got, want);

  // Export keeps the model tensors of a checkpoint, by name, without "optim.*".
  NamedTensors ck = load_safetensors(tv).tensors;
  ck.push_back({"optim.state.0.exp_avg", zeros({2}, DType::F32)});
  save_safetensors(dir.file("ckpt.safetensors"), ck, {{"format", "sirs-checkpoint-1"}, {"epoch", "2"}});
  const std::string exported = dir.file("exported.safetensors");
  r = test::run_sirs("convert --export " + dir.file("ckpt.safetensors") + " --out " + exported);
  ASSERT_EQ(r.status, 0) << r.out;
  expect_same_tensors(load_safetensors(exported).tensors, load_safetensors(tv).tensors);

  // Errors.
  EXPECT_RUN(test::run_sirs("convert --torchvision " + fixture("resnet_tv.pth") + " --reference " +
                      fixture("reference.pth.tar") + " --out " + dir.file("x.safetensors")),
             1, "tensor 'extract_feature.resnet.conv1.weight' comes from both --torchvision");
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.safetensors")));
  EXPECT_RUN(test::run_sirs("convert --out " + dir.file("x.safetensors")), 2, "nothing to convert");
  EXPECT_RUN(test::run_sirs("convert --skipthoughts " + fixture("skipthoughts") + " --out " + dir.file("x.safetensors")), 2,
             "--skipthoughts needs --vocab");
  EXPECT_RUN(test::run_sirs("convert --torchvision " + fixture("resnet_tv.pth") + " --out " + dir.file("x.bin")), 2,
             "--out must name a .safetensors file");
  EXPECT_RUN(test::run_sirs("convert --torchvision " + dir.file("missing.pth") + " --out " + dir.file("x.safetensors")), 1,
             "missing.pth");
  const std::string junk = dir.write("junk.pth.tar", "this is not a checkpoint");
  EXPECT_RUN(test::run_sirs("convert --reference " + junk + " --out " + dir.file("x.safetensors")), 1, "junk.pth.tar");
  EXPECT_RUN(test::run_sirs("convert --export " + junk + " --out " + dir.file("x.safetensors")), 1, "junk.pth.tar");
}

TEST(CliTools, OverlayPixelValues) {
  test::TempDir dir("cli_overlay");
  Image img(1, 3, 3);
  for (int x = 0; x < 3; ++x) {
    img.at(0, x, 0) = 100;
    img.at(0, x, 1) = 60;
    img.at(0, x, 2) = 20;
  }
  write_png(dir.file("img.png"), img);
  Mask m;
  m.h = 1;
  m.w = 3;
  m.labels = {1, 0, kIgnoreLabel};
  write_mask(dir.file("mask.png"), m);
  test::SirsRun r = test::run_sirs("overlay --image " + dir.file("img.png") + " --mask " + dir.file("mask.png") + " --out " +
                   dir.file("o.png") + " --alpha 0.25 --colors " + dir.file("c.png"));
  ASSERT_EQ(r.status, 0) << r.out;
  Image o = read_stb(dir.file("o.png"));
  ASSERT_EQ(o.c, 3);
  ASSERT_EQ(o.w, 3);
  const int want[3][3] = {{139, 86, 15}, {75, 45, 15}, {100, 60, 20}};  // 0.75 img + 0.25 colour
  for (int x = 0; x < 3; ++x)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(o.at(0, x, c), want[x][c]) << x << "," << c;
  Image col = read_stb(dir.file("c.png"));
  EXPECT_EQ(col.at(0, 0, 1), 165);  // Plane (255, 165, 0)
  // Default alpha 0.3 over Background: 0.7 * 100 = 70.
  ASSERT_EQ(test::run_sirs("overlay --image " + dir.file("img.png") + " --mask " + dir.file("mask.png") + " --out " +
                     dir.file("d.png"))
                .status,
            0);
  EXPECT_EQ(read_stb(dir.file("d.png")).at(0, 1, 0), 70);

  Image big(2, 2, 3);
  write_png(dir.file("big.png"), big);
  EXPECT_RUN(test::run_sirs("overlay --image " + dir.file("big.png") + " --mask " + dir.file("mask.png") + " --out " +
                      dir.file("e.png")),
             1, "mask.png");
  EXPECT_RUN(test::run_sirs("overlay --image " + dir.file("none.tif") + " --mask " + dir.file("mask.png") + " --out " +
                      dir.file("e.png")),
             1, "none.tif");
  EXPECT_RUN(test::run_sirs("overlay --image " + dir.file("img.png") + " --mask " + dir.file("img.png") + " --out " +
                      dir.file("e.png")),
             1, "img.png");  // an RGB picture is not a mask
  EXPECT_RUN(test::run_sirs("overlay --image " + dir.file("img.png") + " --mask " + dir.file("mask.png") + " --out " +
                      dir.file("e.jpg")),
             2, "--out must name a .png file");
}

TEST(CliTools, CompareCountsGroundTruthCaptions) {
  test::TempDir dir("cli_compare");
  std::string caps, names;
  for (const char* img : {"a.tif", "b.tif"})
    for (int k = 0; k < 5; ++k) {
      caps += std::string("caption ") + img[0] + " " + std::to_string(k) + "\n";
      names += std::string(img) + "\n";
    }
  dir.write("precomp/test_caps.txt", caps);
  dir.write("precomp/test_filename.txt", names);
  const std::string gt = " --gt " + dir.file("precomp");
  // a: own, other, own -> 2 of 3 (1 of the top 2); b: by text, own then a's.
  dir.write("i2t.yaml",
            "a.tif:\n"
            "  - {caption: caption a 0, score: 0.9, caption_index: 0}\n"
            "  - {caption: caption b 2, score: 0.8, caption_index: 7}\n"
            "  - {caption: caption a 4, score: 0.7, caption_index: 4}\n"
            "b.tif:\n"
            "  - {caption: caption b 3, score: 0.6}\n"
            "  - {caption: caption a 1, score: 0.5}\n");
  test::SirsRun r = test::run_sirs("compare --pred " + dir.file("i2t.yaml") + gt);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(has(r.out, "a.tif\t2/3\n")) << r.out;
  EXPECT_TRUE(has(r.out, "b.tif\t1/2\n")) << r.out;
  EXPECT_TRUE(has(r.out, "2 images: 3 of 5 top captions are ground truth (60.00%, 1.50 per image); 2 images (100.00%)"))
      << r.out;
  r = test::run_sirs("compare --pred " + dir.file("i2t.yaml") + gt + " --topk 1 --quiet");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "2 images: 2 of 2 top captions are ground truth (100.00%, 1.00 per image); 2 images (100.00%) have "
                   "at least one\n");

  dir.write("wrong.yaml", "a.tif:\n  - {caption: caption a 3, score: 0.9, caption_index: 0}\n");
  EXPECT_RUN(test::run_sirs("compare --pred " + dir.file("wrong.yaml") + gt), 1, "caption_index 0 is \"caption a 0\"");
  dir.write("unknown.yaml", "c.tif:\n  - {caption: caption a 3, score: 0.9}\n");
  EXPECT_RUN(test::run_sirs("compare --pred " + dir.file("unknown.yaml") + gt), 1, "image 'c.tif' is not in the test split");
  dir.write("range.yaml", "a.tif:\n  - {caption_index: 10}\n");
  EXPECT_RUN(test::run_sirs("compare --pred " + dir.file("range.yaml") + gt), 1, "caption_index 10 is outside 0..9");
  dir.write("bad.yaml", "a.tif: [\n");
  EXPECT_RUN(test::run_sirs("compare --pred " + dir.file("bad.yaml") + gt), 1, "bad.yaml is not valid YAML");
  dir.write("list.yaml", "- a\n- b\n");
  EXPECT_RUN(test::run_sirs("compare --pred " + dir.file("list.yaml") + gt), 1, "must map image names");
  EXPECT_RUN(test::run_sirs("compare --pred " + dir.file("none.yaml") + gt), 1, "none.yaml");
  EXPECT_RUN(test::run_sirs("compare --pred " + dir.file("i2t.yaml") + " --gt " + dir.file("nowhere")), 1, "nowhere");
  EXPECT_RUN(test::run_sirs("compare --pred " + dir.file("i2t.yaml")), 2, "missing required option '--gt'");
}

}  // namespace
}  // namespace sirs
