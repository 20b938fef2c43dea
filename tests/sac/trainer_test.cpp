/// @brief Training end to end on the CPU: checkpoints, exact resume, crash safety, NaN stop,
/// learning.
#include "vecsac/sac/trainer.h"

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <random>
#include <thread>

#include "support/counting_allocator.h"
#include "support/temp_dir_test.h"
#include "support/tiny_config.h"
#include "vecsac/config/load_config.h"
#include "vecsac/env/env_json_tensor.h"
#include "vecsac/env/point_mass.h"
#include "vecsac/env/vec_env.h"
#include "vecsac/io/atomic_file.h"
#include "vecsac/io/json_file.h"
#include "vecsac/sac/checkpoint.h"
#include "vecsac/sac/evaluate.h"
#include "vecsac/sac/train_iteration.h"
#include "vecsac/sac/training_parts.h"
#include "vecsac/util/generator.h"
#include "vecsac/util/seed_purpose.h"
#include "vecsac/util/stop_signal.h"

namespace vecsac {
namespace {

namespace fs = std::filesystem;
const c10::Device kCpu(c10::kCPU);

using testing::tiny_config;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

Config with_seed(Config c, uint64_t seed) {
  c.run.seed = seed;
  return c;
}

// A run's state as train() builds it, for seed `seed`.
struct OwnedState : TrainingParts {
  explicit OwnedState(const Config& c, uint64_t seed) : TrainingParts(with_seed(c, seed), kCpu) {}
  // Every tensor of the state, in a fixed order, for exact comparison.
  std::vector<at::Tensor> tensors() {
    std::vector<at::Tensor> t;
    for (auto* m : {static_cast<torch::nn::Module*>(learner.actor.get()),
                    static_cast<torch::nn::Module*>(learner.critic.get()),
                    static_cast<torch::nn::Module*>(learner.critic_target.get())}) {
      for (const auto& p : m->parameters()) t.push_back(p.detach());
    }
    t.push_back(learner.log_alpha.detach());
    for (const auto& x : learner.optimizer_state()) t.push_back(x);
    const Batch s = replay.storage();
    t.insert(t.end(), {s.obs, s.act, s.reward, s.next_obs, s.terminated});
    const VecEnvSnapshot e = env.snapshot();
    t.insert(t.end(), {e.state, e.elapsed, e.episode, e.episode_return});
    for (const RandomStream* r :
         {&replay_stream, &explore_stream, &learner.update_stream, &learner.act_stream}) {
      t.push_back(at::tensor(r->draws()));
    }
    return t;
  }
};

void expect_same(std::vector<at::Tensor> a, std::vector<at::Tensor> b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i], b[i])) << "tensor " << i;
}

using TrainerTest = testing::TempDirTest;

// tiny_config with periodic evaluations and policy selection, whose state (kept in the
// checkpoint) an exact resume must restore too.
Config config(int64_t total) {
  Config c = tiny_config(total);
  c.run.eval_freq = 400;
  c.run.select_episodes = 3;
  return c;
}

// Options of a run into `dir` that prints no progress.
TrainOptions quiet_run(const fs::path& dir) {
  TrainOptions opt;
  opt.out_dir = dir;
  opt.quiet = true;
  return opt;
}

// The global_step of every line of a metrics.jsonl or evals.jsonl, in order.
std::vector<int64_t> logged_steps(const fs::path& file) {
  std::vector<int64_t> steps;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    steps.push_back(nlohmann::json::parse(line)["global_step"]);
  }
  return steps;
}

TEST_F(TrainerTest, CheckpointRoundTripRestoresEveryTensorAndCounter) {
  const Config c = tiny_config(1000);
  const fs::path ckpt = checkpoint_path(dir_, 1000);
  TrainOptions opt = quiet_run(dir_);
  train(c, opt);
  ASSERT_TRUE(fs::exists(ckpt));
  OwnedState a(c, 0), b(c, 123);  // different seeds: different before loading
  TrainingState ra = a.ref(), rb = b.ref();
  load_checkpoint(ckpt, ra, kCpu);
  load_checkpoint(ckpt, rb, kCpu);
  EXPECT_EQ(a.counters.global_step, 1000);
  EXPECT_EQ(a.replay.size(), 1000);
  expect_same(a.tensors(), b.tensors());
  // And a re-save of the loaded state loads to the same tensors again.
  save_checkpoint(dir_ / "again.pt", ra);
  OwnedState d(c, 7);
  TrainingState rd = d.ref();
  load_checkpoint(dir_ / "again.pt", rd, kCpu);
  expect_same(a.tensors(), d.tensors());
}

