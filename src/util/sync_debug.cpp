/// @brief SyncDebugScope.
#include "vecsac/util/sync_debug.h"

#ifdef VECSAC_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace vecsac {

#ifdef VECSAC_WITH_CUDA
SyncDebugScope::SyncDebugScope(bool enable) : enabled_(enable) {
  if (enabled_) c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_ERROR);
}
SyncDebugScope::~SyncDebugScope() {
  if (enabled_)
    c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_DISABLED);
}
#else
SyncDebugScope::SyncDebugScope(bool enable) : enabled_(enable) {}
SyncDebugScope::~SyncDebugScope() = default;
#endif

}  // namespace vecsac
