// A file_store's work on one log file: reading it whole and indexing it, appending frames (and
// syncing them, and the name of a new file), making room ahead of a run, making a lost file anew, and
// the file names that flow and run names become. The store (file_store.hpp) decides when.
#ifndef LIGHTFLOW_DETAIL_FILE_LOG_HPP
#define LIGHTFLOW_DETAIL_FILE_LOG_HPP

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "lightflow/detail/log_frame.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/file_io.hpp"
#include "lightflow/serializer.hpp"

namespace lightflow::detail {

/// One run's log, as a file_store keeps it (its mutex guards it).
struct log_file {
  int fd = -1;
  bool writable = false;  // opened for appending (a log only read is opened read-only)
  std::uint64_t end = 0;  // where the frames written end (the next append goes here)
  bool dirty = false;     // frames saved but not yet written (and, durable, synced)
  bool new_file = false;       // created by this store, its directory entry not yet synced
  bool new_directory = false;  // and so was its directory (the flow's), whose entry neither is
  std::uint64_t reserve = 0;  // prepare(): the size to extend the file to with zeros
  std::uint64_t size = 0;     // the file's size as this store left it (valid frames, then zeros)
  std::uint64_t saved_end = 0;  // where the frames saved so far will end, once written (mutex held)
  std::vector<std::byte> pending;  // frames not yet written (or kept by a failed write), in order
  std::string failure;             // why the last flush of this log failed; empty when it did not
  // The last record under each key, valid while `indexed`: made when the log is opened, dropped by
  // a save (a save costs no copy), made again from the file and the pending frames when read.
  bool indexed = false;
  std::map<std::string, std::vector<std::byte>, std::less<>> records;
};

/// Makes the directory that `path` goes in, if need be; true when it made one. Throws store_error.
inline bool make_directory_of(const std::string& path) {
  std::error_code ec;
  const bool made = std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) throw store_error("lightflow: could not create the directory of " + path + ": " + ec.message());
  return made;
}

// Names become file names byte for byte, except what a file name cannot hold: %XX.
inline std::string escape(std::string_view name) {
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

// The name that escape() gave `escaped` (a name it did not make is returned as it is).
inline std::string unescape(std::string_view escaped) {
  if (escaped == "%") return {};
  std::string out;
  const auto digit = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; };
  for (std::size_t i = 0; i != escaped.size(); ++i) {
    if (escaped[i] == '%' && i + 2 < escaped.size() && digit(escaped[i + 1]) >= 0 && digit(escaped[i + 2]) >= 0) {
      out += static_cast<char>(digit(escaped[i + 1]) * 16 + digit(escaped[i + 2]));
      i += 2;
    } else {
      out += escaped[i];
    }
  }
  return out;
}

// The runs whose logs are in `dir` (a flow's directory), by their ids, sorted; none when there is
// no such directory.
inline std::vector<std::string> logged_runs(const std::filesystem::path& dir) {
  std::vector<std::string> ids;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) return ids;
  if (ec) throw store_error("lightflow: could not list " + dir.string() + ": " + ec.message());
  for (const auto& entry : it) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 4 && name.ends_with(".log") && entry.is_regular_file(ec))
      ids.push_back(unescape(std::string_view(name).substr(0, name.size() - 4)));
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

// The whole file, read into a buffer of its size (a file that grew meanwhile is read to its end).
inline std::vector<std::byte> read_all(file_io& io, const std::string& path, int fd) {
  std::vector<std::byte> data;
  struct stat st{};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) data.resize(static_cast<std::size_t>(st.st_size));
  std::size_t at = 0;
  for (;;) {
    std::byte probe[4096];
    const bool full = at == data.size();  // read on into `probe`, appending what it gets
    const ssize_t n = full ? io.pread(fd, probe, sizeof probe, static_cast<off_t>(at))
                           : io.pread(fd, data.data() + at, data.size() - at, static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw store_error("lightflow: could not read " + path + ": " + std::strerror(errno));
    if (n == 0) break;
    if (full) binary_writer(data).bytes(probe, static_cast<std::size_t>(n));
    at += static_cast<std::size_t>(n);
  }
  data.resize(at);
  return data;
}

// Reads and indexes the file of `log` (open at log.fd); returns the size of its torn tail.
inline std::uint64_t read_into(file_io& io, const std::string& path, log_file& log) {
  try {
    detail::parsed_log parsed = detail::parse_log(read_all(io, path, log.fd), path);
    log.records = std::move(parsed.records);
    log.end = parsed.end;
    log.indexed = true;
    log.saved_end = log.end;
    return parsed.torn;
  } catch (...) {
    io.close(log.fd);
    throw;
  }
}

