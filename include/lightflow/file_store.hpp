// The embedded checkpoint store: one append-only log file per run in a directory.
//
// A log is a sequence of frames (detail/log_frame.hpp): each holds one record under its key, with a
// checksum over its header (so a damaged length is seen as damage) and one over its body. A crash at
// any instant leaves the old log, or the old log plus a torn tail (an incomplete last frame, or
// zeros after the last frame), which reading ignores and the next append trims. Any other damage is
// refused with an error that names the file, the offset and (when readable) the record's key, and
// the file is left as it is: reading never changes a file, and nothing is deleted unless erase() is
// called. A write, sync or link check that fails keeps the frames it could not make durable and
// writes them again, in order, before anything saved later: a log on disk is always a prefix of the
// records saved to it. POSIX only (open, pwrite, fdatasync).
#ifndef LIGHTFLOW_FILE_STORE_HPP
#define LIGHTFLOW_FILE_STORE_HPP

#include <fcntl.h>
#include <sys/stat.h>
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
#include "lightflow/detail/file_log.hpp"
#include "lightflow/detail/log_frame.hpp"
#include "lightflow/file_io.hpp"
#include "lightflow/serializer.hpp"

namespace lightflow {

/// Keeps each run's records in one append-only log file under a directory (`<flow>/<run>.log`, with
/// names escaped), each record framed with its key, length and checksums (detail/log_frame.hpp).
/// Saves are written and made durable in batches by flush(), as the durability level says; a torn
/// last record (a crash mid-write) is left out when the log is read, other damage is refused.
class file_store {
 public:
  /// A store of logs under `directory` (made when the first run saves). `io` (not owned) makes the
  /// system calls; it must outlive the store.
  explicit file_store(std::filesystem::path directory, durability level = durability::durable,
                      file_io& io = file_io::system())
      : directory_(std::move(directory)), level_(level), io_(&io) {}
  file_store(const file_store&) = delete;
  file_store& operator=(const file_store&) = delete;
  ~file_store() {
    try {
      flush();  // records saved without a run to end them (a direct save), or kept by a failed
                // write, are written, not dropped
    } catch (...) {  // a destructor cannot report it: the records stay unwritten, as after a crash
    }
    for (auto& [path, log] : logs_)
      if (log.fd >= 0) io_->close(log.fd);
    close_all(closing_);
  }

  /// Queues `bytes` under (flow, run, key) for the next flush, which appends them to the run's log
  /// (a later record for the same key replaces the earlier when the log is read). Keys are at most
  /// 65,535 bytes long (else store_error).
  void save(std::string_view flow, std::string_view run, std::string_view key, std::span<const std::byte> bytes) {
    if (key.size() > 0xffff) throw store_error("lightflow: a record key longer than 65535 bytes");
    // The frame's checksums are made before taking the lock, which then only covers one copy of the
    // record: the threads of a run save at once, and a longer hold would have them wait for each other.
    const detail::frame_parts frame = detail::make_frame(key, bytes);
    std::lock_guard lock(mutex_);
    log_file& log = log_of(flow, run);
    // Written (and synced) by the next flush. One resize, then the pieces copied in.
    const std::size_t at = log.pending.size();
    log.pending.resize(at + frame.size(key, bytes));
    std::byte* out = log.pending.data() + at;
    auto copy = [&out](const void* data, std::size_t size) {
      if (size != 0) std::memcpy(out, data, size);
      out += size;
    };
    copy(frame.head.data(), frame.head.size());
    copy(key.data(), key.size());
    copy(bytes.data(), bytes.size());
    copy(frame.trailer.data(), frame.trailer.size());
    log.saved_end += frame.size(key, bytes);
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
    log.reserve = std::max(log.reserve, log.saved_end + bytes);
    log.dirty = true;  // the next flush writes the zeros even if nothing else is saved before it
    ++appended_;
    return true;
  }

