// Writes the golden checkpoints of tests/support/golden_flows.hpp with this build's lightflow: a
// file_store directory and (with LIGHTFLOW_GOLDEN_SQLITE) an SQLite database, each holding a failed
// run of each golden flow (the typed ones too, unless built with LIGHTFLOW_GOLDEN_UNTYPED: the
// directories of 1344ee4 have the first two only). tests/data/README.md lists the directories.
//   make_golden <output directory>
#include <lightflow/lightflow.hpp>

#include <filesystem>
#include <iostream>

#include "support/golden_flows.hpp"
#ifdef LIGHTFLOW_GOLDEN_SQLITE
#include <lightflow/sqlite_store.hpp>
#endif

namespace lf = lightflow;

template <class Store>
bool write_runs(Store& store) {
  lf::executor pool{1};
  golden::counters c;
  auto s = golden::static_flow(c);
  auto r1 = pool.run(s, golden::input, lf::checkpoint{store, golden::run_id});
  auto rt = golden::runtime_flow(c);
  lf::values in;
  in.set(golden::base, golden::input);
  auto r2 = pool.run(rt, in, lf::checkpoint{store, golden::run_id});
  // Both runs stop at step c: a and b are saved.
  bool ok = !r1.ok() && !r2.ok() && c.ran[0] == 2 && c.ran[1] == 2 && c.ran[2] == 2 && c.ran[3] == 0;
#ifndef LIGHTFLOW_GOLDEN_UNTYPED
  golden::counters t;
  auto ts = golden::typed_static_flow(t);
  auto r3 = pool.run(ts, golden::typed_input, lf::checkpoint{store, golden::run_id});
  auto trt = golden::typed_runtime_flow(t);
  lf::values typed_in;
  typed_in.set(golden::name, golden::typed_input);
  auto r4 = pool.run(trt, typed_in, lf::checkpoint{store, golden::run_id});
  ok = ok && !r3.ok() && !r4.ok() && t.ran[0] == 2 && t.ran[1] == 2 && t.ran[2] == 2 && t.ran[3] == 0;
#endif
  return ok;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_golden <output directory>\n";
    return 2;
  }
  const std::filesystem::path out = argv[1];
  std::filesystem::create_directories(out);
  bool ok = true;
  {
    lf::file_store store(out / "file_store");
    ok = write_runs(store) && ok;
  }
#ifdef LIGHTFLOW_GOLDEN_SQLITE
  {
    lf::sqlite_store store((out / "sqlite_store.db").string());
    ok = write_runs(store) && ok;
  }
#endif
  std::cout << (ok ? "golden checkpoints written to " : "unexpected runs; check ") << out << "\n";
  return ok ? 0 : 1;
}
