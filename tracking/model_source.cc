#include "tracking/model_source.h"

#include <stdexcept>

namespace eonops::tracking {

namespace {
bool StartsWith(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }
std::string TrimSlashes(std::string s) {
  while (!s.empty() && s.front() == '/') s.erase(s.begin());
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}
}  // namespace

ArtifactLocation ParseModelSource(const ModelVersion& v) {
  ArtifactLocation loc;
  const std::string& s = v.source;
  if (StartsWith(s, "runs:/")) {
    std::string rest = TrimSlashes(s.substr(6));
    auto slash = rest.find('/');
    loc.run_id = rest.substr(0, slash);
    loc.path = slash == std::string::npos ? "" : TrimSlashes(rest.substr(slash + 1));
  } else if (StartsWith(s, "mlflow-artifacts:/")) {
    // mlflow-artifacts:/<experiment>/<run>/artifacts/<path>
    std::string rest = TrimSlashes(s.substr(18));
    auto marker = rest.find("/artifacts");
    auto first = rest.find('/');
    if (marker == std::string::npos || first == std::string::npos || first >= marker) {
      throw std::invalid_argument("model source '" + s +
                                  "' is not mlflow-artifacts:/<experiment>/<run>/artifacts/<path>");
    }
    loc.run_id = rest.substr(first + 1, marker - first - 1);
    loc.path = TrimSlashes(rest.substr(marker + 10));
  } else if (StartsWith(s, "file://")) {
    loc.local_dir = s.substr(7);
  } else if (!s.empty() && s[0] == '/') {
    loc.local_dir = s;
  } else if (!v.run_id.empty() && s.find(':') == std::string::npos) {
    loc.run_id = v.run_id;
    loc.path = TrimSlashes(s);
  } else {
    throw std::invalid_argument(
        "model version " + v.name + "/" + std::to_string(v.version) + ": cannot load source '" + s +
        "' (expected runs:/<run>/<path>, mlflow-artifacts:/..., or a directory)");
  }
  if (loc.local_dir.empty() && loc.run_id.empty()) {
    throw std::invalid_argument("model source '" + s + "' names no run");
  }
  return loc;
}

}  // namespace eonops::tracking
