// The durable promises of checkpoints, tried the way a store's testers try one: damaged logs (every
// byte flipped), torn writes (every tear point, over zeros and cut short), failed writes and syncs at
// each point, a disk that fills, a store directory deleted mid-run, records too large for 32 bits,
// records copied from another run, and the messages and error types of what is refused.
#include <lightflow/lightflow.hpp>

#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "support/files.hpp"
#include "support/golden_flows.hpp"
#include "support/log_lines.hpp"
#include "support/two_kinds.hpp"

namespace lf = lightflow;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

using test_files::read_file;
using test_files::write_file;
struct temp_dir : test_files::temp_dir {
  temp_dir() : test_files::temp_dir("lightflow-durability") {}
};

// Where each frame of a log starts (format 2: "LFL2", 64-bit length, header CRC, body, CRC).
std::vector<std::size_t> frame_starts(const std::vector<char>& log) {
  std::vector<std::size_t> starts;
  for (std::size_t at = 0; at + 16 <= log.size() && std::string(log.data() + at, 4) == "LFL2";) {
    starts.push_back(at);
    std::uint64_t body = 0;
    for (int i = 7; i >= 0; --i) body = body << 8 | static_cast<unsigned char>(log[at + 4 + static_cast<std::size_t>(i)]);
    at += 16 + static_cast<std::size_t>(body) + 4;
  }
  return starts;
}

// A runtime chain c00 -> c01 -> ...: c0 = 1, ci = (c(i-1) * 3 + i) % 1000003. `hook(i)` runs inside step i.
struct chain {
  explicit chain(int n, std::function<void(int)> hook = {}) : size(n), ran(static_cast<std::size_t>(n)) {
    for (int i = 0; i != n; ++i) {
      auto h = flow.add(name(i), [this, i, hook](lf::context& ctx) {
        ++ran[static_cast<std::size_t>(i)];
        if (hook) hook(i);
        return i == 0 ? 1L : (ctx.result<long>(name(i - 1)) * 3 + i) % 1000003;
      });
      if (i != 0) h.after(name(i - 1));
    }
  }
  static std::string name(int i) { return (i < 10 ? "c0" : "c") + std::to_string(i); }
  static long expected(int i) {
    long v = 1;
    for (int k = 1; k <= i; ++k) v = (v * 3 + k) % 1000003;
    return v;
  }
  int runs() const {
    int n = 0;
    for (const auto& r : ran) n += r.load();
    return n;
  }
  // Every step succeeded with the value the chain computes, whether it ran or was restored.
  static bool consistent(const lf::runtime_result& r, int n) {
    if (!r.ok()) return false;
    for (int i = 0; i != n; ++i)
      if (r.get<long>(name(i)) != expected(i)) return false;
    return true;
  }
  int size;
  lf::runtime_flow flow{"chain"};
  std::vector<std::atomic<int>> ran;
};

// Fails chosen system calls of a file_store, as a full disk, a failing device or a read-only mount would.
struct faulty_io : lf::file_io {
  std::atomic<int> pwrites{0}, syncs{0};
  int fail_pwrite = 0;  // the pwrite (1-based) to fail, 0 none
  int fail_sync = 0;    // the fdatasync to fail
  int error = ENOSPC;
  bool half_first = false;   // the failing pwrite writes half of its bytes first
  bool read_only = false;    // opening for writing fails with EROFS
  std::atomic<int> write_opens{0};
  int open(const char* path, int flags, mode_t mode) override {
    if ((flags & (O_RDWR | O_WRONLY | O_CREAT)) != 0 && (flags & O_DIRECTORY) == 0) {
      ++write_opens;
      if (read_only) {
        errno = EROFS;
        return -1;
      }
    }
    return lf::file_io::open(path, flags, mode);
  }
  ssize_t pwrite(int fd, const void* data, std::size_t size, off_t at) override {
    if (++pwrites == fail_pwrite) {
      if (half_first && size > 1) (void)::pwrite(fd, data, size / 2, at);
      errno = error;
      return -1;
    }
    return lf::file_io::pwrite(fd, data, size, at);
  }
  int fdatasync(int fd) override {
    if (++syncs == fail_sync) {
      errno = EIO;
      return -1;
    }
    return lf::file_io::fdatasync(fd);
  }
};

