/// @brief train_population: K TrainingRuns around one engine in lockstep (on a CPU with at
/// least as many agents as threads: an engine per agent, taken in turns by a worker per thread).
///
/// Agent k acts, steps, stores and samples exactly as `train` with its config would (its
/// own envs, replay ring and random streams, each draw the one its single run makes), and the
/// engine's population update and acting equal K single engines'
/// (tests/sac/population_update_test), so agent k's run is the single run. Everything in an
/// iteration is one op for all the agents of an engine, so the op count does not grow with
/// them: every network op (acting and the gradient step), the noise draws, the exploration
/// actions, the env step (a VecEnv of the agents' env blocks), the replay insert and the
/// replay draw (over the agents' rings of one storage).
#include "vecsac/sac/population.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "vecsac/sac/agent_group.h"
#include "vecsac/sac/memory_estimate.h"
#include "vecsac/sac/training_run.h"
#include "vecsac/util/cpu_pool.h"
#include "vecsac/util/device.h"
#include "vecsac/util/format_bytes.h"
#include "vecsac/util/iteration_scheduler.h"
#include "vecsac/util/stop_signal.h"
#include "vecsac/util/sync_debug.h"

namespace vecsac {

const std::vector<std::string>& per_agent_keys() {
  static const std::vector<std::string> keys = {
      "run.seed",     "sac.learning_rate",     "sac.tau", "sac.gamma", "sac.target_entropy",
      "sac.ent_coef", "sac.critic_loss_weight"};
  return keys;
}

namespace {

// Every member's memory, checked as one: a population that does not fit says how many
// agents would.
void check_population_memory(const std::vector<PopulationMember>& members, c10::Device device) {
  const Config& c = members.front().config;
  const std::vector<MemoryItem> one = run_memory(c, eval_episode_count(c));
  const double per_agent = total_bytes(one);
  const double available = available_memory(device);
  const auto k = static_cast<double>(members.size());
  if (per_agent * k > available) {
    const auto fit = static_cast<long long>(std::floor(available / per_agent));
    throw std::runtime_error(
        "a population of " + std::to_string(members.size()) + " agents needs about " +
        format_bytes(per_agent * k) + " (" + format_bytes(per_agent) +
        " each, the largest part the " + one.front().what + " (" + one.front().key + ")) but " +
        device.str() + " has " + format_bytes(available) + " available: " + std::to_string(fit) +
        " agents fit; lower the population size");
  }
  if (!members.front().options.quiet) {
    std::printf("population: %zu agents, memory about %s (%s each)\n", members.size(),
                format_bytes(per_agent * k).c_str(), format_bytes(per_agent).c_str());
  }
}

// The newest step at which every resuming member has a checkpoint that reads back whole
// (checkpoint_intact), so that all continue together: a stop or crash between two members'
// writes leaves some a step ahead, and a damaged file sends all back to an older step before
// any is loaded (a load removes its run's newer files). Without such a step, the newest
// step every member has; INT64_MAX when none resumes.
int64_t common_resume_step(const std::vector<PopulationMember>& members) {
  std::vector<std::vector<std::filesystem::path>> files;
  std::vector<int64_t> steps;
  int64_t newest_common = INT64_MAX;
  for (const auto& m : members) {
    if (!m.options.resume) continue;
    files.push_back(list_checkpoints(m.options.out_dir));
    if (files.back().empty()) continue;
    newest_common = std::min(newest_common, checkpoint_step(files.back().front()));
    for (const auto& f : files.back()) steps.push_back(checkpoint_step(f));
  }
  std::sort(steps.rbegin(), steps.rend());
  steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
  for (const int64_t step : steps) {
    if (step > newest_common) continue;
    const bool all = std::all_of(files.begin(), files.end(), [&](const auto& run) {
      return std::any_of(run.begin(), run.end(), [&](const std::filesystem::path& f) {
        return checkpoint_step(f) == step && checkpoint_intact(f);
      });
    });
    if (all) return step;
  }
  return newest_common;
}

// A part of the population trained through one engine (on a GPU all the agents; on a CPU
// with at least as many agents as threads, one agent: group_count): agents first, first + 1...
struct Group {
  std::unique_ptr<AgentGroup> agents;
  int64_t first = 0;
};

// How many engines. On the CPU, one per agent, their iterations taken in turns by a worker
// per thread: batching agents through one engine was slower per agent on a CPU (its GEMMs are
// already near their FLOP rate, and K agents' working set leaves the cache), and agents of
// their own balance across threads where equal groups cannot (5 on 2 threads). Measured in
// docs/benchmarks.md ("Populations"). Fewer agents than threads (but more than one thread): one
// engine, each op on every thread. On a GPU: one engine for all, every op once.
int64_t group_count(int64_t agents, c10::Device device) {
  const int threads = cpu_threads();
  return device.is_cpu() && (threads == 1 || agents >= threads) ? agents : 1;
}

class Population {
 public:
  Population(const std::vector<PopulationMember>& members, int64_t engines) {
    const Config& first = members.front().config;
    if (first.run.threads > 0) set_cpu_threads(static_cast<int>(first.run.threads), "run.threads");
    const c10::Device device = parse_device(first.run.device);
    check_population_memory(members, device);
    const auto k = static_cast<int64_t>(members.size());
    const int64_t groups = engines > 0 ? engines : group_count(k, device);
    std::vector<const PopulationSeat*> seats;
    for (int64_t g = 0; g < groups; ++g) {
      Group group;
      group.first = g * k / groups;
      std::vector<Config> configs;
      for (int64_t i = group.first; i < (g + 1) * k / groups; ++i) {
        configs.push_back(members[i].config);
      }
      group.agents = std::make_unique<AgentGroup>(configs, device);
      for (int64_t j = 0; j < group.agents->size(); ++j) seats.push_back(&group.agents->seat(j));
      groups_.push_back(std::move(group));
    }
    // A member whose newest checkpoint turns out unreadable falls back to an older one; the
    // others then go back to that step too (they continue bit for bit as from their newer
    // files, which the load removes), so one command resumes them all.
    int64_t resume_at = common_resume_step(members);
    const bool all_resume = std::all_of(members.begin(), members.end(),
                                        [](const PopulationMember& m) { return m.options.resume; });
    while (true) {
      runs_.clear();  // their directory locks go before the next attempt takes them
      for (int64_t i = 0; i < k; ++i) {
        runs_.push_back(std::make_unique<TrainingRun>(members[i].config, members[i].options,
                                                      seats[i], resume_at));
      }
      int64_t lowest = INT64_MAX, highest = 0;
      for (const auto& run : runs_) {
        lowest = std::min(lowest, run->state().counters.global_step);
        highest = std::max(highest, run->state().counters.global_step);
      }
      if (lowest == highest) break;
      if (!all_resume) {
        throw std::runtime_error("--resume: the population's runs start at different steps (" +
                                 std::to_string(lowest) + " and " + std::to_string(highest) +
                                 "); train resumed and fresh runs in separate populations");
      }
      if (!members.front().options.quiet) {
        std::printf(
            "population: a newer checkpoint was unreadable; every agent resumes from "
            "step %lld\n",
            static_cast<long long>(lowest));
      }
      resume_at = lowest;
    }
    for (Group& group : groups_) {
      std::vector<TrainingState*> states;
      for (int64_t j = 0; j < group.agents->size(); ++j) {
        states.push_back(&runs_[group.first + j]->state());
      }
      group.agents->bind(states);
    }
    if (groups_.size() > 1 && groups_.size() == members.size() && !members.front().options.quiet) {
      const int threads = cpu_threads();
      std::printf("population: an engine per agent, taken in turns by %d worker thread%s\n",
                  threads, threads == 1 ? "" : "s");
    }
  }