  /// Writes the frames saved since the last flush, one write per log, and (durable mode) fdatasyncs
  /// them. Concurrent callers share one round (group commit). Throws store_error when a log could
  /// not be written, synced, or was deleted meanwhile; that log keeps its frames and the next flush
  /// writes them again (failure(flow, run) says which run's log failed).
  void flush() {
    std::unique_lock lock(mutex_);
    if (retry_) ++appended_;  // a log kept frames that a failed round could not write: write them now
    const std::uint64_t target = appended_;
    while (synced_ < target) {
      if (syncing_) {
        synced_cv_.wait(lock);
        continue;
      }
      round(lock);
    }
    if (!last_failure_.empty()) throw store_error(last_failure_);
  }

  /// Why the last flush could not make run `run`'s records durable, or nothing when it could.
  std::optional<std::string> failure(std::string_view flow, std::string_view run) {
    std::lock_guard lock(mutex_);
    auto it = logs_.find(path_of(flow, run));
    if (it == logs_.end() || it->second.failure.empty()) return std::nullopt;
    return it->second.failure;
  }

  /// The bytes under (flow, run, key), read from the run's log (indexed on first use), or nothing.
  /// A damaged log throws corrupt_store_error.
  std::optional<std::vector<std::byte>> load(std::string_view flow, std::string_view run, std::string_view key) {
    std::unique_lock lock(mutex_);
    log_file* log = indexed_log(lock, flow, run);
    if (log == nullptr) return std::nullopt;
    auto it = log->records.find(key);
    if (it == log->records.end()) return std::nullopt;
    return it->second;
  }
  /// The keys in run `run`'s log.
  std::vector<std::string> list(std::string_view flow, std::string_view run) {
    std::unique_lock lock(mutex_);
    std::vector<std::string> keys;
    if (log_file* log = indexed_log(lock, flow, run))
      for (const auto& [key, bytes] : log->records) keys.push_back(key);
    return keys;
  }
  /// Removes run `run`'s log (store_error if the file cannot be removed).
  void erase(std::string_view flow, std::string_view run) {
    std::unique_lock lock(mutex_);
    synced_cv_.wait(lock, [&] { return !syncing_; });  // no round may hold the entry
    const std::string path = path_of(flow, run);
    if (auto it = logs_.find(path); it != logs_.end()) {
      if (&it->second == last_log_) last_log_ = nullptr;
      if (it->second.fd >= 0) io_->close(it->second.fd);
      logs_.erase(it);
    }
    std::error_code ec;
    std::filesystem::remove(path, ec);
    if (ec) throw store_error("lightflow: could not remove " + path + ": " + ec.message());
  }
  /// Lets go of what the store keeps for run `run` of `flow` (its open log, its index), once the run
  /// has ended: lightflow calls it after a run's last flush. A log that still has frames to write
  /// (a failed write) is kept until they are written. Prepared room the run did not use is given back
  /// when it is a MiB or more.
  void release(std::string_view flow, std::string_view run) {
    std::unique_lock lock(mutex_);
    synced_cv_.wait(lock, [&] { return !syncing_; });  // no round may hold the entry
    auto it = logs_.find(path_of(flow, run));
    if (it == logs_.end()) return;
    log_file& log = it->second;
    if (log.dirty || !log.failure.empty()) return;
    // The descriptor is closed (and unused room given back) by the next round or the destructor:
    // no system call on the path of the run's end.
    // Room of a MiB or more is worth a truncation (a 1e6-step run's is ~90 MB); less is left as zeros.
    if (log.fd >= 0) closing_.push_back({log.fd, log.writable && log.size >= log.end + (1 << 20) ? log.end : none});
    if (&log == last_log_) last_log_ = nullptr;
    logs_.erase(it);
  }
  /// The path of run `run`'s log.
  std::string location(std::string_view flow, std::string_view run) const { return path_of(flow, run); }
  /// The ids of the runs of `flow` that have a log, in id order (for lightflow::runs).
  std::vector<std::string> runs(std::string_view flow) const {
    return detail::logged_runs(directory_ / detail::escape(flow));
  }
  /// Both levels: a record is written by the next flush (lightflow's committer makes one at the end
  /// of every run, and at most 5 ms after a save while it runs).
  bool deferred_durability() const noexcept { return true; }
  /// The directory the logs are under.
  const std::filesystem::path& directory() const noexcept { return directory_; }

