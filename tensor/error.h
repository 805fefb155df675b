// Typed errors. Every misuse of the engine throws one of these with a
// message that names the op and the shapes, dtypes or devices involved.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace sirs {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct ShapeError : Error { using Error::Error; };
struct DTypeError : Error { using Error::Error; };
struct DeviceError : Error { using Error::Error; };
struct IndexError : Error { using Error::Error; };   // bad dim or index
struct ValueError : Error { using Error::Error; };   // bad argument value
struct IOError : Error { using Error::Error; };      // files: names the file
struct AutogradError : Error { using Error::Error; };

namespace detail {
inline void stream_all(std::ostringstream&) {}
template <class T, class... R>
void stream_all(std::ostringstream& os, const T& v, const R&... rest) {
  os << v;
  stream_all(os, rest...);
}
}  // namespace detail

template <class... A>
std::string str_cat(const A&... args) {
  std::ostringstream os;
  detail::stream_all(os, args...);
  return os.str();
}

}  // namespace sirs

// SIRS_CHECK(cond, ErrorType, parts...): throw ErrorType(str_cat(parts...))
// when cond is false.
#define SIRS_CHECK(cond, ErrType, ...)                        \
  do {                                                        \
    if (!(cond)) throw ::sirs::ErrType(::sirs::str_cat(__VA_ARGS__)); \
  } while (0)