// A buffer of a million transitions that has stored 400: its checkpoint holds the 400 (and
// a resume puts zeros in the rest: ResumeIsBitwiseIdenticalToTrainingStraight), not the
// 28 MB of the capacity, which format 3 wrote at every checkpoint.
TEST_F(TrainerTest, ACheckpointHoldsTheStoredTransitionsNotTheCapacity) {
  Config c = tiny_config(400);
  c.sac.buffer_size = 1'000'000;
  train(c, quiet_run(dir_));
  const auto bytes = fs::file_size(checkpoint_path(dir_, 400));
  EXPECT_LT(bytes, 1'000'000u) << "the capacity: " << ReplayBuffer::footprint_bytes(1'000'000, 2, 1)
                               << " bytes";
  OwnedState s(c, 1);
  TrainingState r = s.ref();
  load_checkpoint(checkpoint_path(dir_, 400), r, kCpu);
  EXPECT_EQ(s.replay.size(), 400);
}

// Periodic evaluations (eval_freq) run in both; they must not perturb training, and the
// policy selected at them (kept in the checkpoint) must be the same.
TEST_F(TrainerTest, ResumeIsBitwiseIdenticalToTrainingStraight) {
  TrainOptions straight;
  straight.out_dir = dir_ / "straight";
  straight.quiet = true;
  train(config(1200), straight);

  TrainOptions split = straight;
  split.out_dir = dir_ / "split";
  train(config(600), split);
  split.resume = true;
  train(config(1200), split);

  const Config c = config(1200);
  OwnedState a(c, 0), b(c, 0);
  TrainingState ra = a.ref(), rb = b.ref();
  load_checkpoint(checkpoint_path(straight.out_dir, 1200), ra, kCpu);
  load_checkpoint(checkpoint_path(split.out_dir, 1200), rb, kCpu);
  expect_same(a.tensors(), b.tensors());
  EXPECT_EQ(read_json_file(straight.out_dir / "eval.json", "eval"),
            read_json_file(split.out_dir / "eval.json", "eval"));
  // metrics.jsonl of the resumed run has each log point once, in order.
  EXPECT_EQ(logged_steps(split.out_dir / "metrics.jsonl"),
            (std::vector<int64_t>{200, 400, 600, 800, 1000, 1200}));
  EXPECT_EQ(logged_steps(split.out_dir / "evals.jsonl"), (std::vector<int64_t>{400, 800, 1200}));
}

TEST_F(TrainerTest, CorruptNewestCheckpointIsRefusedAndThePreviousOneUsed) {
  TrainOptions opt = quiet_run(dir_);
  Config c = tiny_config(800);
  c.run.checkpoint_interval = 400;
  train(c, opt);
  // A newer, truncated checkpoint: half of a real one.
  std::ifstream in(checkpoint_path(dir_, 800), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  write_file_atomic(checkpoint_path(dir_, 900), bytes.substr(0, bytes.size() / 2));
  OwnedState s(c, 0);
  TrainingState r = s.ref();
  try {
    load_checkpoint(checkpoint_path(dir_, 900), r, kCpu);
    FAIL() << "a truncated checkpoint must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("step_900.pt' is truncated or corrupt"));
  }
  opt.resume = true;
  c.run.total_timesteps = 1000;
  ::testing::internal::CaptureStderr();
  train(c, opt);
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), ::testing::HasSubstr("skipping"));
  EXPECT_TRUE(fs::exists(checkpoint_path(dir_, 1000)));
}