  std::vector<TrainResult> train(bool sync_debug) {
    for (const auto& run : runs_) run->print_header();
    const bool debug = sync_debug && groups_.front().agents->engine().device().is_cuda();
    IterationScheduler schedule(static_cast<int64_t>(groups_.size()),
                                population_turn(runs_.front()->config().sac));
    std::mutex failure_mutex;
    std::exception_ptr failure;
    // One worker per thread, each taking turns of the group furthest behind: its iterations,
    // each followed by its agents' log points, evaluations and checkpoints, on that thread.
    const auto work = [&] {
      for (IterationScheduler::Turn turn; (turn = schedule.take()).unit >= 0;) {
        Group& group = groups_[turn.unit];
        TrainingRun& lead = *runs_[group.first];
        int64_t ran = 0;
        bool park = false;
        try {
          while (ran < turn.iterations && !lead.done()) {
            const int64_t checkpoint_before = lead.last_checkpoint_step();
            {
              // HOT LOOP BEGIN: no host synchronisation until the log points
              const SyncDebugScope sync_debug_scope(debug);
              group.agents->iteration();
            }
            // HOT LOOP END
            ++ran;
            // Each agent's after_iteration, in the single run's order (log point, evaluation,
            // checkpoint), the evaluation batched over the group.
            for (int64_t j = 0; j < group.agents->size(); ++j) runs_[group.first + j]->log_if_due();
            if (group.agents->size() > 1 && lead.eval_due()) evaluate(group);
            for (int64_t j = 0; j < group.agents->size(); ++j) {
              runs_[group.first + j]->evaluate_and_checkpoint_if_due();
            }
            // Every agent checkpoints at the same iterations: wait there for the others, so
            // that none deletes the one step that all of them have (runs keep two).
            park = lead.last_checkpoint_step() != checkpoint_before;
            if (park || (!turn.catch_up && pending_stop_signal() != 0)) break;
          }
        } catch (...) {
          const std::lock_guard lock(failure_mutex);
          if (!failure) failure = std::current_exception();
          schedule.fail();
          return;
        }
        schedule.release(turn.unit, ran, lead.done(), park);
        if (pending_stop_signal() != 0) schedule.stop();
      }
    };
    if (groups_.size() == 1) {
      work();
    } else {
      parallel_for(0, cpu_threads(), 1, [&](int64_t begin, int64_t end) {
        for (int64_t w = begin; w < end; ++w) work();
      });
    }
    if (failure) std::rethrow_exception(failure);
    if (const int signal = pending_stop_signal(); signal != 0 && !runs_.front()->done()) {
      // Every agent is at one step: the stop brought the groups behind up to the leader.
      std::string file;
      for (const auto& run : runs_) file = run->checkpoint_now().string();
      throw StopRequested(signal, runs_.front()->state().counters.global_step, file);
    }
    std::vector<TrainResult> results;
    for (const auto& run : runs_) results.push_back(run->finish());
    return results;
  }

