/// @brief A CPU allocator that counts LibTorch's tensor allocations, for "allocates nothing" tests.
#pragma once

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>

namespace vecsac::testing {

/// Installs itself as LibTorch's CPU allocator for its lifetime, forwarding to the one before.
struct CountingCpuAllocator final : c10::Allocator {
  // LibTorch keeps the allocator of the highest priority set so far, so each install and
  // each restore must outrank the one before: with fixed priorities a second counter in the
  // same process would silently not be installed, and count nothing.
  CountingCpuAllocator() : base(c10::GetCPUAllocator()) {
    c10::SetCPUAllocator(this, next_priority());
    if (c10::GetCPUAllocator() != this)
      throw std::logic_error("CountingCpuAllocator not installed");
  }
  ~CountingCpuAllocator() override { c10::SetCPUAllocator(base, next_priority()); }
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

 private:
  static uint8_t next_priority() {
    static uint8_t priority = 100;
    return ++priority;
  }
};

}  // namespace vecsac::testing
