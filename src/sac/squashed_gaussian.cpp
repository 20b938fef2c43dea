/// @brief Squashed Gaussian sampling and log-density.
#include "vecsac/sac/squashed_gaussian.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>

#include "vecsac/sac/squashed_gaussian_launch.h"
#include "vecsac/util/cpu_pool.h"

#ifdef VECSAC_WITH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace vecsac {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Rows per CPU task: a row costs about six scalar transcendental calls (~50 ns), so
// a batch of 1024 splits across two cores.
constexpr int64_t kCpuGrain = 256;

SquashedGaussianRows rows_of(const at::Tensor& mean, const at::Tensor& log_std,
                             const at::Tensor& eps, double scale) {
  return {mean.data_ptr<float>(), log_std.data_ptr<float>(),
          eps.data_ptr<float>(),  static_cast<float>(scale),
          mean.size(0),           mean.size(1)};
}

const float* ptr_or_null(const at::Tensor& t) {
  return t.defined() ? t.data_ptr<float>() : nullptr;
}

#ifdef VECSAC_WITH_CUDA
CudaStream stream_of(const at::Tensor& t) {
  return c10::cuda::getCurrentCUDAStream(t.device().index()).stream();
}
#else
[[noreturn]] void no_cuda(const at::Tensor& t) {
  TORCH_CHECK(false, "squashed Gaussian: device ", t.device(),
              " needs CUDA, but this vecsac was built with VECSAC_CUDA=OFF");
}
#endif

// Sample, squash and log-density in one pass per row (one kernel on CUDA) instead of
// about 20 elementwise ops, and a backward of one pass instead of about 25:
// docs/profile.md and docs/gpu.md count them.
struct SquashedGaussianFunction : torch::autograd::Function<SquashedGaussianFunction> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& mean,
                               const at::Tensor& log_std, const at::Tensor& eps, double scale) {
    TORCH_CHECK(mean.dim() == 2 && log_std.sizes() == mean.sizes() && eps.sizes() == mean.sizes(),
                "squashed Gaussian: mean, log_std and eps must share one [B, A] shape, got ",
                mean.sizes(), ", ", log_std.sizes(), ", ", eps.sizes());
    TORCH_CHECK(mean.scalar_type() == at::kFloat && log_std.scalar_type() == at::kFloat &&
                    eps.scalar_type() == at::kFloat,
                "squashed Gaussian: float32 tensors only, got ", mean.scalar_type());
    TORCH_CHECK(log_std.device() == mean.device() && eps.device() == mean.device(),
                "squashed Gaussian: mean, log_std and eps must be on one device");
    const at::Tensor m = mean.contiguous(), s = log_std.contiguous(), e = eps.contiguous();
    at::Tensor action = at::empty_like(m);
    at::Tensor log_prob = at::empty({m.size(0)}, m.options());
    const SquashedGaussianRows r = rows_of(m, s, e, scale);
    float* a = action.data_ptr<float>();
    float* lp = log_prob.data_ptr<float>();
    if (m.is_cpu()) {
      parallel_for(0, r.rows, kCpuGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) lp[i] = squashed_gaussian_row(r, i, a);
      });
    } else {
#ifdef VECSAC_WITH_CUDA
      const c10::cuda::CUDAGuard guard(m.device());
      launch_squashed_gaussian(r, a, lp, stream_of(m));
#else
      no_cuda(m);
#endif
    }
    ctx->save_for_backward({m, s, e});
    ctx->saved_data["scale"] = scale;
    return {action, log_prob};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    const variable_list saved = ctx->get_saved_variables();
    const SquashedGaussianRows r =
        rows_of(saved[0], saved[1], saved[2], ctx->saved_data["scale"].toDouble());
    const at::Tensor ga = grad_out[0].defined() ? grad_out[0].contiguous() : at::Tensor();
    const at::Tensor glp = grad_out[1].defined() ? grad_out[1].contiguous() : at::Tensor();
    at::Tensor grad_mean = at::empty_like(saved[0]), grad_log_std = at::empty_like(saved[1]);
    float* gm = grad_mean.data_ptr<float>();
    float* gs = grad_log_std.data_ptr<float>();
    if (saved[0].is_cpu()) {
      parallel_for(0, r.rows, kCpuGrain, [&](int64_t begin, int64_t end) {
        const float* g_action = ptr_or_null(ga);
        const float* g_log_prob = ptr_or_null(glp);
        for (int64_t i = begin; i < end; ++i) {
          squashed_gaussian_row_backward(r, i, g_action,
                                         g_log_prob != nullptr ? g_log_prob[i] : 0.0f, gm, gs);
        }
      });
    } else {
#ifdef VECSAC_WITH_CUDA
      const c10::cuda::CUDAGuard guard(saved[0].device());
      launch_squashed_gaussian_backward(r, ptr_or_null(ga), ptr_or_null(glp), gm, gs,
                                        stream_of(saved[0]));
#else
      no_cuda(saved[0]);
#endif
    }
    return {grad_mean, grad_log_std, at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor squashed_gaussian_log_prob(const at::Tensor& mean, const at::Tensor& log_std,
                                      const at::Tensor& u) {
  const double half_log_2pi = 0.5 * std::log(2.0 * M_PI);
  const at::Tensor z = (u - mean) * at::exp(-log_std);
  const at::Tensor gaussian = -0.5 * z * z - log_std - half_log_2pi;
  const at::Tensor log_jacobian = 2.0 * (std::log(2.0) - u - at::softplus(-2.0 * u));
  return (gaussian - log_jacobian).sum(-1);
}

SquashedSample squashed_gaussian_sample_from(const at::Tensor& mean, const at::Tensor& log_std,
                                             const at::Tensor& eps, double scale) {
  const variable_list out = SquashedGaussianFunction::apply(mean, log_std, eps, scale);
  return {out[0], out[1]};
}

SquashedSample squashed_gaussian_sample(const at::Tensor& mean, const at::Tensor& log_std,
                                        double scale, at::Generator& gen) {
  return squashed_gaussian_sample_from(mean, log_std, at::randn(mean.sizes(), gen, mean.options()),
                                       scale);
}

}  // namespace vecsac
