// safetensors and .npy files: round trips of every dtype and layout, a file
// built byte by byte as the Python safetensors library writes it, every
// kind of corrupt header, the atomic write, and the NPY header layout.
#include <gtest/gtest.h>
#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

#include "layers/npy.h"
#include "layers/safetensors.h"

using namespace sirs;

namespace {

std::string temp_dir() {
  static std::string dir = [] {
    std::string d = ::testing::TempDir() + "sirs_io_" + std::to_string(::getpid());
    std::string cmd = "mkdir -p '" + d + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    return d;
  }();
  return dir;
}

std::string temp_path(const std::string& name) { return temp_dir() + "/" + name; }

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::string le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

// A safetensors file from a header text and a data buffer.
std::string st_file(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

template <class T>
std::string raw(std::initializer_list<T> v) {
  std::string s(v.size() * sizeof(T), '\0');
  std::memcpy(&s[0], v.begin(), s.size());
  return s;
}

// Loading must fail with an IOError that names the file and contains `what`.
void expect_io_error(const std::string& path, const std::string& what) {
  try {
    load_safetensors(path);
    ADD_FAILURE() << "no error for " << path;
  } catch (const IOError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << "'" << what << "' not in: " << msg;
  }
}

std::vector<std::string> dir_entries() {
  std::vector<std::string> out;
  DIR* d = ::opendir(temp_dir().c_str());
  while (dirent* e = ::readdir(d)) out.push_back(e->d_name);
  ::closedir(d);
  return out;
}

}  // namespace

TEST(Safetensors, RoundTripEveryDtypeAndLayout) {
  Generator g(1);
  NamedTensors in = {
      {"f32", randn({2, 3}, DType::F32, &g)},
      {"f64", randn({3}, DType::F64, &g)},
      {"i64", from_vector({-5, 0, 1LL << 40}, {3}, DType::I64)},
      {"i32", from_vector({-7, 8}, {1, 2}, DType::I32)},
      {"u8", from_vector({0, 255, 17}, {3}, DType::U8)},
      {"bf16", from_vector({1.5, -0.25, 3e38}, {3}, DType::BF16)},
      {"f16", from_vector({0.5, -65504, 6e-8}, {3}, DType::F16)},
      {"noncontig", randn({3, 4}, DType::F32, &g).permute({1, 0}).narrow(0, 1, 2)},
      {"scalar", scalar_tensor(2.5, DType::F64)},
      {"empty", zeros({0, 3})},
  };
  std::map<std::string, std::string> meta = {{"format", "pt"}, {"epoch", "12"}};
  std::string path = temp_path("all.safetensors");
  save_safetensors(path, in, meta);
  SafetensorsFile f = load_safetensors(path);
  EXPECT_EQ(f.metadata, meta);
  ASSERT_EQ(f.tensors.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const Tensor& a = in[i].second;
    const Tensor& b = f.tensors[i].second;
    EXPECT_EQ(f.tensors[i].first, in[i].first);
    EXPECT_EQ(b.dtype(), a.dtype()) << in[i].first;
    EXPECT_EQ(b.shape(), a.shape()) << in[i].first;
    EXPECT_TRUE(b.is_contiguous());
    EXPECT_EQ(b.to_vector(), a.to_vector()) << in[i].first;
  }
  EXPECT_EQ(f.at("scalar").dim(), 0);
  EXPECT_THROW(f.at("nope"), IOError);
  // The data buffer starts 8-byte aligned.
  std::string bytes = read_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(bytes[8], '{');
}

// Bytes laid out as huggingface safetensors' save_file writes them
// (metadata first, compact JSON, space padding to a multiple of 8).
TEST(Safetensors, LoadsAHandBuiltFile) {
  std::string header =
      R"({"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
      R"("b":{"dtype":"BF16","shape":[2],"data_offsets":[16,20]},)"
      R"("n":{"dtype":"I64","shape":[],"data_offsets":[20,28]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  // bf16 1.0 = 0x3f80, -2.0 = 0xc000
  std::string data = raw<float>({1, 2, 3, 4}) + raw<uint16_t>({0x3f80, 0xc000}) + raw<int64_t>({42});
  std::string path = temp_path("hand.safetensors");
  write_bytes(path, st_file(header, data));
  SafetensorsFile f = load_safetensors(path);
  EXPECT_EQ(f.metadata.at("format"), "pt");
  ASSERT_EQ(f.tensors.size(), 3u);
  EXPECT_EQ(f.tensors[0].first, "w");
  EXPECT_EQ(f.at("w").shape(), (Shape{2, 2}));
  EXPECT_EQ(f.at("w").to_vector(), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(f.at("b").to_vector(), (std::vector<double>{1, -2}));
  EXPECT_EQ(f.at("n").item(), 42);
  // Header keys in another order than the data: loaded in data order.
  std::string h2 =
      R"({"second":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},)"
      R"("first":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
  write_bytes(path, st_file(h2, "\x07\x09"));
  SafetensorsFile g = load_safetensors(path);
  EXPECT_EQ(g.tensors[0].first, "first");
  EXPECT_EQ(g.at("second").item(), 9);
}

TEST(Safetensors, CorruptFilesAreIOErrorsNamingFileAndTensor) {
  auto entry = [](const std::string& name, const std::string& dtype, const std::string& shape,
                  uint64_t b, uint64_t e) {
    return str_cat("\"", name, "\":{\"dtype\":\"", dtype, "\",\"shape\":", shape,
                   ",\"data_offsets\":[", b, ",", e, "]}");
  };
  std::string path = temp_path("bad.safetensors");
  std::string good = "{" + entry("a", "F32", "[2]", 0, 8) + "}";
  std::string data8(8, '\0');

  write_bytes(path, "abc");
  expect_io_error(path, "too short");
  write_bytes(path, le64(1000) + good + data8);
  expect_io_error(path, "header length 1000");
  write_bytes(path, le64(1ULL << 62) + good);
  expect_io_error(path, "header length");
  // Truncated: the data buffer lost its last 3 bytes.
  write_bytes(path, st_file(good, data8.substr(0, 5)));
  expect_io_error(path, "'a'");
  write_bytes(path, st_file("{\"a\":{\"dtype\":", data8));
  expect_io_error(path, "not valid JSON");
  write_bytes(path, st_file("[1, 2]", ""));
  expect_io_error(path, "not a JSON object");
  write_bytes(path, st_file("{" + entry("a", "F32", "[4]", 0, 16) + "}", data8));
  expect_io_error(path, "outside the 8-byte data buffer");
  write_bytes(path, st_file("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[1]", 4, 8) +
                                "}",
                            data8));
  expect_io_error(path, "tensor 'b'");
  expect_io_error(path, "overlap");
  write_bytes(path, st_file("{" + entry("a", "F32", "[3]", 0, 8) + "}", data8));
  expect_io_error(path, "needs 12 bytes");
  write_bytes(path, st_file("{" + entry("a", "Q4", "[2]", 0, 8) + "}", data8));
  expect_io_error(path, "unsupported dtype 'Q4'");
  write_bytes(path, st_file("{" + entry("a", "F32", "[-2]", 0, 8) + "}", data8));
  expect_io_error(path, "non-negative");
  write_bytes(path, st_file("{" + entry("a", "U8", "[4]", 0, 4) + "," + entry("a", "U8", "[4]", 4, 8) +
                                "}",
                            data8));
  expect_io_error(path, "'a' appears more than once");
  write_bytes(path, st_file("{" + entry("a", "U8", "[4]", 4, 8) + "}", data8));
  expect_io_error(path, "hole");
  write_bytes(path, st_file("{" + entry("a", "U8", "[4]", 0, 4) + "}", data8));
  expect_io_error(path, "cover 4 bytes of a 8-byte");
  write_bytes(path, st_file("{\"__metadata__\":{\"k\":3}," + entry("a", "F32", "[2]", 0, 8) + "}", data8));
  expect_io_error(path, "__metadata__ key 'k'");
  write_bytes(path, st_file("{" + entry("a", "F32", "[4611686018427387904,4]", 0, 8) + "}", data8));
  expect_io_error(path, "too large");
  expect_io_error(temp_path("missing.safetensors"), "cannot open");
  // The good file does load.
  write_bytes(path, st_file(good, data8));
  EXPECT_EQ(load_safetensors(path).tensors.size(), 1u);
}

TEST(Safetensors, AtomicWriteLeavesNoTemporary) {
  std::string path = temp_path("atomic.safetensors");
  save_safetensors(path, {{"x", ones({4})}});
  save_safetensors(path, {{"x", zeros({2})}});  // overwrite
  EXPECT_EQ(load_safetensors(path).at("x").to_vector(), (std::vector<double>{0, 0}));
  for (const auto& e : dir_entries()) EXPECT_EQ(e.find(".tmp."), std::string::npos) << e;
  // A folder that does not exist: IOError naming the file.
  std::string bad = temp_path("no/such/dir.safetensors");
  try {
    save_safetensors(bad, {{"x", ones({1})}});
    FAIL();
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos);
  }
  EXPECT_THROW(save_safetensors(path, {{"x", ones({1})}, {"x", ones({1})}}), ValueError);
  EXPECT_THROW(save_safetensors(path, {{"__metadata__", ones({1})}}), ValueError);
  // The failed saves left the previous file intact.
  EXPECT_EQ(load_safetensors(path).at("x").to_vector(), (std::vector<double>{0, 0}));
  for (const auto& e : dir_entries()) EXPECT_EQ(e.find(".tmp."), std::string::npos) << e;
}