inline void write_all(file_io& io, log_file& log, const std::string& path, std::span<const std::byte> frames) {
  std::size_t done = 0;
  while (done < frames.size()) {
    const ssize_t n = io.pwrite(log.fd, frames.data() + done, frames.size() - done, static_cast<off_t>(log.end + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = n < 0 ? std::strerror(errno) : "nothing written";
      // Best effort: leave no partial frame behind (a crash before the next write would find a torn
      // tail there, which is harmless too).
      (void)io.ftruncate(log.fd, static_cast<off_t>(log.end));
      log.size = log.end;
      throw store_error("lightflow: could not write checkpoint records to " + path + ": " + why);
    }
    done += static_cast<std::size_t>(n);
  }
  log.end += done;
}

// Extends `log`'s file with zeros up to `reserve` (prepare()). Best effort: a failure leaves zeros
// or nothing after the frames, which readers ignore, and only costs the speed it was for.
inline void pad(file_io& io, log_file& log, std::uint64_t reserve) {
  static constexpr std::byte zeros[16384] = {};
  log.size = std::max(log.size, log.end);
  while (log.size < reserve) {
    const auto n = io.pwrite(log.fd, zeros, static_cast<std::size_t>(std::min<std::uint64_t>(sizeof zeros, reserve - log.size)),
                               static_cast<off_t>(log.size));
    if (n <= 0) return;
    log.size += static_cast<std::uint64_t>(n);
  }
}

inline void sync_directory(file_io& io, const std::filesystem::path& dir) {
  const int fd = io.open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  const bool ok = fd >= 0 && io.fsync(fd) == 0;
  const int error = errno;
  if (fd >= 0) io.close(fd);
  if (!ok) throw store_error("lightflow: could not sync the directory " + dir.string() + ": " + std::strerror(error));
}

// What one round writes of one log.
struct log_batch {
  log_file* log;
  std::string path;
  std::vector<std::byte> frames;
  std::uint64_t reserve;
  bool new_file, new_directory;
  std::string failure;  // empty: written (and, durable, synced); else `frames` are to be written again
};

// Makes a lost log's file anew, never over a file someone else made there.
inline void recreate(file_io& io, log_file& log, log_batch& b) {
  if (make_directory_of(b.path)) b.new_directory = true;
  const int fd = io.open(b.path.c_str(), O_RDWR | O_CLOEXEC | O_CREAT | O_EXCL, 0644);
  if (fd < 0) {
    const int error = errno;
    throw store_error("lightflow: could not make the lost checkpoint log " + b.path + " anew: " +
                      (error == EEXIST ? std::string("another file is there now, and lightflow will not write into it")
                                       : std::string(std::strerror(error))));
  }
  log.fd = fd;
  log.end = log.size = 0;
  b.new_file = true;
}

// Writes (and, durable, syncs) one log's frames at its end, then checks that the file is still the
// one its path names. On failure, leaves `end` where the frames began, so that writing them again
// overwrites what was written of them.
inline void write_batch(file_io& io, durability level, const std::filesystem::path& directory, log_batch& b) {
  log_file& log = *b.log;
  if (log.fd < 0) recreate(io, log, b);  // found lost by an earlier round
  const std::uint64_t start = log.end;
  try {
    write_all(io, log, b.path, b.frames);
    if (level == durability::durable) {
      pad(io, log, b.reserve);
      if (io.fdatasync(log.fd) != 0) throw store_error("lightflow: fdatasync of " + b.path + " failed: " + std::strerror(errno));
      // A new file's name is made durable too: its directory's entry, and the directory's own.
      if (b.new_file) sync_directory(io, std::filesystem::path(b.path).parent_path());
      if (b.new_directory) sync_directory(io, directory);
    }
  } catch (...) {
    log.end = start;
    throw;
  }
  // Still linked (a deleted file has no link left); durable mode also checks that the path still
  // names it (a renamed directory), a lookup that costs little next to the fdatasync.
  struct stat own{}, named{};
  const bool linked = ::fstat(log.fd, &own) == 0 && own.st_nlink > 0 &&
                      (level != durability::durable || (::stat(b.path.c_str(), &named) == 0 &&
                                                         named.st_dev == own.st_dev && named.st_ino == own.st_ino));
  if (linked) return;
  // Deleted or replaced: what the file holds is read back through the descriptor and kept, to be
  // written to a new file by the next flush.
  try {
    std::vector<std::byte> written = read_all(io, b.path, log.fd);
    written.resize(std::min<std::size_t>(written.size(), log.end));
    b.frames = std::move(written);
  } catch (const store_error&) {  // only this round's frames are left to keep
  }
  io.close(log.fd);
  log.fd = -1;
  log.end = log.size = 0;  // fd -1: the next round makes the file anew (recreate)
  throw store_error("lightflow: the checkpoint log " + b.path +
                    " was deleted or replaced while a run wrote to it, so its records are not on disk (they are "
                    "kept, and the next flush writes them to a new file there)");
}

}  // namespace lightflow::detail

#endif
