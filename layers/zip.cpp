// Zip reader (format in layers/zip.h). All reads are bounds-checked against
// the file size before any allocation that depends on a size field.
#include "layers/zip.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tensor/error.h"

namespace sirs {

namespace {

constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kEnd64Sig = 0x06064b50;
constexpr uint32_t kEnd64LocatorSig = 0x07064b50;

uint16_t u16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t u32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t u64(const unsigned char* p) {
  return static_cast<uint64_t>(u32(p)) | (static_cast<uint64_t>(u32(p + 4)) << 32);
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw IOError(str_cat("zip '", path, "': ", what));
}

}  // namespace

bool is_zip_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  unsigned char sig[4];
  bool ok = ::pread(fd, sig, 4, 0) == 4 && u32(sig) == kLocalSig;
  ::close(fd);
  return ok;
}

ZipReader::ZipReader(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail(path, str_cat("cannot open: ", std::strerror(errno)));
  try {
    struct stat st;
    if (::fstat(fd_, &st) != 0) fail(path, str_cat("cannot stat: ", std::strerror(errno)));
    file_size_ = static_cast<uint64_t>(st.st_size);
    if (file_size_ < 22) fail(path, "too short for a zip archive (truncated?)");

    // The end record sits in the last 22 + 65535 (comment) bytes.
    uint64_t tail_len = std::min<uint64_t>(file_size_, 22 + 65535);
    std::string tail(static_cast<size_t>(tail_len), '\0');
    pread_exact(&tail[0], tail_len, file_size_ - tail_len, "end of central directory");
    const auto* t = reinterpret_cast<const unsigned char*>(tail.data());
    int64_t eocd = -1;
    for (int64_t i = static_cast<int64_t>(tail_len) - 22; i >= 0; --i) {
      if (u32(t + i) == kEndSig &&
          static_cast<uint64_t>(i) + 22 + u16(t + i + 20) == tail_len) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) fail(path, "no end-of-central-directory record (not a zip, or truncated)");
    const unsigned char* e = t + eocd;
    if (u16(e + 4) != 0 || u16(e + 6) != 0) fail(path, "multi-disk archives are not supported");
    uint64_t count = u16(e + 10);
    uint64_t cd_size = u32(e + 12);
    uint64_t cd_offset = u32(e + 16);
    uint64_t eocd_pos = file_size_ - tail_len + static_cast<uint64_t>(eocd);
    if (count == 0xffff || cd_size == 0xffffffffu || cd_offset == 0xffffffffu) {
      // ZIP64: the locator sits right before the end record.
      if (eocd_pos < 20) fail(path, "ZIP64 locator missing");
      unsigned char loc[20];
      pread_exact(loc, 20, eocd_pos - 20, "ZIP64 locator");
      if (u32(loc) != kEnd64LocatorSig) fail(path, "ZIP64 locator missing");
      uint64_t rec = u64(loc + 8);
      if (rec > file_size_ - 56) fail(path, "ZIP64 end record outside the file");
      unsigned char r[56];
      pread_exact(r, 56, rec, "ZIP64 end record");
      if (u32(r) != kEnd64Sig) fail(path, "bad ZIP64 end record signature");
      count = u64(r + 32);
      cd_size = u64(r + 40);
      cd_offset = u64(r + 48);
    }
    if (cd_offset > file_size_ || cd_size > file_size_ - cd_offset)
      fail(path, str_cat("central directory [", cd_offset, ", +", cd_size,
                         ") lies outside the file of ", file_size_, " bytes (truncated?)"));
    if (count > cd_size / 46) fail(path, str_cat("central directory too small for ", count, " entries"));
    std::string cd(static_cast<size_t>(cd_size), '\0');
    pread_exact(&cd[0], cd_size, cd_offset, "central directory");
    const auto* c = reinterpret_cast<const unsigned char*>(cd.data());
    uint64_t pos = 0;
    entries_.reserve(static_cast<size_t>(count));
    for (uint64_t k = 0; k < count; ++k) {
      if (cd_size - pos < 46 || u32(c + pos) != kCentralSig)
        fail(path, str_cat("bad central directory record ", k));
      const unsigned char* h = c + pos;
      uint16_t flags = u16(h + 8);
      uint64_t name_len = u16(h + 28), extra_len = u16(h + 30), comment_len = u16(h + 32);
      if (cd_size - pos - 46 < name_len + extra_len + comment_len)
        fail(path, str_cat("central directory record ", k, " overruns the directory"));
      ZipEntry z;
      z.name.assign(reinterpret_cast<const char*>(h + 46), static_cast<size_t>(name_len));
      if (flags & 1) fail(path, str_cat("entry '", z.name, "' is encrypted"));
      z.method = u16(h + 10);
      z.crc32 = u32(h + 16);
      z.compressed_size = u32(h + 20);
      z.size = u32(h + 24);
      z.local_header_offset = u32(h + 42);
      // ZIP64 extra: the 0xffffffff fields, in this order.
      const unsigned char* x = h + 46 + name_len;
      uint64_t xp = 0;
      while (xp + 4 <= extra_len) {
        uint16_t id = u16(x + xp), len = u16(x + xp + 2);
        if (xp + 4 + len > extra_len) break;
        if (id == 0x0001) {
          const unsigned char* f = x + xp + 4;
          uint64_t left = len;
          auto take = [&](uint64_t* v) {
            if (*v != 0xffffffffu) return;
            if (left < 8) fail(path, str_cat("entry '", z.name, "': short ZIP64 extra field"));
            *v = u64(f);
            f += 8;
            left -= 8;
          };
          take(&z.size);
          take(&z.compressed_size);
          take(&z.local_header_offset);
        }
        xp += 4 + len;
      }
      if (z.method != 0 && z.method != 8)
        fail(path, str_cat("entry '", z.name, "': compression method ", z.method,
                           " is not supported (stored or deflate only)"));
      if (z.method == 0 && z.compressed_size != z.size)
        fail(path, str_cat("entry '", z.name, "': stored entry with different sizes"));
      if (z.local_header_offset > cd_offset || z.compressed_size > cd_offset - z.local_header_offset)
        fail(path, str_cat("entry '", z.name, "' lies outside the data area (truncated?)"));
      entries_.push_back(std::move(z));
      pos += 46 + name_len + extra_len + comment_len;
    }
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
}

ZipReader::~ZipReader() {
  if (fd_ >= 0) ::close(fd_);
}

void ZipReader::pread_exact(void* dst, uint64_t n, uint64_t offset, const std::string& what) const {
  char* p = static_cast<char*>(dst);
  while (n > 0) {
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, 1u << 30));
    ssize_t r = ::pread(fd_, p, chunk, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail(path_, str_cat("read error in ", what, ": ", std::strerror(errno)));
    if (r == 0) fail(path_, str_cat("unexpected end of file in ", what, " (truncated?)"));
    p += r;
    n -= static_cast<uint64_t>(r);
    offset += static_cast<uint64_t>(r);
  }
}