// ------------------------------------------------------------ npy

TEST(Npy, HeaderFollowsTheSpec) {
  std::string path = temp_path("h.npy");
  save_npy(path, from_vector({1, 2, 3, 4, 5, 6}, {2, 3}));
  std::string b = read_bytes(path);
  ASSERT_GE(b.size(), 10u);
  EXPECT_EQ(b.substr(0, 6), "\x93NUMPY");
  EXPECT_EQ(b[6], 1);
  EXPECT_EQ(b[7], 0);
  size_t hlen = static_cast<unsigned char>(b[8]) | (static_cast<unsigned char>(b[9]) << 8);
  EXPECT_EQ((10 + hlen) % 64, 0u);
  std::string h = b.substr(10, hlen);
  EXPECT_EQ(h.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 0), 0u) << h;
  EXPECT_EQ(h.back(), '\n');
  EXPECT_EQ(b.size(), 10 + hlen + 24);
  float first;
  std::memcpy(&first, b.data() + 10 + hlen, 4);
  EXPECT_EQ(first, 1.0f);

  save_npy(path, arange(5, DType::I64));
  h = read_bytes(path).substr(10);
  EXPECT_EQ(h.rfind("{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }", 0), 0u) << h;
  save_npy(path, scalar_tensor(3, DType::I64));
  h = read_bytes(path).substr(10);
  EXPECT_EQ(h.rfind("{'descr': '<i8', 'fortran_order': False, 'shape': (), }", 0), 0u) << h;
}