 private:
  // The group's due periodic evaluation, every agent's in one: one env step and one actor
  // forward a step for all (each agent's result its single run's).
  void evaluate(Group& group) {
    synchronize(group.agents->engine().device());
    const auto started = std::chrono::steady_clock::now();
    const int64_t m = group.agents->size();
    std::vector<EnvParams> eval_params, select_params;
    for (int64_t j = 0; j < m; ++j) {
      const TrainingRun::EvalPlan plan = runs_[group.first + j]->eval_plan();
      eval_params.push_back(plan.eval_params);
      select_params.push_back(plan.select_params);
    }
    const TrainingRun::EvalPlan plan = runs_[group.first]->eval_plan();
    const std::vector<EvalResult> evals =
        group.agents->evaluate(eval_params, plan.episodes, plan.init_states);
    std::vector<EvalResult> selects;
    if (plan.select_episodes > 0) {
      selects = group.agents->evaluate(select_params, plan.select_episodes);
    }
    for (int64_t j = 0; j < m; ++j) {
      runs_[group.first + j]->record_eval(evals[j], selects.empty() ? nullptr : &selects[j],
                                          started);
    }
  }

  std::vector<Group> groups_;
  std::vector<std::unique_ptr<TrainingRun>> runs_;
};

}  // namespace

int64_t population_turn(const SacConfig& sac) {
  // About 64 updates a turn: on 2 cores a Pendulum grid (one update an iteration) took 13 s
  // in turns of 64 against 17 s in turns of 1; the point mass (16) did not care.
  constexpr int64_t kUpdatesPerTurn = 64;
  return std::max<int64_t>(1, kUpdatesPerTurn * sac.train_freq / sac.gradient_steps);
}

int64_t population_capacity(const Config& config) {
  const double per_agent = total_bytes(run_memory(config, eval_episode_count(config)));
  const double available = available_memory(parse_device(config.run.device));
  return per_agent > 0 ? static_cast<int64_t>(std::floor(available / per_agent)) : INT64_MAX;
}

std::string population_conflict(const Config& first, const Config& other) {
  const std::string diff =
      first_config_difference(config_to_json(first), config_to_json(other), per_agent_keys());
  if (!diff.empty()) return diff;
  if (first.sac.ent_coef.learned != other.sac.ent_coef.learned) {
    return "sac.ent_coef=" + config_to_json(first)["sac"]["ent_coef"].dump() + ", now " +
           config_to_json(other)["sac"]["ent_coef"].dump() + " (a learned and a fixed temperature)";
  }
  return "";
}

std::vector<TrainResult> train_population(const std::vector<PopulationMember>& members,
                                          int64_t engines) {
  if (members.empty()) throw std::invalid_argument("train_population: no members");
  if (engines < 0 || engines > static_cast<int64_t>(members.size())) {
    throw std::invalid_argument("train_population: " + std::to_string(engines) + " engines for " +
                                std::to_string(members.size()) +
                                " agents; allowed: 0 (chosen by device and threads) to " +
                                std::to_string(members.size()));
  }
  for (size_t i = 1; i < members.size(); ++i) {
    const std::string conflict = population_conflict(members.front().config, members[i].config);
    if (!conflict.empty()) {
      throw std::invalid_argument(
          "agent " + std::to_string(i) + " (" + members[i].options.out_dir.string() +
          ") cannot train in one population with agent 0: " + conflict +
          "; agents may differ only in their seeds and in the keys that change no shape (" +
          [] {
            std::string keys;
            for (const auto& key : per_agent_keys()) keys += (keys.empty() ? "" : ", ") + key;
            return keys;
          }() +
          ")");
    }
  }
  if (members.size() == 1) return {train(members.front().config, members.front().options)};
  Population population(members, engines);
  return population.train(members.front().options.sync_debug);
}

}  // namespace vecsac