// A flipped bit anywhere in a checkpoint, in a tensor record or in the container, is caught
// by its CRC-32C before anything loads; LibTorch's reader alone loads most such files.
TEST_F(TrainerTest, BitFlipsAnywhereInACheckpointAreDetectedAndTheOlderOneUsed) {
  TrainOptions opt = quiet_run(dir_);
  Config c = tiny_config(800);
  c.run.checkpoint_interval = 400;
  train(c, opt);
  const fs::path newest = checkpoint_path(dir_, 800);
  const std::string good = read_file(newest);
  std::mt19937_64 rng(2026);
  OwnedState s(c, 0);
  TrainingState r = s.ref();
  for (int trial = 0; trial < 100; ++trial) {
    std::string bad = good;
    const size_t at = rng() % bad.size();
    bad[at] = static_cast<char>(bad[at] ^ (1u << (rng() % 8)));
    write_file_atomic(newest, bad);
    try {
      load_checkpoint(newest, r, kCpu);
      ADD_FAILURE() << "a flipped bit at byte " << at << " of " << bad.size() << " loaded";
    } catch (const std::runtime_error& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr("step_800.pt' is truncated or corrupt"))
          << "byte " << at;
    }
  }
  // Without its trailer, the archive alone: still refused, as its version promises one.
  write_file_atomic(newest, good.substr(0, good.size() - 20));
  EXPECT_THAT([&] { load_checkpoint(newest, r, kCpu); },
              ::testing::ThrowsMessage<std::runtime_error>(
                  ::testing::HasSubstr("checksum trailer is missing or damaged")));
  // Unchecksummed (as format 2 files are) and damaged in its TorchScript code: LibTorch throws
  // torch::jit::ErrorReport, not c10::Error; it is refused all the same, for eval too.
  // (fuzz/checkpoint_fuzz.cpp found this; before, the exception escaped the resume fallback.)
  std::string code_damaged = good.substr(0, good.size() - 20);
  const size_t cls = code_damaged.find("class Module(Module)");
  ASSERT_NE(cls, std::string::npos);
  code_damaged[cls + 16] = 'q';
  write_file_atomic(newest, code_damaged);
  EXPECT_THAT([&] { load_checkpoint(newest, r, kCpu); },
              ::testing::ThrowsMessage<std::runtime_error>(
                  ::testing::HasSubstr("step_800.pt' is truncated or corrupt")));
  EXPECT_THAT([&] { load_actor(newest, s.learner.actor, kCpu); },
              ::testing::ThrowsMessage<std::runtime_error>(
                  ::testing::HasSubstr("step_800.pt' is truncated or corrupt")));
  // A resume skips the damaged file, continues from step 400, and drops the bad one.
  write_file_atomic(newest, good.substr(0, 100) + char(good[100] ^ 1) + good.substr(101));
  opt.resume = true;
  ::testing::internal::CaptureStderr();
  train(tiny_config(1000), opt);
  EXPECT_THAT(::testing::internal::GetCapturedStderr(),
              ::testing::HasSubstr("skipping checkpoint '" + newest.string()));
  EXPECT_EQ(list_checkpoints(dir_),
            (std::vector<fs::path>{checkpoint_path(dir_, 1000), checkpoint_path(dir_, 400)}));
}

// The first SIGINT, SIGTERM or SIGHUP (through the real handler) stops training after the
// iteration it arrived in, with a checkpoint of that step; resuming from it ends bitwise
// where a straight run ends, with every log point once.
TEST_F(TrainerTest, StopSignalsAtRandomIterationsCheckpointAndResumeBitwise) {
  TrainOptions straight;
  straight.out_dir = dir_ / "straight";
  straight.quiet = true;
  train(config(1200), straight);
  const Config c = config(1200);
  OwnedState want(c, 0);
  TrainingState rw = want.ref();
  load_checkpoint(checkpoint_path(straight.out_dir, 1200), rw, kCpu);

  const int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 6; ++trial) {
    const int sig = kSignals[trial % 3];
    // Iterations advance 4 transitions (num_envs); stop anywhere short of the end.
    const int64_t stop_at = 4 * static_cast<int64_t>(1 + rng() % 298);
    TrainOptions opt = straight;
    opt.out_dir = dir_ / ("stopped_" + std::to_string(trial));
    opt.after_iteration = [&](int64_t step) {
      if (step == stop_at) ::raise(sig);
    };
    {
      const StopSignals handlers;
      try {
        train(config(1200), opt);
        ADD_FAILURE() << "trial " << trial << ": no stop at " << stop_at;
      } catch (const StopRequested& e) {
        EXPECT_EQ(e.signal, sig);
        EXPECT_EQ(e.global_step, stop_at);
        EXPECT_EQ(e.checkpoint, checkpoint_path(opt.out_dir, stop_at).string());
      }
    }
    EXPECT_EQ(pending_stop_signal(), sig) << "the request stays until acted on again";
    request_stop(0);
    ASSERT_EQ(list_checkpoints(opt.out_dir).front(), checkpoint_path(opt.out_dir, stop_at));
    opt.after_iteration = nullptr;
    opt.resume = true;
    train(config(1200), opt);
    OwnedState got(c, 0);
    TrainingState rg = got.ref();
    load_checkpoint(checkpoint_path(opt.out_dir, 1200), rg, kCpu);
    expect_same(want.tensors(), got.tensors());
    EXPECT_EQ(read_json_file(opt.out_dir / "eval.json", "eval"),
              read_json_file(straight.out_dir / "eval.json", "eval"))
        << "trial " << trial << ", stopped at " << stop_at;
    EXPECT_EQ(logged_steps(opt.out_dir / "metrics.jsonl"),
              (std::vector<int64_t>{200, 400, 600, 800, 1000, 1200}))
        << trial;
  }
}