TEST(Npy, RoundTrip) {
  std::string path = temp_path("r.npy");
  Generator g(2);
  for (Tensor t : {randn({3, 4, 5}, DType::F32, &g), randint(-100, 100, {7}, DType::I64, &g),
                   randn({4, 3}, DType::F32, &g).permute({1, 0}), scalar_tensor(-1.5),
                   zeros({0, 2}, DType::I64), randn({2}, DType::F64, &g)}) {
    save_npy(path, t);
    Tensor u = load_npy(path);
    EXPECT_EQ(u.dtype(), t.dtype());
    EXPECT_EQ(u.shape(), t.shape());
    EXPECT_EQ(u.to_vector(), t.to_vector());
  }
  EXPECT_THROW(save_npy(path, zeros({2}, DType::BF16)), DTypeError);
}

TEST(Npy, LoadsOtherPaddingAndRejectsBadFiles) {
  std::string path = temp_path("b.npy");
  // Older NumPy aligned to 16 bytes and wrote 'shape' before other keys is fine too.
  std::string h = "{'shape': (3,), 'fortran_order': False, 'descr': '<i8'}";
  h.append((16 - (10 + h.size() + 1) % 16) % 16, ' ');
  h += '\n';
  std::string pre = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(h.size()) + '\0';
  write_bytes(path, pre + h + raw<int64_t>({4, 5, 6}));
  EXPECT_EQ(load_npy(path).to_vector(), (std::vector<double>{4, 5, 6}));

  auto expect_err = [&](const std::string& bytes, const std::string& what) {
    write_bytes(path, bytes);
    try {
      load_npy(path);
      ADD_FAILURE() << "no error for " << what;
    } catch (const IOError& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << "'" << what << "' not in: " << msg;
    }
  };
  expect_err(std::string("\x93NUMPX\x01\x00\x00\x00", 10), "bad magic");
  expect_err(pre + h + raw<int64_t>({4, 5}), "needs 24 data bytes");
  std::string big = h;
  big.replace(big.find("'<i8'"), 5, "'>f4'");
  expect_err(pre + big + raw<int64_t>({4, 5, 6}), "unsupported dtype '>f4'");
  // Fortran order: a [2, 3] array stored column by column loads in C order.
  std::string fo = "{'descr': '<i8', 'fortran_order': True, 'shape': (2, 3), }";
  fo.append((64 - (10 + fo.size() + 1) % 64) % 64, ' ');
  fo += '\n';
  std::string fo_pre = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(fo.size()) + '\0';
  write_bytes(path, fo_pre + fo + raw<int64_t>({1, 4, 2, 5, 3, 6}));
  Tensor ft = load_npy(path);
  EXPECT_EQ(ft.shape(), (Shape{2, 3}));
  EXPECT_EQ(ft.to_vector(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  expect_err(std::string("\x93NUMPY\x01\x00\xff\x00", 10) + "{}", "header length");
  try {
    load_npy(temp_path("absent.npy"));
    FAIL();
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("absent.npy"), std::string::npos);
  }
}
