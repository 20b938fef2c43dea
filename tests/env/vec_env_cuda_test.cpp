/// @brief VecEnv on CUDA equals VecEnv on the CPU bit for bit (skipped without a GPU).
#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "support/cuda_gpu.h"
#include "vecsac/env/vec_env.h"

namespace vecsac {
namespace {

// The point mass uses only IEEE +, *, and casts (kernels built with --fmad=false),
// so its trajectories match bit for bit. The pendulum calls sin/cos, whose CUDA
// and glibc results may differ in the last double bit; a flipped float32 rounding
// then grows along the (chaotic) trajectory, so there only the first steps are
// compared, with a tolerance, and the reset draws (pure arithmetic) exactly.
TEST(VecEnvCudaTest, CudaTrajectoriesAndResetsEqualCpu) {
  VECSAC_REQUIRE_CUDA_GPU();
  const c10::Device cuda(c10::kCUDA, 0), cpu(c10::kCPU);
  for (const EnvParams& p :
       {EnvParams{EnvId::kPointMass, 3, 200, 11}, EnvParams{EnvId::kPendulum, 1, 200, 11}}) {
    // Sizes around the block size and a large odd one.
    for (int64_t n : {int64_t{1}, int64_t{255}, int64_t{257}, int64_t{40001}}) {
      VecEnv on_cpu(p, n, cpu), on_gpu(p, n, cuda);
      ASSERT_TRUE(at::equal(on_cpu.state(), on_gpu.state().cpu())) << "initial reset, n=" << n;
      at::Generator gen = at::detail::createCPUGenerator(5);
      for (int t = 0; t < 401; ++t) {
        const at::Tensor a = at::rand({n, on_cpu.act_dim()}, gen) * 6.0 - 3.0;
        const StepResult rc = on_cpu.step(a);
        const StepResult rg = on_gpu.step(a.to(cuda));
        ASSERT_TRUE(at::equal(rc.truncated, rg.truncated.cpu())) << "n=" << n << " t=" << t;
        if (p.id == EnvId::kPointMass) {
          ASSERT_TRUE(at::equal(rc.next_obs, rg.next_obs.cpu())) << "n=" << n << " t=" << t;
          ASSERT_TRUE(at::equal(rc.reward, rg.reward.cpu())) << "n=" << n << " t=" << t;
          ASSERT_TRUE(at::equal(on_cpu.obs(), on_gpu.obs().cpu())) << "n=" << n << " t=" << t;
        } else if (t < 10) {
          ASSERT_TRUE(at::allclose(rc.next_obs, rg.next_obs.cpu(), 1e-5, 1e-5)) << "t=" << t;
          ASSERT_TRUE(at::allclose(rc.reward, rg.reward.cpu(), 1e-5, 1e-5)) << "t=" << t;
        }
        if (t == 199) {  // both just reset every env from the same counter-based draws
          ASSERT_TRUE(at::equal(on_cpu.state(), on_gpu.state().cpu())) << "reset after step 200";
        }
      }
    }
  }
}

// Staggered clocks on the device: the same truncations and the same statistics (which
// leave the shortened first episodes out) as on the CPU.
TEST(VecEnvCudaTest, StaggeredTimeLimitsEqualCpu) {
  VECSAC_REQUIRE_CUDA_GPU();
  const c10::Device cuda(c10::kCUDA, 0), cpu(c10::kCPU);
  const EnvParams p{EnvId::kPointMass, 1, 200, 11};
  for (int64_t n : {int64_t{257}, int64_t{40001}}) {
    VecEnv on_cpu(p, n, cpu), on_gpu(p, n, cuda);
    on_cpu.stagger_time_limits();
    on_gpu.stagger_time_limits();
    // 400 steps: env i's episodes end at steps 200 - off_i and 400 - off_i, so each
    // finishes exactly one full episode after its shortened first.
    for (int t = 0; t < 400; ++t) {
      const at::Tensor a = at::full({n, 1}, 0.5f);
      const StepResult rc = on_cpu.step(a);
      const StepResult rg = on_gpu.step(a.to(cuda));
      ASSERT_TRUE(at::equal(rc.truncated, rg.truncated.cpu())) << "n=" << n << " t=" << t;
    }
    const EpisodeStats sc = on_cpu.take_episode_stats(), sg = on_gpu.take_episode_stats();
    EXPECT_EQ(sc.count.item<int64_t>(), sg.count.item<int64_t>()) << n;
    EXPECT_EQ(sc.count.item<int64_t>(), n) << "one full episode per env after the first";
    EXPECT_EQ(sc.length_sum.item<int64_t>(), sg.length_sum.item<int64_t>()) << n;
    // Per-env sums are bit-equal; the reduction over envs sums in another order.
    const double rc_sum = sc.return_sum.item<double>();
    EXPECT_NEAR(rc_sum, sg.return_sum.item<double>(), 1e-9 * std::abs(rc_sum)) << n;
  }
}

}  // namespace
}  // namespace vecsac
