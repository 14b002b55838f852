// What build a process is: the project's version, the git revision it was built from ("unknown" outside a
// checkout) and the compiler. Every service exports it as maestro_build_info{version,revision,compiler} 1.
// Its definition is generated at build time (cmake/build_info.cmake).
#pragma once

#include <string>

namespace maestro::base {

struct BuildInfo {
  std::string version;   // e.g. 0.1.0
  std::string revision;  // e.g. 46d1ea8c0f3a
  std::string compiler;  // e.g. GNU 12.2.0
};

const BuildInfo& build_info();

}  // namespace maestro::base
