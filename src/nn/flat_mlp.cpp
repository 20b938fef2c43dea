/// @brief FlatMlp: forward and backward as GEMMs (the forward ReLU in the GEMM) plus ReLU
/// backward kernels.
#include "vecsac/nn/flat_mlp.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "vecsac/detail/vector_clones.h"
#include "vecsac/nn/activation_launch.h"
#include "vecsac/nn/gemm.h"
#include "vecsac/nn/launch_count.h"
#include "vecsac/util/cpu_pool.h"

#ifdef VECSAC_WITH_CUDA
#include <c10/cuda/CUDAStream.h>
#endif

namespace vecsac {
namespace {

// Elements per CPU task: below this a ReLU pass (memory-bound, ~1 ns per element) is
// cheaper on one core than an OpenMP fork and join.
constexpr int64_t kCpuGrainElements = 32768;

int64_t row_grain(int64_t cols) {
  return std::max<int64_t>(1, kCpuGrainElements / std::max<int64_t>(cols, 1));
}

#ifdef VECSAC_WITH_CUDA
CudaStream stream_of(c10::Device device) {
  return c10::cuda::getCurrentCUDAStream(device.index()).stream();
}
#else
[[noreturn]] void no_cuda(c10::Device device) {
  TORCH_CHECK(false, "FlatMlp: device ", device,
              " needs CUDA, but this vecsac was built with VECSAC_CUDA=OFF");
}
#endif

// HOT LOOP BEGIN: every gradient step runs these (tools/check_hot_loop.sh)
VECSAC_VECTOR_CLONES void relu_backward_rows(const Rows& grad, const Rows& act, int64_t begin,
                                             int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    float* __restrict__ g = row_of(grad, r);
    const float* __restrict__ a = row_of(act, r);
    for (int64_t j = 0; j < grad.cols; ++j) relu_backward_element(g, a, j);
  }
}

void relu_backward(const Rows& grad, const Rows& act, c10::Device device) {
  count_launch();
  if (device.is_cpu()) {
    parallel_for(0, grad.members * grad.rows, row_grain(grad.cols),
                 [&](int64_t begin, int64_t end) { relu_backward_rows(grad, act, begin, end); });
    return;
  }
#ifdef VECSAC_WITH_CUDA
  launch_relu_backward(grad, act, stream_of(device));
#else
  no_cuda(device);
#endif
}
// HOT LOOP END

}  // namespace

FlatMlp::FlatMlp(int64_t ensemble, std::vector<int64_t> sizes)
    : ensemble_(ensemble), sizes_(std::move(sizes)) {
  TORCH_CHECK(ensemble_ >= 1, "FlatMlp: ensemble must be >= 1, got ", ensemble_);
  TORCH_CHECK(sizes_.size() >= 2, "FlatMlp: need at least input and output sizes");
  offsets_.push_back(0);
  for (int64_t l = 0; l < layers(); ++l) {
    TORCH_CHECK(sizes_[l] >= 1 && sizes_[l + 1] >= 1, "FlatMlp: layer sizes must be >= 1, got ",
                sizes_[l], "->", sizes_[l + 1]);
    offsets_.push_back(offsets_.back() + ensemble_ * (sizes_[l] + 1) * sizes_[l + 1]);
  }
}

FlatLayout FlatMlp::layout(int64_t members_per_agent) const {
  TORCH_CHECK(layers() <= FlatLayout::kMaxLayers, "FlatMlp: at most ", FlatLayout::kMaxLayers - 1,
              " hidden layers, got ", layers() - 1);
  FlatLayout f;
  f.layers = static_cast<int>(layers());
  for (int64_t l = 0; l < layers(); ++l) {
    f.offset[l] = offsets_[l];
    f.member_size[l] = (sizes_[l] + 1) * sizes_[l + 1];
  }
  f.offset[layers()] = offsets_.back();
  f.members_per_agent = members_per_agent;
  return f;
}

std::vector<at::Tensor> FlatMlp::parameter_views(const at::Tensor& flat) const {
  TORCH_CHECK(flat.dim() == 1 && flat.numel() == num_params() && flat.is_contiguous(),
              "FlatMlp: flat parameters must be a contiguous [", num_params(), "], got ",
              flat.sizes());
  std::vector<at::Tensor> views;
  for (int64_t l = 0; l < layers(); ++l) {
    const int64_t in = sizes_[l], out = sizes_[l + 1];
    const at::Tensor block =
        flat.narrow(0, offsets_[l], offsets_[l + 1] - offsets_[l]).view({ensemble_, in + 1, out});
    views.push_back(block.narrow(1, 0, in));
    views.push_back(block.narrow(1, in, 1));
  }
  return views;
}