// A tmpfs of `size` mounted at `dir` for the test's life, where the machine lets us mount (root).
struct tmpfs_mount {
  fs::path dir;
  bool mounted = false;
  tmpfs_mount(fs::path d, const std::string& size) : dir(std::move(d)) {
    fs::create_directories(dir);
    mounted = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  bool resize(const std::string& size) const {
    return ::mount("tmpfs", dir.c_str(), "tmpfs", MS_REMOUNT, ("size=" + size).c_str()) == 0;
  }
  ~tmpfs_mount() {
    if (mounted) ::umount2(dir.c_str(), MNT_DETACH);
  }
};

// The golden static flow run to the end with a file_store in a fresh directory: its log is the
// starting point of the damage tests.
struct finished_static_run {
  temp_dir dir;
  golden::counters c;
  decltype(golden::static_flow(c)) f = golden::static_flow(c);
  lf::executor pool{1};
  fs::path log;
  finished_static_run() {
    c.fail = false;
    lf::file_store store(dir.path);
    log = store.location("golden_static", "r");
    REQUIRE(pool.run(f, golden::input, lf::checkpoint{store, "r"}).ok());
  }
  void reset_counts() { c.ran[0] = c.ran[1] = c.ran[2] = c.ran[3] = 0; }
};

}  // namespace

// ---- 1. damage is refused, and left as it is; a torn tail is not damage

TEST_CASE("a flipped bit anywhere in a log is refused with its offset, and the log is left byte for byte", "[durability]") {
  finished_static_run run;
  auto& [dir, c, f, pool, log] = run;
  const std::vector<char> good = read_file(log);
  const auto starts = frame_starts(good);
  REQUIRE(starts.size() == 8);  // input, manifest, outcome (in progress), a, b, c, d, outcome (succeeded)
  REQUIRE(starts.back() + 20 < good.size());
  int refused = 0, torn = 0;
  for (std::size_t at = 0; at != good.size(); ++at) {
    for (int bit : {0, 4}) {
      std::vector<char> bad = good;
      bad[at] = static_cast<char>(bad[at] ^ (1 << bit));
      write_file(log, bad);
      run.reset_counts();
      lf::file_store store(dir.path);
      try {
        auto r = pool.resume<int>(f, lf::checkpoint{store, "r"});
        // Only the last frame, the run's outcome, may read as torn (its final bytes turned to zeros):
        // every step is restored, and the run ends again.
        INFO("byte " << at << " bit " << bit);
        REQUIRE(at >= starts.back());
        REQUIRE(r.ok());
        CHECK(r.get<"d">() == golden::expected_d);
        CHECK(c.total() == 0);
        ++torn;
      } catch (const lf::store_error& e) {
        INFO("byte " << at << " bit " << bit << ": " << e.what());
        CHECK(dynamic_cast<const lf::corrupt_store_error*>(&e) != nullptr);
        CHECK(contains(e.what(), log.string()));
        CHECK(contains(e.what(), "at offset "));
        CHECK(c.total() == 0);
        CHECK(read_file(log) == bad);  // refused, and not a byte changed
        ++refused;
      } catch (const lf::checkpoint_error& e) {
        FAIL("byte " << at << " bit " << bit << ": refused by the session, not the store: " << e.what());
      }
    }
  }
  // Every flip before the last frame is refused. In the last frame, a flip that leaves the file
  // ending in zeros reads as a write torn over zeros (likewise any flip there when its checksum's
  // last byte happens to be zero): that record (the outcome) is dropped.
  CHECK(refused >= static_cast<int>(2 * starts.back()));
  CHECK(refused + torn == static_cast<int>(2 * good.size()));
}

TEST_CASE("a damaged length does not hide the frames after it; a damaged step frame names its record", "[durability]") {
  finished_static_run run;
  auto& [dir, c, f, pool, log] = run;
  const std::vector<char> good = read_file(log);
  const auto starts = frame_starts(good);
  // The case: bit 4 of byte 7 of step a's frame (its length), and the first frame's.
  for (std::size_t frame : {std::size_t{0}, std::size_t{3}}) {
    std::vector<char> bad = good;
    bad[starts[frame] + 7] = static_cast<char>(bad[starts[frame] + 7] ^ 0x10);
    write_file(log, bad);
    lf::file_store store(dir.path);
    CHECK_THROWS_AS(pool.resume<int>(f, lf::checkpoint{store, "r"}), lf::corrupt_store_error);
    CHECK_THROWS_WITH(store.list("golden_static", "r"), Catch::Contains("frame header checksum mismatch"));
    CHECK(read_file(log) == bad);
  }
  // A flipped byte in the body of b's frame: the message names the record.
  std::vector<char> bad = good;
  bad[starts[4] + 30] = static_cast<char>(bad[starts[4] + 30] ^ 0x01);
  write_file(log, bad);
  lf::file_store store(dir.path);
  CHECK_THROWS_WITH(pool.resume<int>(f, lf::checkpoint{store, "r"}),
                    Catch::Contains("at offset " + std::to_string(starts[4])) && Catch::Contains("\"step/b\"") &&
                        Catch::Contains("checksum mismatch"));
  // Appended garbage is damage too.
  std::vector<char> longer = good;
  for (char ch : std::string("garbage after the last frame")) longer.push_back(ch);
  write_file(log, longer);
  lf::file_store again(dir.path);
  CHECK_THROWS_WITH(again.list("golden_static", "r"), Catch::Contains("bad frame marker"));
  CHECK(read_file(log) == longer);
}

