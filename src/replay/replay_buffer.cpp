/// @brief ReplayBuffer.
#include "vecsac/replay/replay_buffer.h"

#include <ATen/ATen.h>

#include <stdexcept>
#include <string>

#include "vecsac/util/device.h"
#include "vecsac/util/device_loop.h"
#include "vecsac/util/format_bytes.h"

namespace vecsac {

int64_t ReplayBuffer::footprint_bytes(int64_t capacity, int64_t obs_dim, int64_t act_dim) {
  // obs, next_obs, act, reward, terminated: float32 each.
  return capacity * (2 * obs_dim + act_dim + 2) * static_cast<int64_t>(sizeof(float));
}

namespace {

// The storage of `rows` transitions, refused with the largest sac.buffer_size that fits (for
// a population, per agent) when the device lacks the memory. train() checks the whole run
// first (memory_estimate.h); this guards other users.
Batch allocate(int64_t agents, int64_t capacity, int64_t obs_dim, int64_t act_dim,
               c10::Device device) {
  TORCH_CHECK(capacity >= 1, "ReplayBuffer: capacity must be >= 1, got ", capacity);
  TORCH_CHECK(agents >= 1, "ReplayBuffer: agents must be >= 1, got ", agents);
  const int64_t per_row = ReplayBuffer::footprint_bytes(1, obs_dim, act_dim);
  const int64_t need = agents * capacity * per_row;
  const double free = available_memory(device);
  if (static_cast<double>(need) > free) {
    throw std::runtime_error(
        "sac.buffer_size=" + std::to_string(capacity) +
        (agents > 1 ? " for " + std::to_string(agents) + " agents" : std::string()) + " needs " +
        format_bytes(static_cast<double>(need)) + " on " + device.str() + ", but only " +
        format_bytes(free) + " is available; at most sac.buffer_size=" +
        std::to_string(static_cast<int64_t>(free) / (agents * per_row)) + " would fit");
  }
  const int64_t rows = agents * capacity;
  const auto f32 = at::TensorOptions().device(device).dtype(at::kFloat);
  return {at::zeros({rows, obs_dim}, f32), at::zeros({rows, act_dim}, f32), at::zeros({rows}, f32),
          at::zeros({rows, obs_dim}, f32), at::zeros({rows}, f32)};
}

}  // namespace

ReplayBuffer::ReplayBuffer(int64_t capacity, int64_t obs_dim, int64_t act_dim, c10::Device device)
    : ReplayBuffer(allocate(1, capacity, obs_dim, act_dim, device), 0, capacity) {}

Batch ReplayBuffer::allocate_rings(int64_t agents, int64_t capacity, int64_t obs_dim,
                                   int64_t act_dim, c10::Device device) {
  return allocate(agents, capacity, obs_dim, act_dim, device);
}

ReplayBuffer::ReplayBuffer(const Batch& rings, int64_t agent, int64_t capacity)
    : capacity_(capacity),
      obs_dim_(rings.obs.size(1)),
      act_dim_(rings.act.size(1)),
      device_(rings.obs.device()) {
  TORCH_CHECK(capacity >= 1 && agent >= 0 && (agent + 1) * capacity <= rings.obs.size(0),
              "ReplayBuffer: agent ", agent, "'s ring of ", capacity, " rows lies outside ",
              rings.obs.size(0), " rows of storage");
  obs_ = rings.obs.narrow(0, agent * capacity, capacity);
  act_ = rings.act.narrow(0, agent * capacity, capacity);
  reward_ = rings.reward.narrow(0, agent * capacity, capacity);
  next_obs_ = rings.next_obs.narrow(0, agent * capacity, capacity);
  terminated_ = rings.terminated.narrow(0, agent * capacity, capacity);
}

namespace {

// Rows per CPU task: a row is a few floats, so small steps stay on the calling thread.
constexpr int64_t kCpuRowGrain = 1024;

const float* floats(const at::Tensor& t) { return t.const_data_ptr<float>(); }

// `t` as contiguous float32 on `device`: itself when it already is (the trainer's case), so
// the check costs no dispatch.
at::Tensor as_float(const at::Tensor& t, c10::Device device) {
  if (t.scalar_type() == at::kFloat && t.is_contiguous() && t.device() == device) return t;
  return t.to(device, at::kFloat).contiguous();
}

}  // namespace

ReplayStorage ReplayBuffer::rows() const {
  return {obs_.data_ptr<float>(),
          act_.data_ptr<float>(),
          reward_.data_ptr<float>(),
          next_obs_.data_ptr<float>(),
          terminated_.data_ptr<float>(),
          capacity_,
          obs_dim_,
          act_dim_};
}

// HOT LOOP BEGIN
void ReplayBuffer::add(const at::Tensor& obs, const at::Tensor& act, const at::Tensor& reward,
                       const at::Tensor& next_obs, const at::Tensor& terminated) {
  advance(insert("add", 1, obs, act, reward, next_obs, terminated));
}

void ReplayBuffer::add_lockstep(const std::vector<ReplayBuffer*>& buffers, const at::Tensor& obs,
                                const at::Tensor& act, const at::Tensor& reward,
                                const at::Tensor& next_obs, const at::Tensor& terminated) {
  check_rings(buffers, "add_lockstep");
  const int64_t n = buffers.front()->insert("add_lockstep", static_cast<int64_t>(buffers.size()),
                                            obs, act, reward, next_obs, terminated);
  for (ReplayBuffer* b : buffers) b->advance(n);
}

int64_t ReplayBuffer::insert(const char* what, int64_t agents, const at::Tensor& obs,
                             const at::Tensor& act, const at::Tensor& reward,
                             const at::Tensor& next_obs, const at::Tensor& terminated) const {
  const int64_t total = obs.dim() == 2 ? obs.size(0) : -1, n = total / agents;
  TORCH_CHECK(obs.dim() == 2 && obs.size(1) == obs_dim_ && next_obs.sizes() == obs.sizes() &&
                  total % agents == 0,
              "ReplayBuffer::", what, ": obs and next_obs must be [N, ", obs_dim_, "]",
              agents > 1 ? " with N a multiple of the " + std::to_string(agents) + " agents" : "",
              ", got ", obs.sizes(), " and ", next_obs.sizes());
  TORCH_CHECK(act.dim() == 2 && act.size(0) == total && act.size(1) == act_dim_,
              "ReplayBuffer::", what, ": act must be [", total, ", ", act_dim_, "], got ",
              act.sizes());
  TORCH_CHECK(reward.numel() == total && terminated.numel() == total, "ReplayBuffer::", what,
              ": reward and terminated must have ", total, " entries");
  TORCH_CHECK(n <= capacity_, "ReplayBuffer::", what, ": ", n, " transitions exceed capacity ",
              capacity_);
  const at::Tensor o = as_float(obs, device_), a = as_float(act, device_),
                   r = as_float(reward, device_), no = as_float(next_obs, device_);
  const bool flags = terminated.scalar_type() == at::kBool && terminated.is_contiguous() &&
                     terminated.device() == device_;
  const at::Tensor t = flags ? terminated : as_float(terminated, device_);
  const InsertRows in{floats(o),
                      floats(a),
                      floats(r),
                      floats(no),
                      flags ? t.const_data_ptr<bool>() : nullptr,
                      flags ? nullptr : floats(t),
                      n,
                      cursor_,
                      agents};
  const ReplayStorage s = rows();
  run_elements(
      device_, total, kCpuRowGrain, [&](int64_t i) { insert_row(s, in, i); },
      [&](CudaStream stream) { launch_replay_insert(s, in, stream); }, "ReplayBuffer");
  return n;
}

void ReplayBuffer::advance(int64_t n) {
  cursor_ = (cursor_ + n) % capacity_;
  size_ = std::min(size_ + n, capacity_);
}

const Batch& ReplayBuffer::sample_reused(int64_t batch_size, RandomStream& stream) {
  if (!sampled_.obs.defined() || sampled_.obs.size(0) != batch_size) {
    const auto f32 = obs_.options();
    sampled_ = {at::empty({batch_size, obs_dim_}, f32), at::empty({batch_size, act_dim_}, f32),
                at::empty({batch_size}, f32), at::empty({batch_size, obs_dim_}, f32),
                at::empty({batch_size}, f32)};
  }
  sample_into(batch_size, stream, sampled_);
  return sampled_;
}

void ReplayBuffer::sample_into(int64_t batch_size, RandomStream& stream, const Batch& out) {
  check_sample(1, batch_size, stream.keys(), out);  // before the draw: a refusal draws nothing
  gather(1, batch_size, stream.keys(), stream.next(), out);
}

void ReplayBuffer::sample_lockstep(const std::vector<ReplayBuffer*>& buffers, int64_t batch_size,
                                   LockstepStreams& streams, const Batch& out) {
  check_rings(buffers, "sample_lockstep");
  const ReplayBuffer& first = *buffers.front();
  const auto agents = static_cast<int64_t>(buffers.size());
  first.check_sample(agents, batch_size, streams.keys(), out);
  first.gather(agents, batch_size, streams.keys(), streams.next(), out);
}

void ReplayBuffer::check_rings(const std::vector<ReplayBuffer*>& buffers, const char* what) {
  TORCH_CHECK(!buffers.empty(), "ReplayBuffer::", what, ": no buffers");
  const ReplayBuffer& first = *buffers.front();
  for (size_t a = 0; a < buffers.size(); ++a) {
    const ReplayBuffer& b = *buffers[a];
    const int64_t offset = static_cast<int64_t>(a) * first.capacity_;
    const auto at_offset = [&](at::Tensor ReplayBuffer::*field, int64_t row_size) {
      return (b.*field).const_data_ptr<float>() ==
             (first.*field).const_data_ptr<float>() + offset * row_size;
    };
    TORCH_CHECK(b.capacity_ == first.capacity_ && at_offset(&ReplayBuffer::obs_, first.obs_dim_) &&
                    at_offset(&ReplayBuffer::act_, first.act_dim_) &&
                    at_offset(&ReplayBuffer::reward_, 1) &&
                    at_offset(&ReplayBuffer::next_obs_, first.obs_dim_) &&
                    at_offset(&ReplayBuffer::terminated_, 1),
                "ReplayBuffer::", what, ": buffer ", a, " is not agent ", a,
                " of the first buffer's rings (ReplayBuffer::allocate_rings)");
    TORCH_CHECK(b.size_ == first.size_ && b.cursor_ == first.cursor_, "ReplayBuffer::", what,
                ": buffer ", a, " holds ", b.size_, " transitions (cursor ", b.cursor_,
                ") against ", first.size_, " (cursor ", first.cursor_,
                "); agents insert and draw in lockstep");
  }
}

void ReplayBuffer::check_sample(int64_t agents, int64_t batch_size, const at::Tensor& keys,
                                const Batch& out) const {
  TORCH_CHECK(size_ >= 1, "ReplayBuffer::sample: the buffer is empty");
  TORCH_CHECK(batch_size >= 1, "ReplayBuffer::sample: batch_size must be >= 1, got ", batch_size);
  TORCH_CHECK(keys.numel() == agents && keys.device() == obs_.device(),
              "ReplayBuffer::sample: ", agents, " agents need as many stream keys on ",
              obs_.device(), ", got ", keys.numel(), " on ", keys.device());
  check_batch_shape(out, agents * batch_size);
}

void ReplayBuffer::gather(int64_t agents, int64_t batch_size, const at::Tensor& keys, int64_t draw,
                          const Batch& out) const {
  const GatherRows rows_out{keys.const_data_ptr<int64_t>(),
                            static_cast<uint64_t>(draw),
                            size_,
                            out.obs.data_ptr<float>(),
                            out.act.data_ptr<float>(),
                            out.reward.data_ptr<float>(),
                            out.next_obs.data_ptr<float>(),
                            out.terminated.data_ptr<float>(),
                            batch_size,
                            agents};
  const ReplayStorage s = rows();
  run_elements(
      device_, agents * batch_size, kCpuRowGrain, [&](int64_t i) { gather_row(s, rows_out, i); },
      [&](CudaStream stream) { launch_replay_gather(s, rows_out, stream); }, "ReplayBuffer");
}

void ReplayBuffer::check_batch_shape(const Batch& out, int64_t rows) const {
  const std::pair<const at::Tensor*, std::vector<int64_t>> want[] = {
      {&out.obs, {rows, obs_dim_}},
      {&out.act, {rows, act_dim_}},
      {&out.reward, {rows}},
      {&out.next_obs, {rows, obs_dim_}},
      {&out.terminated, {rows}}};
  // The storage's own device: a buffer built for "cuda" holds its tensors on cuda:0.
  const c10::Device device = obs_.device();
  for (const auto& [t, shape] : want) {
    TORCH_CHECK(t->defined() && t->sizes().equals(shape) && t->is_contiguous() &&
                    t->scalar_type() == at::kFloat && t->device() == device,
                "ReplayBuffer::sample_into: out tensors must be contiguous float32 on ", device,
                " of shape ", c10::IntArrayRef(shape), ", got ",
                t->defined() ? t->toString() + " on " + t->device().str() + " of shape " +
                                   c10::str(t->sizes()) + (t->is_contiguous() ? "" : ", strided")
                             : std::string("an undefined tensor"));
  }
}

Batch ReplayBuffer::sample(int64_t batch_size, RandomStream& stream) {
  const Batch& b = sample_reused(batch_size, stream);
  return {b.obs.clone(), b.act.clone(), b.reward.clone(), b.next_obs.clone(), b.terminated.clone()};
}

// HOT LOOP END

Batch ReplayBuffer::stored() const {
  // A full buffer of its own storage serializes as it is; a population agent's ring is a
  // view, which would serialize every agent's rows.
  const bool own_storage = obs_.storage().nbytes() == static_cast<size_t>(obs_.nbytes());
  if (size_ == capacity_ && own_storage) return storage();
  // Straight to the host, which is where the serializer copies them anyway: a copy on the
  // device would need a second buffer's memory there, at every checkpoint.
  const auto first = [&](const at::Tensor& t) {
    return t.narrow(0, 0, size_)
        .to(at::TensorOptions().device(at::kCPU), /*non_blocking=*/false,
            /*copy=*/true);
  };
  return {first(obs_), first(act_), first(reward_), first(next_obs_), first(terminated_)};
}

void ReplayBuffer::restore(const Batch& rows, int64_t capacity, int64_t size, int64_t cursor) {
  TORCH_CHECK(capacity == capacity_, "ReplayBuffer::restore: the checkpoint's buffer holds ",
              capacity, " transitions, this run's ", capacity_, " (sac.buffer_size changed?)");
  TORCH_CHECK(size >= 0 && size <= capacity_ && cursor >= 0 && cursor < capacity_ &&
                  (size == capacity_ || cursor == size),
              "ReplayBuffer::restore: bad size ", size, " or cursor ", cursor,
              " for a capacity of ", capacity_,
              " (a buffer not yet full has its cursor at its size)");
  const int64_t n = rows.obs.dim() > 0 ? rows.obs.size(0) : -1;
  TORCH_CHECK(n == size || n == capacity_, "ReplayBuffer::restore: the checkpoint's buffer has ", n,
              " rows for ", size, " stored transitions and a capacity of ", capacity_);
  const at::Tensor* from[] = {&rows.obs, &rows.act, &rows.reward, &rows.next_obs, &rows.terminated};
  at::Tensor* to[] = {&obs_, &act_, &reward_, &next_obs_, &terminated_};
  for (size_t i = 0; i < 5; ++i) {
    const at::Tensor head = to[i]->narrow(0, 0, n);
    TORCH_CHECK(from[i]->sizes() == head.sizes(), "ReplayBuffer::restore: checkpoint buffer has ",
                "shape ", from[i]->sizes(), ", this run's is ", head.sizes(), " (env changed?)");
  }
  for (size_t i = 0; i < 5; ++i) {
    to[i]->narrow(0, 0, n).copy_(*from[i]);
    to[i]->narrow(0, n, capacity_ - n).zero_();
  }
  size_ = size;
  cursor_ = cursor;
}

}  // namespace vecsac
