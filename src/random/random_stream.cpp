/// @brief RandomStream, LockstepStreams and the counter-based fills.
#include "vecsac/random/random_stream.h"

#include <ATen/ATen.h>

#include <string>

#include "vecsac/random/counter_draws.h"
#include "vecsac/util/device_loop.h"

namespace vecsac {
namespace {

// Elements per CPU task: a draw is a few dozen integer ops.
constexpr int64_t kCpuGrain = 4096;

at::Tensor key_tensor(const std::vector<uint64_t>& keys, c10::Device device) {
  at::Tensor t = at::empty({static_cast<int64_t>(keys.size())}, at::kLong);
  for (size_t i = 0; i < keys.size(); ++i)
    t[static_cast<int64_t>(i)] = static_cast<int64_t>(keys[i]);
  return t.to(device);
}

void fill(const at::Tensor& out, const at::Tensor& keys, int64_t draw, CounterDistribution d,
          float lo, float hi) {
  const int64_t agents = keys.numel();
  TORCH_CHECK(out.scalar_type() == at::kFloat && out.is_contiguous(),
              "random fill: out must be contiguous float32, got ", out.toString(),
              out.is_contiguous() ? "" : " (strided)");
  TORCH_CHECK(keys.scalar_type() == at::kLong && keys.dim() == 1 && agents >= 1 &&
                  keys.device() == out.device(),
              "random fill: keys must be [K >= 1] int64 on ", out.device(), ", got ",
              keys.toString(), " ", keys.sizes(), " on ", keys.device());
  TORCH_CHECK(out.numel() % agents == 0, "random fill: ", out.numel(), " elements for ", agents,
              " agents; allowed: a multiple of the agent count");
  TORCH_CHECK(draw >= 0, "random fill: draw ", draw, " < 0");
  const CounterFill f{out.data_ptr<float>(),
                      keys.const_data_ptr<int64_t>(),
                      agents,
                      out.numel() / agents,
                      static_cast<uint64_t>(draw),
                      d,
                      lo,
                      hi};
  run_elements(
      out.device(), out.numel(), kCpuGrain, [&](int64_t e) { counter_fill_element(f, e); },
      [&](CudaStream stream) { launch_counter_fill(f, stream); }, "random fill");
}

}  // namespace

RandomStream::RandomStream(uint64_t key, c10::Device device)
    : key_(key), keys_(key_tensor({key}, device)) {}

void RandomStream::set_draws(int64_t draws) {
  TORCH_CHECK(draws >= 0, "RandomStream: a draw count of ", draws, "; allowed: >= 0");
  draws_ = draws;
}

LockstepStreams::LockstepStreams(std::vector<RandomStream*> members)
    : members_(std::move(members)) {
  TORCH_CHECK(!members_.empty(), "LockstepStreams: no streams");
  std::vector<uint64_t> keys;
  for (size_t a = 0; a < members_.size(); ++a) {
    const RandomStream* s = members_[a];
    TORCH_CHECK(s->draws() == members_.front()->draws(), "LockstepStreams: agent ", a,
                "'s stream has made ", s->draws(), " draws, agent 0's ", members_.front()->draws(),
                "; agents draw together only from one count");
    TORCH_CHECK(s->keys().device() == members_.front()->keys().device(),
                "LockstepStreams: streams on ", members_.front()->keys().device(), " and ",
                s->keys().device());
    keys.push_back(s->key());
  }
  keys_ = key_tensor(keys, members_.front()->keys().device());
}

// HOT LOOP BEGIN
int64_t LockstepStreams::next() {
  const int64_t draw = members_.front()->draws();
  for (const RandomStream* s : members_) {  // all checked before any counts the draw
    TORCH_CHECK(s->draws() == draw, "LockstepStreams: agents at draws ", draw, " and ", s->draws(),
                " cannot draw together");
  }
  for (RandomStream* s : members_) s->next();
  return draw;
}

void fill_normal(const at::Tensor& out, const at::Tensor& keys, int64_t draw) {
  fill(out, keys, draw, CounterDistribution::kNormal, 0.0f, 0.0f);
}

void fill_uniform(const at::Tensor& out, const at::Tensor& keys, int64_t draw, float lo, float hi) {
  fill(out, keys, draw, CounterDistribution::kUniform, lo, hi);
}
// HOT LOOP END

}  // namespace vecsac