TEST_F(TrainerTest, AFreshRunRefusesAnEarlierRunUnlessToldToOverwriteIt) {
  TrainOptions opt = quiet_run(dir_);
  train(tiny_config(800), opt);
  const std::string before = read_file(checkpoint_path(dir_, 800));
  EXPECT_THAT([&] { train(tiny_config(400), opt); },
              ::testing::ThrowsMessage<std::runtime_error>(::testing::AllOf(
                  ::testing::HasSubstr("holds a run (config.json, metrics.jsonl, eval.json, 1 "
                                       "checkpoint)"),
                  ::testing::HasSubstr("--resume"), ::testing::HasSubstr("--overwrite"))));
  EXPECT_EQ(read_file(checkpoint_path(dir_, 800)), before) << "nothing of the run is touched";
  opt.overwrite = true;
  train(tiny_config(400), opt);  // the step_800 file must not outrank it
  EXPECT_EQ(list_checkpoints(dir_), std::vector<fs::path>{checkpoint_path(dir_, 400)});
}

TEST_F(TrainerTest, AResumeThatChangesATrainingKeyIsRefusedNamingIt) {
  TrainOptions opt = quiet_run(dir_);
  train(tiny_config(400), opt);
  opt.resume = true;
  Config changed = tiny_config(800);
  changed.sac.tau = 0.5;
  EXPECT_THAT([&] { train(changed, opt); },
              ::testing::ThrowsMessage<std::runtime_error>(
                  ::testing::HasSubstr("was trained with sac.tau=0.005, now 0.5")));
  EXPECT_EQ(read_json_file(dir_ / "config.json", "config")["sac"]["tau"], 0.005);
  Config more = tiny_config(800);
  more.run.threads = 1;  // how, not what: allowed, as is the horizon
  EXPECT_NO_THROW(train(more, opt));
}

TEST_F(TrainerTest, ASecondWriterIsRefusedWhileTheFirstTrains) {
  TrainOptions opt = quiet_run(dir_);
  std::atomic<bool> started{false}, checked{false};
  opt.after_iteration = [&](int64_t) {
    started = true;
    while (!checked) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  };
  std::thread first([&] { train(tiny_config(400), opt); });
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  TrainOptions second = quiet_run(dir_);
  second.overwrite = true;  // not even this may take a directory in use
  try {
    train(tiny_config(400), second);
    ADD_FAILURE() << "two writers in one run directory";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("is in use by another process (PID " +
                                               std::to_string(::getpid())));
  }
  checked = true;
  first.join();
  EXPECT_EQ(list_checkpoints(dir_), std::vector<fs::path>{checkpoint_path(dir_, 400)});
}

TEST_F(TrainerTest, StaleTempFilesOfDeadWritersAreRemovedOnStart) {
  TrainOptions opt = quiet_run(dir_);
  train(tiny_config(400), opt);
  const fs::path stale[] = {dir_ / "checkpoints" / ".step_800.pt.tmp.99999",
                            dir_ / ".metrics.jsonl.tmp.12345"};
  for (const auto& f : stale) write_file_atomic(f, "half a file");
  opt.resume = true;
  train(tiny_config(800), opt);
  for (const auto& f : stale) EXPECT_FALSE(fs::exists(f)) << f;
}

