// Runs a compiler command and reports its wall time and peak memory against a budget.
// usage: measure <label> <budget seconds> <budget MiB> <compiler> <arguments...>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: measure <label> <budget seconds> <budget MiB> <compiler> <arguments...>\n");
    return 2;
  }
  const double budget_s = std::atof(argv[2]);
  const double budget_mib = std::atof(argv[3]);
  std::vector<char*> args(argv + 4, argv + argc);
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
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double mib = static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
  const bool compiled = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  const bool within = compiled && seconds <= budget_s && mib <= budget_mib;
  std::printf("%-44s %6.2f s %7.0f MiB   budget %.0f s, %.0f MiB: %s\n", argv[1], seconds, mib, budget_s, budget_mib,
              !compiled ? "DID NOT COMPILE"
              : within  ? "within"
                        : "OVER");
  return within ? 0 : 1;
}
