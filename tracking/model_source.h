// Where a registered model version's files are, from its `source` as MLflow clients and the
// eonops trainer write it: a run's artifact directory ("runs:/<run>/<path>",
// "mlflow-artifacts:/<experiment>/<run>/artifacts/<path>", or a relative path under the
// version's run), or a directory on this machine (an absolute path or file://...).
//
//   ArtifactLocation loc = ParseModelSource(version);   // throws std::invalid_argument
//   if (loc.local_dir.empty()) client.ListArtifacts(loc.run_id, loc.path); ...
#pragma once

#include <string>

#include "tracking/entities.h"

namespace eonops::tracking {

struct ArtifactLocation {
  std::string run_id, path;  // when in the tracking store
  std::string local_dir;     // when on disk
};

// Throws std::invalid_argument naming the version and the source when it cannot be understood.
ArtifactLocation ParseModelSource(const ModelVersion& version);

}  // namespace eonops::tracking
