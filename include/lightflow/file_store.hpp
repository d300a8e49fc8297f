// The embedded checkpoint store: one append-only log file per run in a directory.
//
// A log is a sequence of frames: "LFLG", uint32 body length, body (uint16 key length, key, the
// record's bytes), uint32 CRC-32 of the body; little-endian. A crash at any instant leaves either
// the old log or the old log plus a torn tail: an incomplete last frame (or zero-filled space after
// it), which reading ignores and the next append trims. Any other damage is refused with an error
// that names the file and the offset; nothing is deleted unless erase() is called.
// POSIX only (open, write, fdatasync).
#ifndef LIGHTFLOW_FILE_STORE_HPP
#define LIGHTFLOW_FILE_STORE_HPP

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "lightflow/checkpoint_store.hpp"
#include "lightflow/detail/crc32.hpp"
#include "lightflow/serializer.hpp"

namespace lightflow {

/// How a file_store makes records durable.
enum class durability {
  durable,  ///< every record is on disk (fdatasync) before the run reports its steps done; records
            ///< saved together share one fdatasync (group commit)
  fast,     ///< records are written (in batches, as in durable mode) before the run reports its steps
            ///< done, and their writing to disk is left to the operating system: a finished run's
            ///< records survive a crash of the process, not of the machine
};

class file_store {
 public:
  explicit file_store(std::filesystem::path directory, durability level = durability::durable)
      : directory_(std::move(directory)), level_(level) {}
  file_store(const file_store&) = delete;
  file_store& operator=(const file_store&) = delete;
  ~file_store() {
    try {
      flush();  // records saved without a run to end them (a direct save) are written, not dropped
    } catch (...) {  // a destructor cannot report it: the records stay unwritten, as after a crash
    }
    for (auto& [path, log] : logs_)
      if (log.fd >= 0) ::close(log.fd);
  }

  void save(std::string_view flow, std::string_view run, std::string_view key, std::span<const std::byte> bytes) {
    if (key.size() > 0xffff) throw store_error("lightflow: a record key longer than 65535 bytes");
    // The frame (and its CRC) is made before taking the lock, which then only covers a copy: the
    // threads of a run save at once, and a longer hold would have them wait for each other.
    thread_local std::vector<std::byte> frame;
    frame.clear();
    append_frame(frame, key, bytes);
    std::lock_guard lock(mutex_);
    log_file& log = log_of(flow, run);
    log.pending.insert(log.pending.end(), frame.begin(), frame.end());  // written (and synced) by the next flush
    log.dirty = true;
    if (log.indexed) {  // the saves of a run are not read back while it runs: index them when asked
      log.indexed = false;
      log.records.clear();
    }
    ++appended_;
  }

  /// Runs saving at least this much are worth preparing (see prepare()).
  static constexpr std::uint64_t prepare_threshold = 64 * 1024;

  /// A hint that run `run` of `flow` will save about `bytes` more. In durable mode, when that is at
  /// least prepare_threshold, the next flush also extends the log with zeros to make room for them
  /// (zeros after the last frame are a torn tail to a reader): the flushes after it overwrite space
  /// already on disk, so their fdatasync need not commit the file's size (~200 µs instead of ~380
  /// for 112 KB in a probe on the development VM). Returns true when a flush now would help: the
  /// run then flushes as soon as it saves, while its steps run.
  bool prepare(std::string_view flow, std::string_view run, std::uint64_t bytes) {
    if (level_ != durability::durable || bytes < prepare_threshold) return false;
    std::lock_guard lock(mutex_);
    log_file& log = log_of(flow, run);
    log.reserve = std::max(log.reserve, log.end + log.pending.size() + bytes);
    log.dirty = true;  // the next flush writes the zeros even if nothing else is saved before it
    ++appended_;
    return true;
  }

