/// @brief `vecsac optimum`.
#include "vecsac/cli/optimum.h"

#include <ATen/ops/_to_copy.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "vecsac/env/env_json_tensor.h"
#include "vecsac/io/atomic_file.h"
#include "vecsac/io/json_file.h"
#include "vecsac/optimum/optimal_returns.h"

namespace vecsac {
namespace {

using nlohmann::json;

std::string sci(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2e", x);
  return buf;
}

json certificate_json(const QpCertificate& c, int64_t fallbacks) {
  return {{"stationarity", c.stationarity},
          {"primal_feasibility", c.primal_feasibility},
          {"dual_feasibility", c.dual_feasibility},
          {"complementarity", c.complementarity},
          {"duality_gap_bound", c.duality_gap_bound},
          {"max_iterations", c.iterations},
          {"max_saturated_actions", c.saturated},
          {"fallbacks", fallbacks},
          {"method",
           "per axis: primal-dual active set warm-started from clipped LQR, each step an exact "
           "Riccati solve; primal active set where it does not settle. Entries are maxima over "
           "starts and axes; duality_gap_bound bounds J(a) - J* from weak duality"}};
}

std::string certificate_line(const QpCertificate& c) {
  return "stationarity " + sci(c.stationarity) + ", primal feasibility " +
         sci(c.primal_feasibility) + ", dual feasibility " + sci(c.dual_feasibility) +
         ", complementarity " + sci(c.complementarity) + ", duality gap bound " +
         sci(c.duality_gap_bound);
}

}  // namespace

Command add_optimum_command(CLI::App& parent) {
  struct Options {
    std::string init, json;
    int dim = 1;
    int quadrature = 0;
  };
  auto o = std::make_shared<Options>();
  CLI::App* app = parent.add_subcommand(
      "optimum",
      "Exact best 200-step return of the point mass from each start (a box-constrained QP "
      "per axis, solved with a KKT certificate)");
  auto* init = app->add_option("--init", o->init,
                               "JSON {\"states\": [[pos_1..pos_D, vel_1..vel_D], ...]}, as for "
                               "rollout (rounded to float32, as the env stores them)")
                   ->check(CLI::ExistingFile);
  app->add_option("--dim", o->dim, "Point-mass axes")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  auto* quadrature =
      app->add_option("--quadrature", o->quadrature,
                      "Instead of --init: print E[optimal return] for pos, vel ~ U(-1, 1) per "
                      "axis (the env's reset), by an N x N Gauss-Legendre grid")
          ->check(CLI::Range(1, 4096));
  init->excludes(quadrature);
  app->add_option("--json", o->json,
                  "Write {returns, mean, certificate} here (atomically); with --quadrature "
                  "{expected_return, nodes, dim, certificate}");
  return Command{
      app, [o, init, quadrature] {
        if (init->count() == 0 && quadrature->count() == 0) {
          throw std::invalid_argument("give either --init INIT.json or --quadrature N");
        }
        EnvParams params;
        params.dim = o->dim;
        if (quadrature->count() > 0) {
          const ExpectedOptimum e =
              expected_optimal_return(o->quadrature, params.max_episode_steps);
          const double expected = o->dim * e.value;
          std::printf(
              "E[optimal return], pos, vel ~ U(-1, 1), dim %d, %d x %d "
              "Gauss-Legendre: %.10f\n",
              o->dim, o->quadrature, o->quadrature, expected);
          std::cout << "certificate (worst node): " << certificate_line(e.certificate) << std::endl;
          if (!o->json.empty()) {
            const json doc = {{"expected_return", expected},
                              {"nodes", o->quadrature},
                              {"dim", o->dim},
                              {"certificate", certificate_json(e.certificate, e.fallbacks)}};
            write_file_atomic(o->json, doc.dump(2) + "\n");
          }
          return;
        }
        const at::Tensor states = states_from_json(read_json_file(o->init, "--init file"), params,
                                                   "--init file '" + o->init + "'");
        const OptimalReturns r = point_mass_optimal_returns(states, params.max_episode_steps);
        double mean = 0;
        for (double x : r.returns) mean += x / static_cast<double>(r.returns.size());
        std::printf("optimum of %zu starts (dim %d, %d steps): mean %.6f\n", r.returns.size(),
                    o->dim, params.max_episode_steps, mean);
        std::cout << "certificate: " << certificate_line(r.certificate) << std::endl;
        if (!o->json.empty()) {
          const json doc = {{"returns", r.returns},
                            {"mean", mean},
                            {"certificate", certificate_json(r.certificate, r.fallbacks)}};
          write_file_atomic(o->json, doc.dump(2) + "\n");
        }
      }};
}

}  // namespace vecsac
