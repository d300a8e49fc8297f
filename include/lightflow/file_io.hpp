// What a file_store does with files: how durable it makes records, and the system calls it makes
// (through an lf::file_io, which tests derive from to watch or fail them). POSIX only.
#ifndef LIGHTFLOW_FILE_IO_HPP
#define LIGHTFLOW_FILE_IO_HPP

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstddef>

namespace lightflow {

/// How a file_store makes records durable.
enum class durability {
  durable,  ///< every record is on disk (fdatasync) before the run reports its steps done; records
            ///< saved together share one fdatasync (group commit)
  fast,     ///< records are written (in batches, as in durable mode) before the run reports its steps
            ///< done, and their writing to disk is left to the operating system: a finished run's
            ///< records survive a crash of the process, not of the machine
};

/// The system calls a file_store makes on its logs. Derive from it to watch or fail them (tests
/// inject full disks and I/O errors this way); each returns what the POSIX call returns and sets errno.
class file_io {
 public:
  virtual ~file_io() = default;
  /// POSIX `open()`.
  virtual int open(const char* path, int flags, mode_t mode) { return ::open(path, flags, mode); }
  /// POSIX `pread()`.
  virtual ssize_t pread(int fd, void* data, std::size_t size, off_t at) { return ::pread(fd, data, size, at); }
  /// POSIX `pwrite()`.
  virtual ssize_t pwrite(int fd, const void* data, std::size_t size, off_t at) { return ::pwrite(fd, data, size, at); }
  /// POSIX `fdatasync()` (logs).
  virtual int fdatasync(int fd) { return ::fdatasync(fd); }
  /// POSIX `fsync()` (directories, after a log is made).
  virtual int fsync(int fd) { return ::fsync(fd); }
  /// POSIX `ftruncate()` (room prepared and not used).
  virtual int ftruncate(int fd, off_t size) { return ::ftruncate(fd, size); }
  /// POSIX `close()`.
  virtual int close(int fd) { return ::close(fd); }
  /// The calls as the operating system makes them.
  static file_io& system() noexcept {
    static file_io io;
    return io;
  }
};

}  // namespace lightflow

#endif
