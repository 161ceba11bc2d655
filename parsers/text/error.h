// One exception type for everything that comes from outside the program: input,
// network, disk, configuration. Its kind tells the caller what to do with it:
// retry later (transient), give up on this item (permanent), quarantine the
// input (corrupt), or stop and tell the administrator (config).
#pragma once

#include <stdexcept>
#include <string>

namespace ppo {

enum class ErrorKind { transient, permanent, corrupt, config };

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
    ErrorKind kind() const noexcept { return kind_; }

private:
    ErrorKind kind_;
};

inline Error transient_error(const std::string& what) { return Error(ErrorKind::transient, what); }
inline Error permanent_error(const std::string& what) { return Error(ErrorKind::permanent, what); }
inline Error corrupt_error(const std::string& what) { return Error(ErrorKind::corrupt, what); }
inline Error config_error(const std::string& what) { return Error(ErrorKind::config, what); }

}  // namespace ppo