  /// What a log holds (detail/log_frame.hpp).
  using parsed_log = detail::parsed_log;
  /// Parses a log's bytes (`path` is for messages). A torn tail is left out; damage throws
  /// corrupt_store_error naming the path, the offset and the record's key when it can be read.
  static parsed_log parse_log(std::span<const std::byte> data, const std::string& path) {
    return detail::parse_log(data, path);
  }

 private:
  using log_file = detail::log_file;

  using batch = detail::log_batch;

  // A released log's descriptor, to close (after trimming the file to `end` unless that is `none`).
  static constexpr std::uint64_t none = ~std::uint64_t{0};
  struct closing {
    int fd;
    std::uint64_t end;
  };
  void close_all(const std::vector<closing>& logs) noexcept {
    for (const closing& c : logs) {
      if (c.end != none) (void)io_->ftruncate(c.fd, static_cast<off_t>(c.end));  // zeros only: best effort
      io_->close(c.fd);
    }
  }

  // One round of a flush, by the caller that leads it (mutex held on entry and exit, not meanwhile).
  // Only the leader touches a log's fd, end and size while the mutex is not held; readers of those
  // (indexed_log, erase) wait for the round to end.
  void round(std::unique_lock<std::mutex>& lock) {
    syncing_ = true;
    retry_ = false;
    const std::uint64_t covering = appended_;
    std::vector<batch> batches;
    for (auto& [path, log] : logs_)
      if (log.dirty) {
        batches.push_back({&log, path, std::move(log.pending), log.reserve, log.new_file, log.new_directory, {}});
        log.pending.clear();
        log.dirty = false;
        log.new_file = log.new_directory = false;
      }
    std::vector<closing> closed;
    closed.swap(closing_);
    lock.unlock();  // only the leader writes; saves meanwhile go to the next round's buffers
    // Before anything is written: a log released and opened again since (its run resumed at once)
    // was opened at the same end, so its trim comes before the new frames, never over them.
    close_all(closed);
    for (auto& b : batches) {
      try {
        detail::write_batch(*io_, level_, directory_, b);
      } catch (const store_error& e) {
        b.failure = e.what();
      } catch (const std::bad_alloc&) {
        b.failure = "lightflow: out of memory while writing " + b.path;
      }
    }
    lock.lock();
    syncing_ = false;
    synced_cv_.notify_all();
    last_failure_.clear();
    for (auto& b : batches) {
      log_file& log = *b.log;
      log.failure = b.failure;
      if (b.failure.empty()) continue;
      if (last_failure_.empty()) last_failure_ = b.failure;
      retry_ = true;
      // Not durable: the frames go back in front of those saved meanwhile, to be written again at
      // the same place by the next flush (the log stays a prefix of what was saved).
      b.frames.insert(b.frames.end(), log.pending.begin(), log.pending.end());
      log.pending = std::move(b.frames);
      log.dirty = true;
      log.new_file = log.new_file || b.new_file;  // a later flush syncs the names
      log.new_directory = log.new_directory || b.new_directory;
      log.indexed = false;
      log.records.clear();
    }
    synced_ = std::max(synced_, covering);
  }

  // The log that (flow, run) saves to, created if need be and open for appending; the last one is
  // remembered, since a run saves many records in a row.
  log_file& log_of(std::string_view flow, std::string_view run) {
    if (last_log_ == nullptr || flow != last_flow_ || run != last_run_) {
      last_log_ = &open_for_append(path_of(flow, run));
      last_flow_.assign(flow);
      last_run_.assign(run);
    }
    return *last_log_;
  }

