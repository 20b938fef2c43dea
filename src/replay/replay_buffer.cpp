/// @brief ReplayBuffer.
#include "vecsac/replay/replay_buffer.h"

#include <ATen/ATen.h>

#include <stdexcept>
#include <string>

#include "vecsac/util/device.h"
#include "vecsac/util/format_bytes.h"

namespace vecsac {

int64_t ReplayBuffer::footprint_bytes(int64_t capacity, int64_t obs_dim, int64_t act_dim) {
  // obs, next_obs, act, reward, terminated: float32 each.
  return capacity * (2 * obs_dim + act_dim + 2) * static_cast<int64_t>(sizeof(float));
}

ReplayBuffer::ReplayBuffer(int64_t capacity, int64_t obs_dim, int64_t act_dim, c10::Device device)
    : capacity_(capacity), obs_dim_(obs_dim), act_dim_(act_dim), device_(device) {
  TORCH_CHECK(capacity >= 1, "ReplayBuffer: capacity must be >= 1, got ", capacity);
  // train() checks the whole run first (memory_estimate.h); this guards other users.
  const int64_t need = footprint_bytes(capacity, obs_dim, act_dim);
  const double free = available_memory(device);
  if (static_cast<double>(need) > free) {
    throw std::runtime_error(
        "sac.buffer_size=" + std::to_string(capacity) + " needs " +
        format_bytes(static_cast<double>(need)) + " on " + device.str() + ", but only " +
        format_bytes(free) + " is available; at most sac.buffer_size=" +
        std::to_string(static_cast<int64_t>(free) / (need / capacity)) + " would fit");
  }
  const auto f32 = at::TensorOptions().device(device).dtype(at::kFloat);
  obs_ = at::zeros({capacity, obs_dim}, f32);
  next_obs_ = at::zeros({capacity, obs_dim}, f32);
  act_ = at::zeros({capacity, act_dim}, f32);
  reward_ = at::zeros({capacity}, f32);
  terminated_ = at::zeros({capacity}, f32);
}

// HOT LOOP BEGIN
void ReplayBuffer::add(const at::Tensor& obs, const at::Tensor& act, const at::Tensor& reward,
                       const at::Tensor& next_obs, const at::Tensor& terminated) {
  const int64_t n = obs.size(0);
  TORCH_CHECK(obs.dim() == 2 && obs.size(1) == obs_dim_ && next_obs.sizes() == obs.sizes(),
              "ReplayBuffer::add: obs and next_obs must be [N, ", obs_dim_, "], got ", obs.sizes(),
              " and ", next_obs.sizes());
  TORCH_CHECK(act.dim() == 2 && act.size(0) == n && act.size(1) == act_dim_,
              "ReplayBuffer::add: act must be [", n, ", ", act_dim_, "], got ", act.sizes());
  TORCH_CHECK(reward.numel() == n && terminated.numel() == n,
              "ReplayBuffer::add: reward and terminated must have ", n, " entries");
  TORCH_CHECK(n <= capacity_, "ReplayBuffer::add: ", n, " transitions exceed capacity ", capacity_);
  // At most two contiguous slices: [cursor, end) and, after wrapping, [0, rest).
  int64_t done = 0;
  while (done < n) {
    const int64_t len = std::min(n - done, capacity_ - cursor_);
    obs_.narrow(0, cursor_, len).copy_(obs.narrow(0, done, len));
    act_.narrow(0, cursor_, len).copy_(act.narrow(0, done, len));
    reward_.narrow(0, cursor_, len).copy_(reward.reshape({n}).narrow(0, done, len));
    next_obs_.narrow(0, cursor_, len).copy_(next_obs.narrow(0, done, len));
    terminated_.narrow(0, cursor_, len).copy_(terminated.reshape({n}).narrow(0, done, len));
    cursor_ = (cursor_ + len) % capacity_;
    done += len;
  }
  size_ = std::min(size_ + n, capacity_);
}

Batch ReplayBuffer::sample(int64_t batch_size, at::Generator& gen) const {
  TORCH_CHECK(size_ >= 1, "ReplayBuffer::sample: the buffer is empty");
  const at::Tensor idx = at::randint(0, size_, {batch_size}, gen,
                                     at::TensorOptions().device(device_).dtype(at::kLong));
  return {obs_.index_select(0, idx), act_.index_select(0, idx), reward_.index_select(0, idx),
          next_obs_.index_select(0, idx), terminated_.index_select(0, idx)};
}

// HOT LOOP END

void ReplayBuffer::restore(const Batch& s, int64_t size, int64_t cursor) {
  TORCH_CHECK(s.obs.sizes() == obs_.sizes() && s.act.sizes() == act_.sizes(),
              "ReplayBuffer::restore: checkpoint buffer has shape ", s.obs.sizes(),
              ", this run's is ", obs_.sizes(), " (sac.buffer_size or env changed?)");
  TORCH_CHECK(size >= 0 && size <= capacity_ && cursor >= 0 && cursor < capacity_,
              "ReplayBuffer::restore: bad size ", size, " or cursor ", cursor);
  obs_.copy_(s.obs);
  act_.copy_(s.act);
  reward_.copy_(s.reward);
  next_obs_.copy_(s.next_obs);
  terminated_.copy_(s.terminated);
  size_ = size;
  cursor_ = cursor;
}

}  // namespace vecsac