// The loop's body after warm-up (act, step, insert, draw, update) allocates no tensor memory
// on the CPU: every buffer is the engine's, the env's or the replay buffer's own.
TEST_F(TrainerTest, ATrainingIterationAllocatesNothingAfterWarmUp) {
  Config c = tiny_config(100000);
  c.sac.learning_starts = 0;
  OwnedState s(c, 0);
  TrainingState r = s.ref();
  const at::Tensor obs_before = at::empty_like(s.env.obs());
  for (int i = 0; i < 40; ++i) train_iteration(r, c, obs_before);
  int64_t during = 0;
  {
    testing::CountingCpuAllocator counting;
    for (int i = 0; i < 20; ++i) train_iteration(r, c, obs_before);
    during = counting.count.load();
  }
  EXPECT_EQ(during, 0) << "allocations in 20 iterations";
}

// A metrics.jsonl cut mid-line loses log points before the checkpoint that the resumed run
// does not rewrite: the resume says so, naming the file and the steps. A torn last line
// after the checkpoint (a kill mid-write) is dropped without a word.
TEST_F(TrainerTest, AResumeWarnsWhenTheLogWasCutBeforeTheCheckpoint) {
  TrainOptions opt = quiet_run(dir_);
  train(config(800), opt);  // log points 200..800, evaluations at 400 and 800
  const std::string metrics = read_file(dir_ / "metrics.jsonl");
  const size_t second_line = metrics.find('\n') + 1;
  write_file_atomic(dir_ / "metrics.jsonl", metrics.substr(0, second_line + 10));
  opt.resume = true;
  ::testing::internal::CaptureStderr();
  train(config(1000), opt);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, ::testing::HasSubstr("metrics.jsonl ends at global_step 200, but the run "
                                        "logged up to at least step 800 before its checkpoint "
                                        "at step 800"));
  EXPECT_THAT(err, ::testing::Not(::testing::HasSubstr("evals.jsonl")));
  EXPECT_EQ(logged_steps(dir_ / "metrics.jsonl"), (std::vector<int64_t>{200, 1000}));

  // Killed mid-write after its checkpoint: the torn line is past the checkpoint, nothing lost.
  std::string whole = read_file(dir_ / "metrics.jsonl");
  write_file_atomic(dir_ / "metrics.jsonl", whole + "{\"global_step\": 12");
  ::testing::internal::CaptureStderr();
  train(config(1200), opt);
  EXPECT_THAT(::testing::internal::GetCapturedStderr(),
              ::testing::Not(::testing::HasSubstr("warning")));
  EXPECT_EQ(logged_steps(dir_ / "metrics.jsonl"), (std::vector<int64_t>{200, 1000, 1200}));
}

TEST_F(TrainerTest, AResumeThatDoesNotMatchKeepsTheRunsConfig) {
  TrainOptions opt = quiet_run(dir_);
  train(tiny_config(400), opt);
  Config other = tiny_config(800);
  other.sac.buffer_size = 3000;
  opt.resume = true;
  try {
    train(other, opt);
    FAIL() << "a checkpoint of another buffer size must not load";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("was trained with sac.buffer_size=2000, now 3000"));
  }
  EXPECT_EQ(read_json_file(dir_ / "config.json", "config")["sac"]["buffer_size"], 2000);
  EXPECT_NO_THROW(train(tiny_config(800), opt)) << "a plain resume still works";
}

