// Zip archive reader, enough for PyTorch checkpoints (torch.save's zip
// format) and NumPy .npz files (APPNOTE.TXT, PKWARE):
//
//   [local header "PK\3\4" + name + extra][data] ...   one per entry
//   [central directory: "PK\1\2" records]               name, method, sizes,
//                                                       CRC-32, local offset
//   [ZIP64 end record "PK\6\6" + locator "PK\6\7"]      only when needed
//   [end of central directory "PK\5\6" + comment]
//
// The central directory is the index; each local header is re-read to find
// where the data starts (its name/extra lengths may differ: torch pads the
// extra field so that storages start at 64-byte boundaries). Methods: 0
// (stored) and 8 (deflate, through zlib). ZIP64 sizes and offsets (extra
// field 0x0001) are read. Encrypted entries, multi-disk archives and other
// methods are refused. Every read checks the CRC-32. Every problem is an
// IOError naming the file (and the entry).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sirs {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;  // 0 stored, 8 deflate
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;  // uncompressed
  uint64_t local_header_offset = 0;
};

class ZipReader {
 public:
  // Opens the archive and reads its central directory (IOError on anything
  // malformed: not a zip, truncated, offsets outside the file).
  explicit ZipReader(const std::string& path);
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  const std::string& path() const { return path_; }
  // In central-directory order.
  const std::vector<ZipEntry>& entries() const { return entries_; }
  // nullptr when absent.
  const ZipEntry* find(const std::string& name) const;
  // The uncompressed bytes of an entry, CRC checked (IOError naming the
  // entry when absent).
  std::string read(const std::string& name) const;
  std::string read(const ZipEntry& e) const;
  // Decompresses e into dst (e.size bytes), CRC checked.
  void read_into(const ZipEntry& e, void* dst) const;

 private:
  uint64_t data_offset(const ZipEntry& e) const;
  void pread_exact(void* dst, uint64_t n, uint64_t offset, const std::string& what) const;

  std::string path_;
  int fd_ = -1;
  uint64_t file_size_ = 0;
  std::vector<ZipEntry> entries_;
};

// True when the file starts with a zip local-header signature "PK\3\4".
bool is_zip_file(const std::string& path);

}  // namespace sirs
