// NumPy .npy files (format spec: numpy/lib/format.py, "NEP 1"):
//
//   "\x93NUMPY", major 1, minor 0, uint16 little-endian HEADER_LEN,
//   HEADER_LEN bytes of ASCII: "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
//   padded with spaces and ending in '\n' so that the data starts at a
//   multiple of 64 bytes; then the data, C order, little-endian.
//
// Written as version 1.0; read as 1.0, 2.0 or 3.0 (4-byte header length).
// Dtypes: float32 '<f4', float64 '<f8', int64 '<i8', int32 '<i4', uint8 '|u1'.
// Every error is an IOError naming the file.
#pragma once

#include <string>

#include "tensor/tensor.h"

namespace sirs {

// t: any device and strides (stored C-contiguous).
void save_npy(const std::string& path, const Tensor& t);
// A CPU tensor (C order; Fortran-order files are transposed on load).
// float16/32/64, int32/64 and uint8; object arrays and other dtypes are an
// IOError naming the file.
Tensor load_npy(const std::string& path);

}  // namespace sirs