TEST_CASE("a log torn at any point resumes: cut short, or torn over zeros as in a prepared log", "[durability]") {
  finished_static_run run;
  auto& [dir, c, f, pool, log] = run;
  const std::vector<char> good = read_file(log);
  const auto starts = frame_starts(good);
  // From the end of the manifest (before it, the run has not started) to the end of the log.
  for (std::size_t tear = starts[2]; tear <= good.size(); ++tear) {
    for (bool over_zeros : {false, true}) {
      std::vector<char> torn(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(tear));
      if (over_zeros) torn.resize(good.size() + 4096, '\0');  // the rest of the write, and room, still zeros
      write_file(log, torn);
      // The steps whose frames (3 to 6) are whole before the tear are restored; the rest run again.
      std::size_t whole = 0, kept = 0, kept_frames = 0;  // and the whole frames, their bytes
      for (std::size_t k = 0; k != starts.size(); ++k) {
        const std::size_t end = k + 1 < starts.size() ? starts[k + 1] : good.size();
        if (end > tear) break;
        kept = end;
        ++kept_frames;
        if (k >= 3 && k <= 6) ++whole;
      }
      run.reset_counts();
      INFO("torn at " << tear << (over_zeros ? " over zeros" : " (cut short)"));
      {
        lf::file_store store(dir.path);
        auto r = pool.resume<int>(f, lf::checkpoint{store, "r"});
        REQUIRE(r.ok());
        CHECK(r.restored() == whole);
        CHECK(c.total() == static_cast<int>(4 - whole));
        CHECK(r.get<"d">() == golden::expected_d);
      }
      // Appending trimmed the torn tail: the whole frames, then the resumed run's (its outcome, in
      // progress, the steps that ran again and its outcome at the end: 2 to 6 frames).
      const std::vector<char> now = read_file(log);
      if (kept == good.size()) {  // the run had succeeded and its outcome says so: nothing is written
        CHECK(now == torn);
        continue;
      }
      REQUIRE(now.size() > kept);
      CHECK(std::equal(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(kept), now.begin()));
      CHECK(frame_starts(now).size() == kept_frames + 2 + (4 - whole));
    }
  }
}

TEST_CASE("a prepared runtime log torn mid-write by a crash resumes, every tear point", "[durability]") {
  temp_dir dir;
  lf::executor pool{2};
  fs::path log;
  std::vector<char> full;
  {
    chain ch(600);
    lf::file_store store(dir.path);
    log = store.location("chain", "r");
    auto r = pool.run(ch.flow, lf::checkpoint{store, "r"});  // big enough to be prepared
    REQUIRE(chain::consistent(r, 600));
  }
  full = read_file(log);
  const auto starts = frame_starts(full);
  REQUIRE(starts.size() == 604);  // input, manifest, outcome, 600 steps, outcome
  std::size_t end = 0;
  for (std::size_t i = full.size(); i-- > 0;)
    if (full[i] != '\0') {
      end = i + 1;
      break;
    }
  REQUIRE(full.size() > end);  // zeros after the frames: the log was prepared
  // Tear points across the last frames and inside headers, bodies and trailers.
  for (std::size_t tear = starts[starts.size() - 12]; tear < end; tear += 7) {
    std::vector<char> torn = full;
    std::fill(torn.begin() + static_cast<std::ptrdiff_t>(tear), torn.end(), '\0');
    write_file(log, torn);
    INFO("torn at " << tear);
    chain ch(600);
    lf::file_store store(dir.path);
    auto r = pool.resume(ch.flow, lf::checkpoint{store, "r"});
    REQUIRE(chain::consistent(r, 600));
    CHECK(static_cast<int>(r.restored()) + ch.runs() == 600);
    CHECK(r.restored() >= 588);
  }
}

// ---- 2. a failed write leaves the log a prefix of the run's records