  /// Writes the frames saved since the last flush, one write per log, and (durable mode) fdatasyncs
  /// them. Concurrent callers share one round (group commit).
  void flush() {
    std::unique_lock lock(mutex_);
    const std::uint64_t target = appended_;
    while (synced_ < target) {
      if (syncing_) {
        synced_cv_.wait(lock);
        continue;
      }
      syncing_ = true;
      const std::uint64_t covering = appended_;
      struct batch {
        log_file* log;
        std::string path;
        std::vector<std::byte> frames;
        std::uint64_t reserve;
        bool new_file, new_directory;
        bool failed = false;
      };
      std::vector<batch> batches;
      for (auto& [path, log] : logs_)
        if (log.dirty) {
          batches.push_back({&log, path, std::move(log.pending), log.reserve, log.new_file, log.new_directory});
          log.pending.clear();
          log.dirty = false;
          log.new_file = log.new_directory = false;
        }
      lock.unlock();  // only the leader writes; saves meanwhile go to the next round's buffers
      std::string failure;
      for (auto& b : batches) {
        try {
          write_all(*b.log, b.frames);
          if (level_ == durability::durable) {
            pad(*b.log, b.reserve);
            if (::fdatasync(b.log->fd) != 0) throw store_error("lightflow: fdatasync of " + b.path + " failed: " + std::strerror(errno));
            // A new file's name is made durable too: its directory's entry, and the directory's own.
            if (b.new_file) sync_directory(std::filesystem::path(b.path).parent_path());
            if (b.new_directory) sync_directory(directory_);
          }
        } catch (const store_error& e) {
          if (failure.empty()) failure = e.what();
          b.failed = true;
        }
      }
      lock.lock();
      syncing_ = false;
      synced_cv_.notify_all();
      if (!failure.empty()) {
        // What could not be written must not be served: re-read the failed logs' records from disk.
        for (auto& b : batches)
          if (b.failed) {
            b.log->new_file = b.log->new_file || b.new_file;  // a later flush syncs the names
            b.log->new_directory = b.log->new_directory || b.new_directory;
            read_log(b.path, b.log->fd, *b.log);
            b.log->indexed = false;  // frames saved meanwhile are pending: index them with the file
          }
        throw store_error(failure);
      }
      synced_ = std::max(synced_, covering);
    }
  }

