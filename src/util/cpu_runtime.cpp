/// @brief tune_cpu_runtime.
#include "vecsac/util/cpu_runtime.h"

#include <ATen/Context.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace vecsac {

std::string tune_cpu_runtime() {
  const bool ftz = at::globalContext().setFlushDenormal(true);
  std::string what = ftz ? "flush-denormal on" : "flush-denormal unsupported";
#if defined(__GLIBC__)
  // 32 MiB is glibc's largest accepted mmap threshold on 64-bit; fixing it also
  // stops the threshold from adapting. A 1 GiB trim threshold keeps the heap top.
  const bool kept =
      mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
  what += kept ? ", heap kept (mmap threshold 32 MiB, trim 1 GiB)" : ", mallopt refused";
#endif
  return what;
}

}  // namespace vecsac