TEST_CASE("a write or sync that fails at any point loses no record and never leaves one without its dependencies",
          "[durability]") {
  const int n = 12;
  for (int mode = 0; mode != 4; ++mode) {  // ENOSPC, EIO written half, fdatasync failure, fast-mode ENOSPC
    for (int k = 1; k <= n + 2; ++k) {
      temp_dir dir;
      faulty_io io;
      if (mode == 2) io.fail_sync = k;
      else io.fail_pwrite = k;
      io.error = mode == 1 ? EIO : ENOSPC;
      io.half_first = mode == 1;
      const auto level = mode == 3 ? lf::durability::fast : lf::durability::durable;
      lf::executor pool{2};
      bool failed = false;
      {
        lf::file_store store(dir.path, level, io);
        // Each step flushes what was saved before it: one write (and sync) per record, in order.
        chain ch(n, [&store](int) {
          try {
            store.flush();
          } catch (const lf::store_error&) {
          }
        });
        auto r = pool.run(ch.flow, lf::checkpoint{store, "r"});
        failed = !r.ok();
        if (failed) {  // only ever for the durability of its records
          REQUIRE(r.durability_error() != nullptr);
          CHECK(contains(r.error_message(), store.location("chain", "r")));
        }
      }
      INFO("mode " << mode << ", failing call " << k);
      chain ch(n);
      lf::file_store healthy(dir.path);
      auto resumed = pool.resume(ch.flow, lf::checkpoint{healthy, "r"});
      REQUIRE(chain::consistent(resumed, n));
      // The store wrote the failed frames again: nothing was lost, nothing runs again.
      CHECK(resumed.restored() == static_cast<std::size_t>(n));
      CHECK(ch.runs() == 0);
    }
  }
}

TEST_CASE("the issue's case: ENOSPC on the second write of a 30-step chain fails the run and loses nothing", "[durability]") {
  temp_dir dir;
  faulty_io io;
  io.fail_pwrite = 2;
  lf::executor pool{2};
  log_lines logged;
  lf::logger logger = logged.logger();
  pool.observe(logger);
  std::string location;
  {
    lf::file_store store(dir.path, lf::durability::durable, io);
    location = store.location("chain", "r");
    chain ch(30, [&io](int) {  // let the committer flush several times during the run
      const int seen = io.pwrites;
      for (int spins = 0; io.pwrites == seen && spins != 2000; ++spins) std::this_thread::sleep_for(std::chrono::microseconds(50));
    });
    auto r = pool.run(ch.flow, lf::checkpoint{store, "r"});
    REQUIRE(io.pwrites >= 3);
    CHECK_FALSE(r.ok());
    CHECK(r.count(lf::step_status::succeeded) == 30);
    REQUIRE(r.durability_error() != nullptr);
    CHECK(contains(r.error_message(), "could not write checkpoint records to " + location));
    CHECK(contains(r.error_message(), "No space left on device"));
    CHECK(logged.has(lf::log_level::error, "its checkpoint records could not be made durable: could not write checkpoint records to " + location));
  }
  chain ch(30);
  lf::file_store reopened(dir.path);
  auto resumed = pool.resume(ch.flow, lf::checkpoint{reopened, "r"});
  REQUIRE(chain::consistent(resumed, 30));
  CHECK(resumed.restored() == 30);
}

TEST_CASE("a failed log fails only its own run; other runs on the store succeed", "[durability]") {
  temp_dir dir;
  faulty_io io;
  lf::executor pool{2};
  lf::file_store store(dir.path, lf::durability::durable, io);
  chain ok_chain(5);
  REQUIRE(pool.run(ok_chain.flow, lf::checkpoint{store, "first"}).ok());
  io.fail_pwrite = io.pwrites + 1;  // the next write, whoever makes it
  auto bad = pool.run(ok_chain.flow, lf::checkpoint{store, "second"});
  CHECK_FALSE(bad.ok());
  auto good = pool.run(ok_chain.flow, lf::checkpoint{store, "third"});  // its flush writes second's frames too
  CHECK(good.ok());
  CHECK_FALSE(store.failure("chain", "second"));
  chain again(5);
  auto second = pool.resume(again.flow, lf::checkpoint{store, "second"});
  CHECK(chain::consistent(second, 5));
  CHECK(again.runs() == 0);
}

