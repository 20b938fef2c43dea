/// @brief Byte counts as people write them, for messages about memory.
#pragma once

#include <cstdio>
#include <string>

namespace vecsac {

/// "512 B", "1.5 KiB", "3.0 GiB" (binary units, up to EiB).
inline std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (bytes >= 1024 && u < 6) bytes /= 1024, ++u;
  char out[48];
  std::snprintf(out, sizeof out, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return out;
}

}  // namespace vecsac
