// Zip reader (layers/zip.h) on the fixtures of scripts/gen_import_fixtures.py:
// a torch.save archive (stored, 64-byte aligned entries), the same entries
// deflated by Python's zipfile, and the same entries with ZIP64 records
// only; plus damaged copies written by the tests.
//
// make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Zip*'
// Regenerate the fixtures: /usr/bin/python3 scripts/gen_import_fixtures.py tests/fixtures
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "layers/zip.h"
#include "tensor/error.h"
#include "tests/test_util.h"

namespace sirs {
namespace {

using test::fixture;
using test::slurp;

std::string write_temp(const std::string& name, const std::string& bytes) {
  std::string path = testing::TempDir() + "sirs_zip_" + std::to_string(::getpid()) + "_" + name;
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

template <class F>
std::string io_error(F&& f) {
  try {
    f();
  } catch (const IOError& e) {
    return e.what();
  }
  return "no IOError";
}

TEST(Zip, ReadsTorchArchive) {
  ZipReader z(fixture("state.pth"));
  std::vector<std::string> names;
  for (const ZipEntry& e : z.entries()) names.push_back(e.name);
  ASSERT_GE(names.size(), 3u);
  EXPECT_EQ(names[0], "state/data.pkl");
  EXPECT_NE(z.find("state/version"), nullptr);
  EXPECT_EQ(z.find("state/nothing"), nullptr);
  EXPECT_EQ(z.read("state/version"), "3\n");
  EXPECT_TRUE(is_zip_file(fixture("state.pth")));
  EXPECT_FALSE(is_zip_file(fixture("legacy.pth")));
  // Storage 0 is "w", 2x3 float32.
  const ZipEntry* e = z.find("state/data/0");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->method, 0);
  EXPECT_EQ(e->size, 24u);
}

TEST(Zip, DeflateAndZip64GiveTheSameBytes) {
  ZipReader stored(fixture("state.pth"));
  ZipReader deflated(fixture("state_deflate.pth"));
  ZipReader zip64(fixture("state_zip64.pth"));
  ASSERT_EQ(deflated.entries().size(), stored.entries().size());
  ASSERT_EQ(zip64.entries().size(), stored.entries().size());
  bool any_deflated = false;
  for (const ZipEntry& e : stored.entries()) {
    const ZipEntry* d = deflated.find(e.name);
    ASSERT_NE(d, nullptr) << e.name;
    any_deflated |= d->method == 8;
    std::string want = stored.read(e);
    EXPECT_EQ(deflated.read(*d), want) << e.name;
    EXPECT_EQ(zip64.read(e.name), want) << e.name;
  }
  EXPECT_TRUE(any_deflated);
}

TEST(Zip, TruncatedArchiveIsAnError) {
  std::string bytes = slurp(fixture("state.pth"));
  for (size_t keep : {bytes.size() - 5, bytes.size() / 2, size_t(10)}) {
    std::string path = write_temp("truncated.zip", bytes.substr(0, keep));
    std::string msg = io_error([&] { ZipReader z(path); z.read("state/data.pkl"); });
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
  }
  // Central directory intact but it points past the data: cut the file's
  // middle out (keeps the end record, loses the entries).
  std::string path = write_temp("hole.zip", bytes.substr(0, 100) + bytes.substr(bytes.size() - 400));
  std::string msg = io_error([&] { ZipReader z(path); for (auto& e : z.entries()) z.read(e); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
}

TEST(Zip, BadCrcNamesTheEntry) {
  ZipReader ok(fixture("state.pth"));
  std::string bytes = slurp(fixture("state.pth"));
  std::string want = ok.read("state/data/0");
  size_t at = bytes.find(want);
  ASSERT_NE(at, std::string::npos);
  bytes[at + 1] ^= 0x40;
  std::string path = write_temp("badcrc.zip", bytes);
  ZipReader z(path);
  std::string msg = io_error([&] { z.read("state/data/0"); });
  EXPECT_NE(msg.find("CRC"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'state/data/0'"), std::string::npos) << msg;
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_EQ(z.read("state/data/1"), ok.read("state/data/1"));  // others still read
}

TEST(Zip, CorruptDeflateNamesTheEntry) {
  ZipReader ok(fixture("state_deflate.pth"));
  const ZipEntry* e = ok.find("state/data.pkl");
  ASSERT_NE(e, nullptr);
  ASSERT_EQ(e->method, 8);
  std::string bytes = slurp(fixture("state_deflate.pth"));
  // Overwrite the middle of the compressed stream.
  uint64_t start = e->local_header_offset + 30 + e->name.size();
  for (uint64_t k = start + 4; k < start + e->compressed_size - 2; ++k) bytes[k] = '\xff';
  std::string path = write_temp("baddeflate.zip", bytes);
  std::string msg = io_error([&] { ZipReader(path).read("state/data.pkl"); });
  EXPECT_NE(msg.find("'state/data.pkl'"), std::string::npos) << msg;
}

TEST(Zip, MissingEntryAndNonZip) {
  ZipReader z(fixture("state.pth"));
  std::string msg = io_error([&] { z.read("state/data/99"); });
  EXPECT_NE(msg.find("no entry 'state/data/99'"), std::string::npos) << msg;
  msg = io_error([&] { ZipReader bad(fixture("legacy.pth")); });
  EXPECT_NE(msg.find("legacy.pth"), std::string::npos) << msg;
  msg = io_error([&] { ZipReader bad(fixture("does_not_exist.zip")); });
  EXPECT_NE(msg.find("cannot open"), std::string::npos) << msg;
}

}  // namespace
}  // namespace sirs