TEST_CASE("a real full disk (tmpfs): the run fails with the file's name; after space is freed the run resumes consistently",
          "[durability]") {
  temp_dir dir;
  tmpfs_mount disk(dir.path / "disk", "64k");
  if (!disk.mounted) {
    WARN("cannot mount a tmpfs here (not root, or no permission): the full-disk test did not run");
    return;
  }
  lf::executor pool{2};
  const int n = 80;
  auto big = [](int i) { return std::string(2000, static_cast<char>('a' + i % 26)); };
  std::atomic<int> ran{0};
  auto make = [&] {
    lf::runtime_flow f{"fill"};
    for (int i = 0; i != n; ++i) {
      auto h = f.add("f" + std::to_string(i), [&, i](lf::context& ctx) {
        ++ran;
        std::this_thread::sleep_for(std::chrono::microseconds(300));
        const std::string prev = i == 0 ? std::string() : ctx.result<std::string>("f" + std::to_string(i - 1));
        return big(i) + std::to_string(prev.size());
      });
      if (i != 0) h.after("f" + std::to_string(i - 1));
    }
    return f;
  };
  const auto f = make();
  std::string location;
  {
    lf::file_store store(disk.dir);
    location = store.location("fill", "r");
    auto r = pool.run(f, lf::checkpoint{store, "r"});
    CHECK_FALSE(r.ok());
    REQUIRE(r.durability_error() != nullptr);
    CHECK(contains(r.error_message(), location));
    CHECK(contains(r.error_message(), "No space left on device"));
    // The log on disk is a prefix of the run's records: it reads, and every step in it is whole.
    const auto keys = store.list("fill", "r");
    CHECK_FALSE(keys.empty());
    REQUIRE(disk.resize("1m"));  // space freed: the store's destructor writes what it kept
  }
  ran = 0;
  lf::file_store reopened(disk.dir);
  auto resumed = pool.resume(f, lf::checkpoint{reopened, "r"});
  REQUIRE(resumed.ok());
  CHECK(resumed.restored() == static_cast<std::size_t>(n));  // nothing was lost
  CHECK(ran == 0);
  for (int i = 0; i != n; ++i) CHECK(resumed.get<std::string>("f" + std::to_string(i)).substr(0, 2000) == big(i));
}

// ---- 3. a log deleted under a running run

TEST_CASE("a store directory deleted mid-run fails the run, and the records are written again, not lost", "[durability]") {
  for (auto level : {lf::durability::durable, lf::durability::fast}) {
    temp_dir dir;
    lf::executor pool{2};
    std::string location;
    {
      lf::file_store store(dir.path, level);
      location = store.location("chain", "r");
      chain ch(10, [&](int i) {
        if (i == 5) {
          store.flush();  // the log exists, with the records of steps 0 to 4
          fs::remove_all(dir.path);
        }
      });
      auto r = pool.run(ch.flow, lf::checkpoint{store, "r"});
      CHECK_FALSE(r.ok());
      CHECK(r.count(lf::step_status::succeeded) == 10);
      REQUIRE(r.durability_error() != nullptr);
      CHECK(contains(r.error_message(), location + " was deleted or replaced"));
      CHECK(store.list("chain", "r").size() == 13);  // every record: 10 steps, input, manifest, outcome
    }
    // The store wrote the records it kept to a new log at the same place.
    REQUIRE(fs::exists(location));
    chain ch(10);
    lf::file_store reopened(dir.path);
    auto resumed = pool.resume(ch.flow, lf::checkpoint{reopened, "r"});
    REQUIRE(chain::consistent(resumed, 10));
    CHECK(resumed.restored() == 10);
  }
}

// ---- 4. records of 4 GiB and more

TEST_CASE("frame lengths are 64-bit: a length past 4 GiB is read as such, not wrapped", "[durability]") {
  // A whole header claiming 4 GiB + 8 bytes of body, in a short file: a frame cut short (a torn
  // tail), not a 8-byte frame that would make the bytes after it damage.
  std::vector<std::byte> log;
  lf::detail::append_frame(log, "@input", std::as_bytes(std::span("first", 5)));
  const std::size_t second = log.size();
  std::vector<std::byte> payload(64, std::byte{7});
  lf::detail::append_frame(log, "step/huge", payload);
  const std::uint64_t claimed = (std::uint64_t{1} << 32) + 8;
  for (int i = 0; i != 8; ++i) log[second + 4 + static_cast<std::size_t>(i)] = static_cast<std::byte>(claimed >> (8 * i) & 0xff);
  const auto crc = lf::detail::crc32(std::span<const std::byte>(log).subspan(second, 12));
  for (int i = 0; i != 4; ++i) log[second + 12 + static_cast<std::size_t>(i)] = static_cast<std::byte>(crc >> (8 * i) & 0xff);
  const auto parsed = lf::file_store::parse_log(log, "test.log");
  CHECK(parsed.end == second);
  CHECK(parsed.records.size() == 1);
  CHECK(parsed.torn == log.size() - second);
}

