// Runs a compiler command and reports its CPU time (user + system), wall time and peak memory against a
// budget. It fails when the command does not compile, when its memory is over budget, or when its CPU
// time is over <fail above seconds> (the budget itself, or a looser ceiling on a noisy machine).
// usage: measure <label> <budget seconds> <budget MiB> <fail above seconds> <compiler> <arguments...>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: measure <label> <budget seconds> <budget MiB> <fail above seconds> <compiler> <arguments...>\n");
    return 2;
  }
  const double budget_s = std::atof(argv[2]);
  const double budget_mib = std::atof(argv[3]);
  const double fail_above_s = std::atof(argv[4]);
  std::vector<char*> args(argv + 5, argv + argc);
  args.push_back(nullptr);

  const auto start = std::chrono::steady_clock::now();
  const pid_t child = fork();
  if (child == 0) {
    execvp(args[0], args.data());
    std::perror("execvp");
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  if (wait4(child, &status, 0, &usage) != child) return 2;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto to_seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  const double cpu = to_seconds(usage.ru_utime) + to_seconds(usage.ru_stime);
  const double mib = static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
  const bool compiled = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  const bool within = compiled && cpu <= budget_s && mib <= budget_mib;
  const bool failed = !compiled || cpu > fail_above_s || mib > budget_mib;
  std::printf("%-44s %6.2f s CPU %6.2f s wall %5.0f MiB   budget %.3g s, %.0f MiB: %s\n", argv[1], cpu, wall, mib,
              budget_s, budget_mib,
              !compiled ? "DID NOT COMPILE"
              : within  ? "within"
              : failed  ? "OVER (fails)"
                        : "over the budget, under the ceiling");
  return failed ? 1 : 0;
}