  std::optional<std::vector<std::byte>> load(std::string_view flow, std::string_view run, std::string_view key) {
    std::unique_lock lock(mutex_);
    log_file* log = indexed_log(lock, flow, run);
    if (log == nullptr) return std::nullopt;
    auto it = log->records.find(key);
    if (it == log->records.end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::string> list(std::string_view flow, std::string_view run) {
    std::unique_lock lock(mutex_);
    std::vector<std::string> keys;
    if (log_file* log = indexed_log(lock, flow, run))
      for (const auto& [key, bytes] : log->records) keys.push_back(key);
    return keys;
  }
  void erase(std::string_view flow, std::string_view run) {
    std::lock_guard lock(mutex_);
    const std::string path = path_of(flow, run);
    if (auto it = logs_.find(path); it != logs_.end()) {
      if (&it->second == last_log_) last_log_ = nullptr;
      if (it->second.fd >= 0) ::close(it->second.fd);
      logs_.erase(it);
    }
    std::error_code ec;
    std::filesystem::remove(path, ec);
    if (ec) throw store_error("lightflow: could not remove " + path + ": " + ec.message());
  }
  std::string location(std::string_view flow, std::string_view run) const { return path_of(flow, run); }
  /// Both levels: a record is written by the next flush (lightflow's committer makes one at the end
  /// of every run, and at most 5 ms after a save while it runs).
  bool deferred_durability() const noexcept { return true; }
  const std::filesystem::path& directory() const noexcept { return directory_; }

 private:
  struct log_file {
    int fd = -1;
    std::uint64_t end = 0;  // where the valid frames end (the next append goes here)
    bool dirty = false;     // frames saved but not yet written (and, durable, synced)
    bool new_file = false;       // created by this store, its directory entry not yet synced
    bool new_directory = false;  // and so was its directory (the flow's), whose entry neither is
    std::uint64_t reserve = 0;  // prepare(): the size to extend the file to with zeros
    std::uint64_t size = 0;     // the file's size as this store left it (valid frames, then zeros)
    std::vector<std::byte> pending;
    // The last record under each key, valid while `indexed`: made when the log is opened, dropped by
    // a save (a save costs no copy), made again from the file and the pending frames when read.
    bool indexed = false;
    std::map<std::string, std::vector<std::byte>, std::less<>> records;
  };

  // The log that (flow, run) saves to, created if need be; the last one is remembered, since a run
  // saves many records in a row.
  log_file& log_of(std::string_view flow, std::string_view run) {
    if (last_log_ == nullptr || flow != last_flow_ || run != last_run_) {
      last_log_ = &open(flow, run, true);
      last_flow_.assign(flow);
      last_run_.assign(run);
    }
    return *last_log_;
  }

  // Extends `log`'s file with zeros up to `reserve` (prepare()). Best effort: a failure leaves zeros
  // or nothing after the frames, which readers ignore, and only costs the speed it was for.
  static void pad(log_file& log, std::uint64_t reserve) {
    static constexpr std::byte zeros[16384] = {};
    log.size = std::max(log.size, log.end);
    while (log.size < reserve) {
      const auto n = ::pwrite(log.fd, zeros, static_cast<std::size_t>(std::min<std::uint64_t>(sizeof zeros, reserve - log.size)),
                              static_cast<off_t>(log.size));
      if (n <= 0) return;
      log.size += static_cast<std::uint64_t>(n);
    }
  }

  static void sync_directory(const std::filesystem::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const bool ok = fd >= 0 && ::fsync(fd) == 0;
    const int error = errno;
    if (fd >= 0) ::close(fd);
    if (!ok) throw store_error("lightflow: could not sync the directory " + dir.string() + ": " + std::strerror(error));
  }

  // The log of (flow, run) with its index made, or null. An indexed log is read at once (no save
  // since, so no frame of it is in a flush); making an index waits out a flush under way, whose
  // frames are then in neither the file nor the pending buffer for certain.
  log_file* indexed_log(std::unique_lock<std::mutex>& lock, std::string_view flow, std::string_view run) {
    log_file* log = find(flow, run);
    if (log == nullptr || log->indexed) return log;
    synced_cv_.wait(lock, [&] { return !syncing_; });
    log = find(flow, run);  // the wait let other calls in: the log may be gone, or indexed
    if (log != nullptr) index(flow, run, *log);
    return log;
  }

  // Makes `log`'s index from its file and its frames not yet written (no flush under way).
  void index(std::string_view flow, std::string_view run, log_file& log) {
    if (log.indexed) return;
    const std::string path = path_of(flow, run);
    std::vector<std::byte> data = read_all(path, log.fd);
    data.resize(std::min<std::size_t>(data.size(), log.end));  // only whole frames (appends go at log.end)
    data.insert(data.end(), log.pending.begin(), log.pending.end());
    log.records = parse_log(data, path).records;
    log.indexed = true;
  }

  static void append_frame(std::vector<std::byte>& out, std::string_view key, std::span<const std::byte> bytes) {
    const std::size_t start = out.size();
    binary_writer w(out);
    w.bytes("LFLG", 4);
    w.integer(static_cast<std::uint32_t>(2 + key.size() + bytes.size()));
    w.integer(static_cast<std::uint16_t>(key.size()));
    w.bytes(key.data(), key.size());
    w.bytes(bytes.data(), bytes.size());
    w.integer(detail::crc32(std::span<const std::byte>(out).subspan(start + 8)));
  }

  // Names become file names byte for byte, except what a file name cannot hold: %XX.
  static std::string escape(std::string_view name) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : name) {
      if (c == '/' || c == '%' || c == '\\' || c < 0x20 || c == 0x7f || (out.empty() && c == '.')) {
        out += '%';
        out += hex[c >> 4];
        out += hex[c & 15];
      } else {
        out += static_cast<char>(c);
      }
    }
    return out.empty() ? std::string("%") : out;
  }
  std::string path_of(std::string_view flow, std::string_view run) const {
    return (directory_ / escape(flow) / (escape(run) + ".log")).string();
  }

  log_file* find(std::string_view flow, std::string_view run) {
    const std::string path = path_of(flow, run);
    if (auto it = logs_.find(path); it != logs_.end()) return &it->second;
    if (!std::filesystem::exists(path)) return nullptr;
    return &open(flow, run, false);
  }