TEST_F(TrainerTest, KillDuringCheckpointWriteKeepsThePreviousCheckpoint) {
  TrainOptions opt = quiet_run(dir_);
  train(tiny_config(400), opt);
  const fs::path ckpt = checkpoint_path(dir_, 400);
  std::ifstream in(ckpt, std::ios::binary);
  const std::string before((std::istreambuf_iterator<char>(in)), {});

  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // overwrite it with a large new checkpoint, slowly enough to be caught
    // Never return into gtest from the forked copy of this process.
    try {
      const std::string huge(size_t{512} << 20, 'x');
      write_file_atomic(ckpt, huge);
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(0);
  }
  const fs::path tmp = ckpt.parent_path() / (".step_400.pt.tmp." + std::to_string(child));
  // Generous: on a loaded 2-core CI machine the child may take seconds to start.
  std::error_code ec;
  for (int i = 0; i < 60000 && !(fs::exists(tmp, ec) && fs::file_size(tmp, ec) > 0); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const bool started = fs::exists(tmp, ec);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(started) << "the writer never started";
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer finished before it was killed";

  std::ifstream again(ckpt, std::ios::binary);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(again)), {}), before);
  EXPECT_EQ(list_checkpoints(dir_), std::vector<fs::path>{ckpt})
      << "temp files are not checkpoints";
  opt.resume = true;
  EXPECT_NO_THROW(train(tiny_config(480), opt));
  fs::remove(tmp);
}

TEST_F(TrainerTest, NonFiniteLossStopsNamingStepAndQuantityKeepingCheckpoints) {
  Config c = tiny_config(2000);
  c.sac.learning_rate = 1e30;  // the first Adam steps blow the weights up
  c.run.checkpoint_interval = 64;
  c.run.log_interval = 64;
  TrainOptions opt = quiet_run(dir_);
  try {
    train(c, opt);
    FAIL() << "training must stop";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("non-finite"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("at global_step"));
  }
  const auto kept = list_checkpoints(dir_);
  ASSERT_FALSE(kept.empty());
  OwnedState s(c, 0);
  TrainingState r = s.ref();
  EXPECT_NO_THROW(load_checkpoint(kept.front(), r, kCpu));
  for (const auto& p : s.learner.actor->parameters()) {
    EXPECT_TRUE(at::isfinite(p).all().item<bool>()) << "the kept checkpoint is a good one";
  }
}

// A format-1 checkpoint (before FusedAdam) still gives eval its actor, and a
// resume refuses it by its version rather than as a config mismatch.
TEST_F(TrainerTest, AnOlderFormatServesEvalButNotResume) {
  const Config c = tiny_config(400);
  OwnedState s(c, 0);
  torch::serialize::OutputArchive root, learner, actor;
  s.learner.actor->save(actor);
  learner.write("actor", actor);
  root.write("learner", learner);
  root.write("format_version", c10::IValue(int64_t{1}));
  fs::create_directories(dir_ / "checkpoints");
  const fs::path path = dir_ / "checkpoints" / "step_400.pt";
  root.save_to(path.string());

  Actor loaded(2, 1, c.sac.pi_arch, 2.0, make_generator(kCpu, 7));
  load_actor(path, loaded, kCpu);
  const auto want = s.learner.actor->parameters(), got = loaded->parameters();
  for (size_t i = 0; i < want.size(); ++i) EXPECT_TRUE(at::equal(want[i], got[i]));

  OwnedState other(c, 1);
  TrainingState r = other.ref();
  EXPECT_THAT(
      [&] { load_checkpoint(path, r, kCpu); },
      ::testing::ThrowsMessage<std::runtime_error>(::testing::AllOf(
          ::testing::HasSubstr("format_version 1"), ::testing::HasSubstr("resumes only 2 to 5"))));
}

TEST_F(TrainerTest, EvalInitStartsEveryEvaluationThereAndLogsItsTimes) {
  Config c = tiny_config(1000);
  c.run.eval_freq = 200;
  c.run.eval_init = (dir_ / "starts.json").string();
  write_file_atomic(c.run.eval_init, R"({"states": [[0.5, -0.25], [-1.0, 0.0]]})");
  TrainOptions opt;
  opt.out_dir = dir_ / "run";
  opt.quiet = true;
  train(c, opt);

  const nlohmann::json final_eval = read_json_file(dir_ / "run" / "eval.json", "eval.json");
  EXPECT_EQ(final_eval["initial_obs"], nlohmann::json::parse("[[0.5, -0.25], [-1.0, 0.0]]"))
      << "the file's starts, not eval_episodes=" << c.run.eval_episodes << " random ones";
  ASSERT_EQ(final_eval["optimal_returns"].size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_GE(final_eval["optimal_returns"][i].get<double>() + 1e-6,
              final_eval["returns"][i].get<double>())
        << "no policy beats the optimum";
  }
  std::ifstream lines(dir_ / "run" / "evals.jsonl");
  std::string line;
  int count = 0;
  double last_time = -1;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["eval/returns"].size(), 2u);
    // The point mass's evaluations are scored against the exact optimum.
    EXPECT_GE(j["eval/optimality_gap"].get<double>(), -1e-6);
    EXPECT_LE(j["train_time_s"].get<double>(), j["time_s"].get<double>());
    EXPECT_GE(j["time_s"].get<double>(), last_time);
    last_time = j["time_s"];
    ++count;
  }
  EXPECT_EQ(count, 5);  // steps 200, 400, ..., 1000

  c.run.eval_init = (dir_ / "missing.json").string();
  opt.out_dir = dir_ / "run2";
  EXPECT_THAT([&] { train(c, opt); },
              ::testing::ThrowsMessage<std::exception>(::testing::HasSubstr("run.eval_init")));
  EXPECT_FALSE(fs::exists(dir_ / "run2" / "config.json")) << "fails before any work";
}