  // The log of (flow, run) with its index made, or null. An indexed log is read at once (no save
  // since, so no frame of it is in a flush); making an index waits out a flush under way, whose
  // frames are then in neither the file nor the pending buffer for certain.
  log_file* indexed_log(std::unique_lock<std::mutex>& lock, std::string_view flow, std::string_view run) {
    const std::string path = path_of(flow, run);
    log_file* log = find(path);
    if (log == nullptr || log->indexed) return log;
    synced_cv_.wait(lock, [&] { return !syncing_; });
    log = find(path);  // the wait let other calls in: the log may be gone, or indexed
    if (log != nullptr && !log->indexed) {
      std::vector<std::byte> data;
      if (log->fd >= 0) {
        data = detail::read_all(*io_, path, log->fd);
        data.resize(std::min<std::size_t>(data.size(), log->end));  // only whole frames (appends go at end)
      }
      data.insert(data.end(), log->pending.begin(), log->pending.end());
      log->records = detail::parse_log(data, path).records;
      log->indexed = true;
    }
    return log;
  }

  std::string path_of(std::string_view flow, std::string_view run) const {
    return (directory_ / detail::escape(flow) / (detail::escape(run) + ".log")).string();
  }

  // The log at `path` for reading: known, or read through a read-only descriptor (never created,
  // never changed) and kept as an index only (no descriptor stays open), or null when there is no
  // such file.
  log_file* find(const std::string& path) {
    if (auto it = logs_.find(path); it != logs_.end()) return &it->second;
    const int fd = io_->open(path.c_str(), O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR) return nullptr;
      throw store_error("lightflow: could not open " + path + ": " + std::strerror(errno));
    }
    log_file log;
    log.fd = fd;
    detail::read_into(*io_, path, log);  // closes fd when it throws
    io_->close(log.fd);
    log.fd = -1;
    return &logs_.emplace(path, std::move(log)).first->second;
  }

  // The log at `path` open for appending, created if need be. A torn tail is trimmed here (and only
  // here); a damaged log is refused, unchanged.
  log_file& open_for_append(const std::string& path) {
    auto it = logs_.find(path);
    if (it != logs_.end() && it->second.writable) return it->second;
    const bool new_directory = detail::make_directory_of(path);
    int fd = io_->open(path.c_str(), O_RDWR | O_CLOEXEC, 0);
    bool new_file = false;
    if (fd < 0 && errno == ENOENT) {
      fd = io_->open(path.c_str(), O_RDWR | O_CLOEXEC | O_CREAT | O_EXCL, 0644);
      new_file = fd >= 0;
      if (fd < 0 && errno == EEXIST) fd = io_->open(path.c_str(), O_RDWR | O_CLOEXEC, 0);  // made meanwhile, elsewhere
    }
    if (fd < 0) throw store_error("lightflow: could not open " + path + " for writing: " + std::strerror(errno));
    log_file fresh;
    fresh.fd = fd;
    fresh.writable = true;
    fresh.new_file = new_file;
    fresh.new_directory = new_directory;
    const std::uint64_t torn = detail::read_into(*io_, path, fresh);  // closes fd when it throws
    if (torn != 0 && io_->ftruncate(fd, static_cast<off_t>(fresh.end)) != 0) {
      const int error = errno;
      io_->close(fd);
      throw store_error("lightflow: could not trim the torn tail of " + path + ": " + std::strerror(error));
    }
    fresh.size = fresh.end;
    if (it != logs_.end()) {  // it was read only (and so has no pending frames, nor a descriptor)
      it->second = std::move(fresh);
      return it->second;
    }
    return logs_.emplace(path, std::move(fresh)).first->second;
  }

  std::filesystem::path directory_;
  durability level_;
  file_io* io_;
  std::mutex mutex_;
  std::condition_variable synced_cv_;
  std::map<std::string, log_file> logs_;
  log_file* last_log_ = nullptr;  // the log of the last save, and its flow and run
  std::string last_flow_, last_run_;
  std::uint64_t appended_ = 0, synced_ = 0;
  bool syncing_ = false;
  std::string last_failure_;  // the first failure of the last round, thrown by flush()
  bool retry_ = false;        // the last round left frames to write again
  std::vector<closing> closing_;  // released logs' descriptors, closed by the next round
};

static_assert(checkpoint_store<file_store>);

}  // namespace lightflow

#endif
