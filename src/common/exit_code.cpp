#include "common/exit_code.h"

namespace callagent {

std::string_view exit_code_name(ExitCode c) {
  switch (c) {
    case ExitCode::Ok: return "ok";
    case ExitCode::ExpectationFailed: return "expectation-failed";
    case ExitCode::NoPartner: return "no-partner";
    case ExitCode::CallFailed: return "call-failed";
    case ExitCode::Usage: return "usage";
    case ExitCode::DataErr: return "data-error";
    case ExitCode::NoInput: return "no-input";
    case ExitCode::RoomNotFound: return "room-not-found";
    case ExitCode::NoHost: return "no-host";
    case ExitCode::Unavailable: return "unavailable";
    case ExitCode::Software: return "internal-error";
    case ExitCode::OsErr: return "os-error";
    case ExitCode::CantCreate: return "cant-create";
    case ExitCode::IoErr: return "io-error";
    case ExitCode::RoomFull: return "room-full";
    case ExitCode::Protocol: return "protocol-error";
    case ExitCode::NoPerm: return "not-authorized";
    case ExitCode::Config: return "config-error";
    case ExitCode::Tls: return "tls-error";
  }
  return "unknown";
}

}  // namespace callagent
