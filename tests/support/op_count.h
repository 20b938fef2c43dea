/// @brief Counting the ATen ops a call dispatches, as bench/sac_bench.cpp counts launches.
#pragma once

#include <ATen/record_function.h>

#include <cstdint>
#include <functional>
#include <memory>

#include "vecsac/nn/launch_count.h"

namespace vecsac::testing {

/// Every ATen op fn() dispatches on this thread, views included.
inline int64_t aten_ops(const std::function<void()>& fn) {
  static int64_t ops = 0;
  ops = 0;
  auto count = [](const at::RecordFunction&) -> std::unique_ptr<at::ObserverContext> {
    ++ops;
    return nullptr;
  };
  const auto handle = at::addThreadLocalCallback(
      at::RecordFunctionCallback(count).scopes({at::RecordScope::FUNCTION}));
  fn();
  at::removeCallback(handle);
  return ops;
}

/// What fn() would launch on a GPU: its ATen ops plus vecsac's own kernel and GEMM calls.
inline int64_t ops_and_launches(const std::function<void()>& fn) {
  const int64_t before = launch_count().load();
  const int64_t aten = aten_ops(fn);
  return aten + launch_count().load() - before;
}

}  // namespace vecsac::testing