MlpWorkspace FlatMlp::workspace(int64_t rows, const at::TensorOptions& options) const {
  MlpWorkspace ws;
  ws.rows = rows;
  for (int64_t l = 0; l < layers(); ++l) {
    const int64_t out = sizes_[l + 1];
    ws.grad.push_back(at::zeros({ensemble_, rows, out}, options));
    if (l + 1 < layers()) {
      ws.hidden.push_back(at::zeros({ensemble_, rows, out + 1}, options));
      ws.hidden.back().narrow(2, out, 1).fill_(1.0);
    }
  }
  ws.output = at::zeros({ensemble_, rows, sizes_.back()}, options);
  return ws;
}

Rows FlatMlp::input_rows(float* x, int64_t rows, bool shared) const {
  const int64_t ld = sizes_[0] + 1;
  return {x, ensemble_, rows, ld, ld, shared ? 0 : rows * ld};
}

namespace {

// Layer l's hidden output as a stack, without (cols = width) its ones column.
Rows hidden_rows(const MlpWorkspace& ws, int64_t l, int64_t rows) {
  const at::Tensor& h = ws.hidden[l];
  const int64_t width = h.size(2) - 1;
  return {h.data_ptr<float>(), h.size(0), rows, width, width + 1, ws.rows * (width + 1)};
}

Rows grad_rows(const MlpWorkspace& ws, int64_t l, int64_t rows) {
  const at::Tensor& g = ws.grad[l];
  const int64_t width = g.size(2);
  return {g.data_ptr<float>(), g.size(0), rows, width, width, ws.rows * width};
}

}  // namespace

// HOT LOOP BEGIN
void FlatMlp::forward(const float* params, const Rows& input, MlpWorkspace& ws,
                      c10::Device device) const {
  TORCH_CHECK(input.rows <= ws.rows, "FlatMlp::forward: ", input.rows,
              " rows exceed the workspace's ", ws.rows);
  const int64_t rows = input.rows;
  const float* a = input.data;
  int64_t lda = input.ld, stride_a = input.member_stride;
  for (int64_t l = 0; l < layers(); ++l) {
    const int64_t in = sizes_[l], out = sizes_[l + 1];
    const bool last = l + 1 == layers();
    Gemm g;
    g.m = rows, g.n = out, g.k = in + 1;
    g.a = a, g.lda = lda, g.stride_a = stride_a;
    g.b = params + offsets_[l], g.ldb = out, g.stride_b = (in + 1) * out;
    g.batch = ensemble_;
    if (last) {
      g.c = ws.output.data_ptr<float>(), g.ldc = out, g.stride_c = ws.rows * out;
      gemm(g, device);
    } else {
      const Rows h = hidden_rows(ws, l, rows);
      g.c = h.data, g.ldc = h.ld, g.stride_c = h.member_stride;
      g.relu = true;
      gemm(g, device);
      a = h.data, lda = h.ld, stride_a = h.member_stride;
    }
  }
}

void FlatMlp::backward(const float* params, const Rows& input, MlpWorkspace& ws, float* param_grad,
                       float* input_grad, c10::Device device) const {
  const int64_t rows = input.rows;
  for (int64_t l = layers() - 1; l >= 0; --l) {
    const int64_t in = sizes_[l], out = sizes_[l + 1];
    const Rows g = grad_rows(ws, l, rows);
    if (param_grad != nullptr) {  // [in + 1, out] = layer input^T · g, bias row included
      Gemm w;
      w.trans_a = true;
      w.m = in + 1, w.n = out, w.k = rows;
      if (l == 0) {
        w.a = input.data, w.lda = input.ld, w.stride_a = input.member_stride;
      } else {
        const Rows h = hidden_rows(ws, l - 1, rows);
        w.a = h.data, w.lda = h.ld, w.stride_a = h.member_stride;
      }
      w.b = g.data, w.ldb = g.ld, w.stride_b = g.member_stride;
      w.c = param_grad + offsets_[l], w.ldc = out, w.stride_c = (in + 1) * out;
      w.batch = ensemble_;
      gemm(w, device);
    }
    if (l == 0 && input_grad == nullptr) break;
    Gemm x;  // [rows, in] = g · W^T, the bias row left out
    x.trans_b = true;
    x.m = rows, x.n = in, x.k = out;
    x.a = g.data, x.lda = g.ld, x.stride_a = g.member_stride;
    x.b = params + offsets_[l], x.ldb = out, x.stride_b = (in + 1) * out;
    x.batch = ensemble_;
    if (l == 0) {
      x.c = input_grad, x.ldc = in, x.stride_c = rows * in;
      gemm(x, device);
    } else {
      const Rows below = grad_rows(ws, l - 1, rows);
      x.c = below.data, x.ldc = below.ld, x.stride_c = below.member_stride;
      gemm(x, device);
      relu_backward(below, hidden_rows(ws, l - 1, rows), device);
    }
  }
}
// HOT LOOP END

}  // namespace vecsac