TEST_CASE("a record of more than 4 GiB is saved, flushed and read back (set LIGHTFLOW_TEST_HUGE=1; 3 minutes, 13 GB)",
          "[durability][huge]") {
  if (std::getenv("LIGHTFLOW_TEST_HUGE") == nullptr) {
    WARN("set LIGHTFLOW_TEST_HUGE=1 to save and read back a record of 4 GiB + 16 bytes");
    return;
  }
  temp_dir dir;
  const std::size_t size = (std::size_t{1} << 32) + 16;
  std::uint32_t crc = 0;
  {
    std::vector<std::byte> huge(size);
    for (std::size_t i = 0; i < size; i += 4096) huge[i] = static_cast<std::byte>(i / 4096 * 31);
    huge.back() = std::byte{0x5a};
    crc = lf::detail::crc32(huge);
    lf::file_store store(dir.path, lf::durability::fast);
    store.save("f", "r", "step/huge", huge);
    store.flush();
  }
  lf::file_store reopened(dir.path);
  const auto back = reopened.load("f", "r", "step/huge");
  REQUIRE(back.has_value());
  CHECK(back->size() == size);
  CHECK(lf::detail::crc32(*back) == crc);
}

// ---- 5. records of another run

TEST_CASE("a record copied from another run, or from an earlier run of the same id, is refused", "[durability]") {
  lf::memory_store store;
  golden::counters c;
  const auto f = golden::static_flow(c);
  lf::executor pool{1};
  c.fail = false;
  REQUIRE(pool.run(f, 1, lf::checkpoint{store, "other"}).ok());  // a = 2, b = 5, ...
  c.fail = true;
  REQUIRE_FALSE(pool.run(f, golden::input, lf::checkpoint{store, "mine"}).ok());  // a, b saved; c failed
  const auto stranger = store.load("golden_static", "other", "step/b");
  const auto own = store.load("golden_static", "mine", "step/b");
  store.save("golden_static", "mine", "step/b", *stranger);
  c.fail = false;
  CHECK_THROWS_WITH(pool.resume<int>(f, lf::checkpoint{store, "mine"}),
                    Catch::Contains("the record of step \"b\"") && Catch::Contains("belongs to another run"));
  store.save("golden_static", "mine", "step/b", *own);
  // An earlier life of the same run id: erased, run again, and an old record put back.
  const auto old_a = store.load("golden_static", "mine", "step/a");
  store.erase("golden_static", "mine");
  c.fail = true;
  REQUIRE_FALSE(pool.run(f, golden::input, lf::checkpoint{store, "mine"}).ok());
  store.save("golden_static", "mine", "step/a", *old_a);
  c.fail = false;
  CHECK_THROWS_WITH(pool.resume<int>(f, lf::checkpoint{store, "mine"}), Catch::Contains("belongs to another run of this id"));
}

TEST_CASE("a runtime record copied from another run is refused (file store)", "[durability]") {
  temp_dir dir;
  lf::file_store store(dir.path);
  golden::counters c;
  const auto f = golden::runtime_flow(c);
  lf::executor pool{1};
  REQUIRE_FALSE(pool.run(f, lf::values{}.set(golden::base, 1), lf::checkpoint{store, "other"}).ok());
  REQUIRE_FALSE(pool.run(f, lf::values{}.set(golden::base, 4), lf::checkpoint{store, "mine"}).ok());
  store.save("golden_runtime", "mine", "step/a", *store.load("golden_runtime", "other", "step/a"));
  c.fail = false;
  CHECK_THROWS_WITH(pool.resume(f, lf::checkpoint{store, "mine"}), Catch::Contains("belongs to another run"));
}

// ---- 6. messages and error types

TEST_CASE("a log that is a symlink loop is a store_error naming it", "[durability]") {
  temp_dir dir;
  const fs::path log = dir.path / "golden_static" / "r.log";
  fs::create_directories(log.parent_path());
  fs::create_symlink(log, log);
  lf::file_store store(dir.path);
  CHECK_THROWS_AS(store.list("golden_static", "r"), lf::store_error);
  CHECK_THROWS_WITH(store.load("golden_static", "r", "k"), Catch::Contains(log.string()) && Catch::Contains("symbolic links"));
  golden::counters c;
  lf::executor pool{1};
  CHECK_THROWS_AS(pool.run(golden::static_flow(c), 1, lf::checkpoint{store, "r"}), lf::store_error);
}