// Policy selection every 200 transitions on `episodes` validation starts.
Config selecting(int64_t total, int64_t episodes) {
  Config c = tiny_config(total);
  c.run.eval_freq = 200;
  c.run.select_episodes = episodes;
  return c;
}

TEST_F(TrainerTest, SelectionKeepsTheBestValidationActorAndTheRunReportsIt) {
  const Config c = selecting(1400, 4);
  TrainOptions opt = quiet_run(dir_);
  train(c, opt);

  // The best validation score among the periodic evaluations; a tie keeps the older.
  int64_t best_step = -1;
  double best = -INFINITY;
  std::vector<double> scores;
  std::ifstream evals(dir_ / "evals.jsonl");
  for (std::string line; std::getline(evals, line);) {
    const auto j = nlohmann::json::parse(line);
    const double v = j.at("select/mean_return").get<double>();
    scores.push_back(v);
    if (v > best) {
      best = v;
      best_step = j.at("global_step").get<int64_t>();
    }
  }
  ASSERT_EQ(scores.size(), 7u) << "one validation score per periodic evaluation";
  ASSERT_NE(*std::min_element(scores.begin(), scores.end()), best)
      << "the scores must differ for the selection to mean anything";
  const auto report = read_json_file(dir_ / "eval.json", "eval");
  EXPECT_EQ(report.at("selected_step").get<int64_t>(), best_step);
  EXPECT_EQ(report.at("select_mean_return").get<double>(), best);

  // The checkpoint holds the selected actor, and eval.json is that actor's evaluation.
  const fs::path ckpt = list_checkpoints(dir_).front();
  Actor selected(2, 1, c.sac.pi_arch, PointMass::kActionLimit, make_generator(kCpu, 0));
  Actor last(2, 1, c.sac.pi_arch, PointMass::kActionLimit, make_generator(kCpu, 0));
  EXPECT_EQ(load_actor(ckpt, selected, kCpu), best_step);
  EXPECT_EQ(load_actor(ckpt, last, kCpu, ActorChoice::kLast), -1);
  const EnvParams params = env_params_of(c, kEvalEnvSeed);
  EXPECT_EQ(evaluate(selected, params, c.run.eval_episodes, kCpu).returns,
            report.at("returns").get<std::vector<double>>());
  // Validation starts are not the evaluation's: re-scoring the selected actor on the
  // selection's own starts gives back its score, to float round-off (the run scores through
  // the engine's GEMMs, as a population does, this re-score through the actor module's).
  EXPECT_NEAR(evaluate(selected, env_params_of(c, kSelectEnvSeed), 4, kCpu).mean, best,
              1e-5 * std::abs(best));
  EXPECT_GT(std::abs(evaluate(selected, params, 4, kCpu).mean - best), 1e-3 * std::abs(best))
      << "the evaluation's own starts give another score";
  if (best_step != 1400) {
    EXPECT_NE(evaluate(last, params, c.run.eval_episodes, kCpu).returns,
              report.at("returns").get<std::vector<double>>())
        << "the last actor is another policy";
  }
}

