/// @brief A CPU allocator that counts LibTorch's tensor allocations, for "allocates nothing" tests.
#pragma once

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <atomic>
#include <cstdint>

namespace vecsac::testing {

/// Installs itself as LibTorch's CPU allocator for its lifetime, forwarding to the one before.
struct CountingCpuAllocator final : c10::Allocator {
  CountingCpuAllocator() : base(c10::GetCPUAllocator()) {
    c10::SetCPUAllocator(this, /*priority=*/100);
  }
  ~CountingCpuAllocator() override { c10::SetCPUAllocator(base, /*priority=*/101); }
  CountingCpuAllocator(const CountingCpuAllocator&) = delete;
  CountingCpuAllocator& operator=(const CountingCpuAllocator&) = delete;

  c10::DataPtr allocate(size_t n) override {
    count.fetch_add(1);
    return base->allocate(n);
  }
  c10::DeleterFnPtr raw_deleter() const override { return base->raw_deleter(); }
  void copy_data(void* dest, const void* src, std::size_t n) const override {
    base->copy_data(dest, src, n);
  }

  c10::Allocator* base;
  std::atomic<int64_t> count{0};
};

}  // namespace vecsac::testing