TEST_CASE("discard_stale erases a damaged log and starts afresh; without it the log is refused and kept", "[durability]") {
  finished_static_run run;
  auto& [dir, c, f, pool, log] = run;
  std::vector<char> bad = read_file(log);
  bad[frame_starts(bad)[4] + 25] = static_cast<char>(bad[frame_starts(bad)[4] + 25] ^ 0x01);
  write_file(log, bad);
  log_lines logged;
  lf::logger logger = logged.logger();
  {
    lf::file_store store(dir.path);
    CHECK_THROWS_AS(pool.run(f, golden::input, lf::checkpoint{store, "r"}, lf::observe(logger)), lf::corrupt_store_error);
    CHECK(read_file(log) == bad);
    CHECK(logged.has(lf::log_level::error, ": refused to start: "));
  }
  run.reset_counts();
  lf::file_store store(dir.path);
  auto r = pool.run(f, golden::input, lf::checkpoint{store, "r", lf::checkpoint_options{.discard_stale = true}},
                    lf::observe(logger));
  REQUIRE(r.ok());
  CHECK(logged.has(lf::log_level::warning, ": erased the records it found (discard_stale): checkpoint of run \"r\""));
  CHECK(logged.has(lf::log_level::warning, "the records are damaged"));
  CHECK(r.restored() == 0);
  CHECK(c.total() == 4);
}

TEST_CASE("a finished run can be read and resumed from a store that cannot write (read-only mount)", "[durability]") {
  finished_static_run run;
  auto& [dir, c, f, pool, log] = run;
  faulty_io io;
  io.read_only = true;
  lf::file_store store(dir.path, lf::durability::durable, io);
  run.reset_counts();
  auto r = pool.resume<int>(f, lf::checkpoint{store, "r"});
  REQUIRE(r.ok());
  CHECK(r.restored() == 4);
  CHECK(r.get<"d">() == golden::expected_d);
  CHECK(io.write_opens == 0);  // nothing was opened for writing
  // A real read-only bind mount, where the machine allows it.
  const fs::path ro = dir.path.string() + "-ro";
  fs::create_directories(ro);
  if (::mount(dir.path.c_str(), ro.c_str(), nullptr, MS_BIND, nullptr) == 0) {
    const bool remounted = ::mount(nullptr, ro.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0;
    if (remounted) {
      lf::file_store on_ro(ro);
      auto again = pool.resume<int>(f, lf::checkpoint{on_ro, "r"});
      CHECK(again.ok());
      CHECK(again.restored() == 4);
    }
    ::umount2(ro.c_str(), MNT_DETACH);
  }
  fs::remove_all(ro);
}

TEST_CASE("a runtime step whose result type changed is refused, like a static flow's", "[durability]") {
  lf::memory_store store;
  lf::executor pool{1};
  lf::runtime_flow before{"typed"};
  before.add("a", [] { return 1; });
  before.add("b", [](lf::context&) -> int { throw std::runtime_error("down"); }).after("a");
  REQUIRE_FALSE(pool.run(before, lf::checkpoint{store, "r"}).ok());
  lf::runtime_flow after{"typed"};
  after.add("a", [] { return 1.5; });
  after.add("b", [](lf::context& ctx) { return ctx.result<double>("a"); }).after("a");
  CHECK_THROWS_WITH(pool.resume(after, lf::checkpoint{store, "r"}),
                    Catch::Contains("it has \"step a <- : int\" where this one has \"step a <- : double\""));
}

TEST_CASE("a file_store keeps no descriptor for a run that has ended: thousands of runs under a low open-file limit",
          "[durability]") {
  temp_dir dir;
  auto open_descriptors = [] {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd")) ++n;
    return n;
  };
  rlimit old{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &old) == 0);
  rlimit low = old;
  low.rlim_cur = std::min<rlim_t>(old.rlim_cur, 256);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  lf::executor pool{2};
  const auto f = lf::flow<"many">(lf::step<"a">([] { return 1; }), lf::step<"b", "a">([](int a) { return a + 1; }));
  const std::size_t before = open_descriptors();
  int ok = 0;
  {
    lf::file_store store(dir.path, lf::durability::fast);
    for (int i = 0; i != 1100; ++i) {
      auto r = pool.run(f, lf::checkpoint{store, "run-" + std::to_string(i)});
      ok += r.ok() ? 1 : 0;
      if (i % 200 == 0) (void)pool.resume(f, lf::checkpoint{store, "run-" + std::to_string(i)});  // reads too
    }
    CHECK(open_descriptors() <= before + 4);
  }
  ::setrlimit(RLIMIT_NOFILE, &old);
  CHECK(ok == 1100);
}