// Scores over another number of starts are not comparable with the stored best one.
// (SelectedPolicyTest covers the drop itself; this is the path through a resume.)
TEST_F(TrainerTest, AResumeWithOtherSelectionStartsSelectsAfresh) {
  TrainOptions opt{dir_, /*quiet=*/true};
  train(selecting(800, 3), opt);
  ASSERT_LE(read_json_file(dir_ / "eval.json", "eval").at("selected_step").get<int64_t>(), 800);
  opt.resume = true;
  train(selecting(1200, 4), opt);
  EXPECT_GT(read_json_file(dir_ / "eval.json", "eval").at("selected_step").get<int64_t>(), 800);
}

// With action repeat the policy acts every k env steps and an evaluation still
// covers exactly one episode: 200 env steps (here 28 held actions of 7, then 4).
TEST(EvaluateTest, ActionRepeatHoldsEachActionAndStopsAtTheTimeLimit) {
  Actor actor(2, 1, std::vector<int64_t>{32, 32}, 2.0, make_generator(kCpu, 3));
  EnvParams p;
  p.seed = 21;
  p.action_repeat = 7;
  const EvalResult e = evaluate(actor, p, 5, kCpu, at::Tensor());

  EnvParams plain = p;
  plain.action_repeat = 1;
  VecEnv env(plain, 5, kCpu);
  at::Tensor total = at::zeros({5}, at::kDouble), action;
  const c10::NoGradGuard no_grad;
  for (int t = 0; t < p.max_episode_steps; ++t) {
    if (t % p.action_repeat == 0) action = actor->deterministic(env.obs());
    total += env.step(action).reward.to(at::kDouble);
  }
  ASSERT_EQ(e.returns.size(), 5u);
  // Not bitwise: a held action's reward is its steps' sum rounded to float once.
  for (int i = 0; i < 5; ++i) {
    const double want = total[i].item<double>();
    EXPECT_NEAR(e.returns[i], want, 1e-6 * std::abs(want)) << i;
  }
}

// An episode that terminates counts alone: the mountain car started at the goal's edge,
// moving right, reaches it on the first step whatever the action, and the evaluation's
// return is that step's reward, not the episodes the env starts afterwards.
TEST(EvaluateTest, AnEpisodeEndsAtItsTerminationNotAtTheTimeLimit) {
  Actor actor(2, 1, std::vector<int64_t>{32, 32}, 1.0, make_generator(kCpu, 5));
  EnvParams p;
  p.id = EnvId::kMountainCar;
  p.max_episode_steps = 999;
  const at::Tensor start = at::tensor({0.449f, 0.07f}).repeat({3, 1});
  const EvalResult e = evaluate(actor, p, 3, kCpu, start);
  const c10::NoGradGuard no_grad;
  const at::Tensor a = actor->deterministic(start).to(at::kDouble);
  ASSERT_EQ(e.returns.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const double a0 = a[i][0].item<double>();
    const auto want = static_cast<float>(100.0 - a0 * a0 * 0.1);  // VecEnv rounds to float
    EXPECT_EQ(e.returns[i], static_cast<double>(want)) << i;
  }
}

// The notebook's 8 evaluation starts; its own SAC scored -89.887 there, the
// optimum is -2.5150. The issue's bar is -5.0; the default config scored -2.532 to -2.559
// over 5 seeds (docs/learning.md), so -3.0 catches a regression while leaving room for
// another machine's round-off to take training elsewhere.
TEST_F(TrainerTest, LearnsThePointMassOnTheNotebookEvaluationStarts) {
  const Config c = load_config(VECSAC_SOURCE_DIR "/configs/pointmass.json", {"run.device=cpu"});
  TrainOptions opt = quiet_run(dir_);
  const auto start = std::chrono::steady_clock::now();
  const TrainResult r = train(c, opt);
  Actor actor(2, 1, c.sac.pi_arch, 2.0, make_generator(kCpu, 0));
  load_actor(list_checkpoints(dir_).front(), actor, kCpu);
  const at::Tensor starts = states_from_json(
      read_json_file(VECSAC_SOURCE_DIR "/configs/eval/pointmass_notebook_starts.json", "starts"),
      EnvParams{}, "starts");
  const EvalResult e = evaluate(actor, env_params_of(c, 11), 8, kCpu, starts);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("learning test: %lld transitions in %.1f s, mean return on the 8 starts %.4f\n",
              (long long)r.global_step, secs, e.mean);
  EXPECT_GE(e.mean, -3.0);
}

}  // namespace
}  // namespace vecsac