  log_file& open(std::string_view flow, std::string_view run, bool create) {
    const std::string path = path_of(flow, run);
    if (auto it = logs_.find(path); it != logs_.end() && it->second.fd >= 0) return it->second;
    bool new_directory = false;
    if (create) {
      std::error_code ec;
      new_directory = std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
      if (ec) throw store_error("lightflow: could not create the directory of " + path + ": " + ec.message());
    }
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    bool new_file = false;
    if (fd < 0 && errno == ENOENT && create) {
      fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_CREAT | O_EXCL, 0644);
      new_file = fd >= 0;
      if (fd < 0 && errno == EEXIST) fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);  // made meanwhile, elsewhere
    }
    if (fd < 0) throw store_error("lightflow: could not open " + path + ": " + std::strerror(errno));
    log_file log;
    log.fd = fd;
    log.new_file = new_file;
    log.new_directory = new_directory;
    try {
      read_log(path, fd, log);
      // Trim a torn tail, so that the next append follows the last whole frame.
      const off_t size = ::lseek(fd, 0, SEEK_END);
      if (size > static_cast<off_t>(log.end) && ::ftruncate(fd, static_cast<off_t>(log.end)) != 0)
        throw store_error("lightflow: could not trim the torn tail of " + path + ": " + std::strerror(errno));
      log.size = log.end;
    } catch (...) {
      ::close(fd);
      throw;
    }
    last_log_ = nullptr;  // the entry it pointed to may be replaced
    return logs_.insert_or_assign(path, std::move(log)).first->second;
  }

  static std::vector<std::byte> read_all(const std::string& path, int fd) {
    std::vector<std::byte> data;
    std::byte buffer[65536];
    for (;;) {
      const ssize_t n = ::pread(fd, buffer, sizeof buffer, static_cast<off_t>(data.size()));
      if (n < 0) throw store_error("lightflow: could not read " + path + ": " + std::strerror(errno));
      if (n == 0) break;
      data.insert(data.end(), buffer, buffer + n);
    }
    return data;
  }
  static void read_log(const std::string& path, int fd, log_file& log) {
    parsed_log parsed = parse_log(read_all(path, fd), path);
    log.records = std::move(parsed.records);
    log.end = parsed.end;
    log.indexed = true;
  }

 public:
  /// What a log holds: its records (the last one saved under each key) and where its whole frames end.
  struct parsed_log {
    std::map<std::string, std::vector<std::byte>, std::less<>> records;
    std::uint64_t end = 0;
  };
  /// Parses a log's bytes (`path` is for messages). A torn tail is left out; other damage throws
  /// store_error naming the path and the offset.
  static parsed_log parse_log(std::span<const std::byte> data, const std::string& path) {
    parsed_log log;
    std::size_t at = 0;
    auto only_zeros_from = [&](std::size_t from) {
      return std::all_of(data.begin() + static_cast<std::ptrdiff_t>(from), data.end(), [](std::byte b) { return b == std::byte{0}; });
    };
    while (at < data.size()) {
      const std::size_t left = data.size() - at;
      auto corrupt = [&](const std::string& what) {
        return store_error("lightflow: corrupt checkpoint log " + path + " at offset " + std::to_string(at) + ": " + what);
      };
      if (left < 12 || only_zeros_from(at)) break;  // a torn tail
      binary_reader header(data.subspan(at, 8));
      char magic[4];
      header.bytes(magic, 4);
      const auto body = header.integer<std::uint32_t>();
      if (std::string_view(magic, 4) != "LFLG") {
        if (at == 0) throw store_error("lightflow: " + path + " is not a lightflow checkpoint log");
        throw corrupt("bad frame marker");
      }
      if (12 + static_cast<std::uint64_t>(body) > left) break;  // the last frame was cut short: torn tail
      const auto frame = data.subspan(at + 8, body);
      binary_reader crc(data.subspan(at + 8 + body, 4));
      if (crc.integer<std::uint32_t>() != detail::crc32(frame)) {
        if (at + 12 + body == data.size()) break;  // the last frame, torn mid-write
        throw corrupt("checksum mismatch");
      }
      if (body < 2) throw corrupt("frame too short");
      binary_reader r(frame);
      const auto key_size = r.integer<std::uint16_t>();
      if (key_size > r.remaining()) throw corrupt("key longer than its frame");
      std::string key(key_size, '\0');
      r.bytes(key.data(), key.size());
      log.records[key].assign(frame.begin() + 2 + key_size, frame.end());
      at += 12 + body;
    }
    log.end = at;
    return log;
  }

 private:
  static void write_all(log_file& log, std::span<const std::byte> frame) {
    std::size_t done = 0;
    while (done < frame.size()) {
      const ssize_t n = ::pwrite(log.fd, frame.data() + done, frame.size() - done, static_cast<off_t>(log.end + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const std::string why = n < 0 ? std::strerror(errno) : "nothing written";
        (void)::ftruncate(log.fd, static_cast<off_t>(log.end));  // leave no partial frame behind
        log.size = log.end;
        throw store_error("lightflow: could not write a checkpoint record: " + why);
      }
      done += static_cast<std::size_t>(n);
    }
    log.end += done;
  }

  std::filesystem::path directory_;
  durability level_;
  std::mutex mutex_;
  std::condition_variable synced_cv_;
  std::map<std::string, log_file> logs_;
  log_file* last_log_ = nullptr;  // the log of the last save, and its flow and run
  std::string last_flow_, last_run_;
  std::uint64_t appended_ = 0, synced_ = 0;
  bool syncing_ = false;
};

static_assert(checkpoint_store<file_store>);

}  // namespace lightflow

#endif