const ZipEntry* ZipReader::find(const std::string& name) const {
  for (const ZipEntry& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

uint64_t ZipReader::data_offset(const ZipEntry& e) const {
  unsigned char h[30];
  std::string what = str_cat("local header of '", e.name, "'");
  if (e.local_header_offset > file_size_ - 30) fail(path_, str_cat(what, " outside the file"));
  pread_exact(h, 30, e.local_header_offset, what);
  if (u32(h) != kLocalSig) fail(path_, str_cat("bad ", what));
  uint64_t start = e.local_header_offset + 30 + u16(h + 26) + u16(h + 28);
  if (start > file_size_ || e.compressed_size > file_size_ - start)
    fail(path_, str_cat("entry '", e.name, "' data runs past the end of the file (truncated?)"));
  return start;
}

void ZipReader::read_into(const ZipEntry& e, void* dst) const {
  uint64_t start = data_offset(e);
  std::string what = str_cat("entry '", e.name, "'");
  if (e.method == 8 && e.size / 1032 > e.compressed_size + 1)  // deflate expands at most ~1032x
    fail(path_, str_cat(what, ": implausible size ", e.size, " for ", e.compressed_size, " deflated bytes"));
  if (e.method == 0) {
    pread_exact(dst, e.size, start, what);
  } else {
    std::string packed(static_cast<size_t>(e.compressed_size), '\0');
    pread_exact(&packed[0], e.compressed_size, start, what);
    z_stream zs;
    std::memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) fail(path_, str_cat(what, ": zlib init failed"));
    auto* in = reinterpret_cast<Bytef*>(&packed[0]);
    auto* out = static_cast<Bytef*>(dst);
    uint64_t in_left = e.compressed_size, out_left = e.size;
    int rc = Z_OK;
    while (rc == Z_OK) {
      uInt in_chunk = static_cast<uInt>(std::min<uint64_t>(in_left, 1u << 30));
      uInt out_chunk = static_cast<uInt>(std::min<uint64_t>(out_left, 1u << 30));
      zs.next_in = in;
      zs.avail_in = in_chunk;
      zs.next_out = out;
      zs.avail_out = out_chunk;
      rc = inflate(&zs, Z_NO_FLUSH);
      in += in_chunk - zs.avail_in;
      in_left -= in_chunk - zs.avail_in;
      out += out_chunk - zs.avail_out;
      out_left -= out_chunk - zs.avail_out;
      if (rc == Z_OK && in_chunk == zs.avail_in && out_chunk == zs.avail_out) rc = Z_BUF_ERROR;
    }
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || out_left != 0)
      fail(path_, str_cat(what, ": corrupt deflate data (",
                          rc == Z_STREAM_END ? "size mismatch" : (zs.msg ? zs.msg : "truncated"),
                          ")"));
  }
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto* p = static_cast<const Bytef*>(dst);
  for (uint64_t left = e.size; left > 0;) {
    uInt chunk = static_cast<uInt>(std::min<uint64_t>(left, 1u << 30));
    crc = crc32(crc, p, chunk);
    p += chunk;
    left -= chunk;
  }
  if (static_cast<uint32_t>(crc) != e.crc32)
    fail(path_, str_cat(what, ": CRC-32 mismatch (corrupt data)"));
}

std::string ZipReader::read(const ZipEntry& e) const {
  if (e.method == 8 && e.size / 1032 > e.compressed_size + 1)
    fail(path_, str_cat("entry '", e.name, "': implausible size ", e.size, " for ", e.compressed_size,
                        " deflated bytes"));
  std::string out(static_cast<size_t>(e.size), '\0');
  if (e.size > 0 || e.method == 8) read_into(e, &out[0]);
  return out;
}

std::string ZipReader::read(const std::string& name) const {
  const ZipEntry* e = find(name);
  if (!e) fail(path_, str_cat("no entry '", name, "'"));
  return read(*e);
}

}  // namespace sirs