TEST_CASE("a released log gives back prepared room of a MiB or more, and closes its descriptor", "[durability]") {
  temp_dir dir;
  faulty_io io;  // (fails nothing: counts)
  auto bytes = [](std::string_view t) { return std::as_bytes(std::span(t.data(), t.size())); };
  lf::file_store store(dir.path, lf::durability::durable, io);
  const fs::path log = store.location("f", "big");
  REQUIRE(store.prepare("f", "big", 3 << 20));
  store.save("f", "big", "a", bytes("one"));
  store.flush();
  CHECK(fs::file_size(log) >= (3u << 20));
  REQUIRE(store.prepare("f", "small", lf::file_store::prepare_threshold));
  store.save("f", "small", "a", bytes("one"));
  store.flush();
  store.release("f", "big");
  store.release("f", "small");
  store.save("f", "other", "a", bytes("two"));
  store.flush();  // the round closes what was released
  CHECK(fs::file_size(log) < 100);
  CHECK(fs::file_size(store.location("f", "small")) >= lf::file_store::prepare_threshold);  // less than a MiB: kept
  CHECK(store.list("f", "big") == std::vector<std::string>{"a"});  // read again from the file
}

namespace {
// A store that defers durability as file_store and postgres_store do: a save is durable once a
// flush has written it. Remembers which keys are durable; its flushes fail while `failing`.
class deferring_store {
 public:
  void save(std::string_view flow, std::string_view run, std::string_view key, std::span<const std::byte> bytes) {
    inner_.save(flow, run, key, bytes);
  }
  void flush() {
    if (failing) throw lf::store_error("lightflow-test: the database went away");
    std::lock_guard lock(mutex_);
    for (const std::string& key : inner_.list("durable", "r")) durable_.insert(key);
  }
  bool is_durable(const std::string& key) {
    std::lock_guard lock(mutex_);
    return durable_.contains(key);
  }
  std::optional<std::vector<std::byte>> load(std::string_view flow, std::string_view run, std::string_view key) {
    return inner_.load(flow, run, key);
  }
  std::vector<std::string> list(std::string_view flow, std::string_view run) { return inner_.list(flow, run); }
  void erase(std::string_view flow, std::string_view run) { inner_.erase(flow, run); }
  std::string location(std::string_view, std::string_view) const { return "a deferring test store"; }
  bool deferred_durability() const noexcept { return true; }
  std::atomic<bool> failing{false};

 private:
  lf::memory_store inner_;
  std::mutex mutex_;
  std::set<std::string> durable_;
};
static_assert(lf::checkpoint_store<deferring_store>);
}  // namespace

TEMPLATE_TEST_CASE("a durable step's dependents start once its record is durable; a failed flush fails it",
                   "[durability][durable]", two_kinds::static_flows, two_kinds::runtime_flows) {
  lf::executor pool{2};
  deferring_store store;
  std::atomic<int> seen_durable{-1};  // what b saw of a's record: 1 durable, 0 not
  std::atomic<int> charged{0};
  auto charge = [&] { return ++charged; };  // a's side effect
  auto check = [&] { seen_durable = store.is_durable("step/charge") ? 1 : 0; };
  auto f = [&] {
    if constexpr (TestType::is_static) {
      return lf::flow<"durable">(lf::step<"charge">(charge).durable(), lf::step<"email", "charge">([&](int) { check(); }));
    } else {
      lf::runtime_flow g{"durable"};
      g.add("charge", charge).durable();
      g.add("email", check).after("charge");
      return g;
    }
  }();
  SECTION("flushed before its dependent starts") {
    auto r = two_kinds::run<TestType>(pool, f, lf::checkpoint{store, "r"});
    REQUIRE(r.ok());
    CHECK(seen_durable == 1);
  }
  SECTION("a flush that fails fails the step, and its dependents do not run") {
    store.failing = true;
    auto r = two_kinds::run<TestType>(pool, f, lf::checkpoint{store, "r"});
    CHECK_FALSE(r.ok());
    CHECK(r.status("charge") == lf::step_status::failed);
    CHECK(r.status("email") == lf::step_status::skipped);
    CHECK(seen_durable == -1);
    CHECK_THAT(r.error_message(), Catch::Contains("the database went away"));
  }
}
