/// @brief FusedAdam.
#include "vecsac/nn/fused_adam.h"

#include <ATen/ATen.h>

#include <string>

namespace vecsac {

FusedAdam::FusedAdam(std::vector<at::Tensor> params, double lr, double beta1, double beta2,
                     double eps)
    : params_(std::move(params)), lr_(lr), beta1_(beta1), beta2_(beta2), eps_(eps) {
  for (const at::Tensor& p : params_) {
    exp_avgs_.push_back(at::zeros_like(p, at::MemoryFormat::Preserve));
    exp_avg_sqs_.push_back(at::zeros_like(p, at::MemoryFormat::Preserve));
    // float32 step counts, as PyTorch's fused Adam keeps them: exact to 2^24 steps.
    steps_.push_back(at::zeros({}, p.options().dtype(at::kFloat)));
  }
  grads_.reserve(params_.size());
}

// HOT LOOP BEGIN: every gradient step runs these (tools/check_hot_loop.sh)
void FusedAdam::zero_grad() {
  for (at::Tensor& p : params_) p.mutable_grad().reset();
}

void FusedAdam::step() {
  grads_.clear();  // keeps its capacity: no allocation per step
  for (const at::Tensor& p : params_) {
    TORCH_CHECK(p.grad().defined(), "FusedAdam::step: a parameter has no gradient");
    grads_.push_back(p.grad());
  }
  const c10::NoGradGuard no_grad;
  at::_foreach_add_(steps_, 1.0);
  at::_fused_adam_(params_, grads_, exp_avgs_, exp_avg_sqs_, /*max_exp_avg_sqs=*/{}, steps_, lr_,
                   beta1_, beta2_, /*weight_decay=*/0.0, eps_, /*amsgrad=*/false,
                   /*maximize=*/false);
}

// HOT LOOP END

std::vector<at::Tensor> FusedAdam::state_tensors() const {
  std::vector<at::Tensor> all = exp_avgs_;
  all.insert(all.end(), exp_avg_sqs_.begin(), exp_avg_sqs_.end());
  all.insert(all.end(), steps_.begin(), steps_.end());
  return all;
}

void FusedAdam::save(torch::serialize::OutputArchive& archive) const {
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string k = std::to_string(i);
    archive.write("exp_avg." + k, exp_avgs_[i]);
    archive.write("exp_avg_sq." + k, exp_avg_sqs_[i]);
    archive.write("step." + k, steps_[i]);
  }
}

void FusedAdam::load(torch::serialize::InputArchive& archive) {
  auto read_into = [&archive](const std::string& key, at::Tensor& dst) {
    at::Tensor t;  // a fresh tensor: reading into a defined one would alias it
    archive.read(key, t);
    // c10::Error, which checkpoint loading reports as a config mismatch, naming the file.
    TORCH_CHECK(t.sizes().equals(dst.sizes()), "optimizer state '", key, "' has shape ", t.sizes(),
                ", expected ", dst.sizes());
    const c10::NoGradGuard no_grad;
    dst.copy_(t);
  };
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string k = std::to_string(i);
    read_into("exp_avg." + k, exp_avgs_[i]);
    read_into("exp_avg_sq." + k, exp_avg_sqs_[i]);
    read_into("step." + k, steps_[i]);
  }
}

}  // namespace vecsac
