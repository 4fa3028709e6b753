#include "cltci/config/sweep_config.h"

#include "cltci/common/error.h"
#include "cltci/config/suggestions.h"
#include "cltci/ssl/method.h"
#include "config/yaml_reader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <set>
#include <utility>

namespace cltci::config {
namespace fs = std::filesystem;

const char* to_string(SweepStage stage) noexcept {
  switch (stage) {
    case SweepStage::kPretrain:
      return "pretrain";
    case SweepStage::kFinetune:
      return "finetune";
    case SweepStage::kEvaluate:
      return "evaluate";
    case SweepStage::kReport:
      return "report";
  }
  return "?";
}

const std::vector<std::string>& sweep_axes() {
  static const std::vector<std::string> axes{
      "init", "backbone", "pretrain_data", "finetune_data", "budgets", "folds", "seeds"};
  return axes;
}

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

/// Walks the sweep file, collecting every problem with the place it was found.
class SweepReader {
 public:
  explicit SweepReader(std::string file) : file_(std::move(file)) {}

  std::string where(const YAML::Node& node) const {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null() || mark.line < 0) return file_;
    return file_ + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  }

  void error(const YAML::Node& node, const std::string& path, const std::string& message) {
    errors_.push_back(where(node) + ": " + path + ": " + message);
  }
  void error(const std::string& path, const std::string& message) {
    errors_.push_back(file_ + ": " + path + ": " + message);
  }

  /// Visits the keys of mapping `node` (at `path`): `known` lists the accepted ones, and
  /// `visit(key, key_node, value_node)` is called for each of them in file order.
  void mapping(
      const YAML::Node& node,
      const std::string& path,
      const std::vector<std::string>& known,
      const std::function<void(const std::string&, const YAML::Node&, const YAML::Node&)>& visit) {
    if (!node || node.IsNull()) return;
    if (!node.IsMap()) {
      error(node, path, "expected a mapping of keys, got " + describe(node));
      return;
    }
    for (const auto& entry : node) {
      const std::string key = entry.first.Scalar();
      const std::string full = path.empty() ? key : path + "." + key;
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        const std::string suggestion = closest_match(key, known);
        error(entry.first, full,
              suggestion.empty()
                  ? "unknown key (known here: " + join(known) + ")"
                  : "unknown key; did you mean '" +
                        (path.empty() ? suggestion : path + "." + suggestion) + "'?");
        continue;
      }
      visit(key, entry.first, entry.second);
    }
  }

  bool text(const YAML::Node& node, const std::string& path, std::string& out) {
    if (!node.IsScalar() || node.Scalar().empty()) {
      error(node, path, "expected a non-empty string, got " + describe(node));
      return false;
    }
    out = node.Scalar();
    return true;
  }

  void number(const YAML::Node& node, const std::string& path, double& out) {
    double value = 0.0;
    if (!node.IsScalar() || !parse(node.Scalar(), value) || !std::isfinite(value) || value <= 0) {
      error(node, path, "expected a number > 0, got " + describe(node));
      return;
    }
    out = value;
  }

  void integer(const YAML::Node& node,
               const std::string& path,
               std::int64_t& out,
               std::int64_t min) {
    std::int64_t value = 0;
    if (!node.IsScalar() || !parse(node.Scalar(), value)) {
      error(node, path, "expected an integer, got " + describe(node));
      return;
    }
    if (value < min) {
      error(node, path, "must be >= " + std::to_string(min) + " (got " + node.Scalar() + ")");
      return;
    }
    out = value;
  }

  /// A list of integers >= `min` (a single integer is a list of one).
  void integers(const YAML::Node& node,
                const std::string& path,
                std::vector<std::int64_t>& out,
                std::int64_t min) {
    std::vector<std::int64_t> items;
    const auto one = [&](const YAML::Node& item) {
      std::int64_t value = 0;
      if (!item.IsScalar() || !parse(item.Scalar(), value) || value < min) {
        error(item, path,
              "expected integers >= " + std::to_string(min) + ", got " + describe(item));
        return false;
      }
      items.push_back(value);
      return true;
    };
    if (node.IsScalar()) {
      if (!one(node)) return;
    } else if (node.IsSequence()) {
      for (const auto& item : node) {
        if (!one(item)) return;
      }
    } else {
      error(node, path, "expected a list of integers, got " + describe(node));
      return;
    }
    if (items.empty()) {
      error(node, path, "empty axis: list at least one value");
      return;
    }
    std::set<std::int64_t> seen;
    for (auto item : items) {
      if (!seen.insert(item).second) {
        error(node, path, "repeats the value " + std::to_string(item));
        return;
      }
    }
    out = std::move(items);
  }

  /// A list of `--set` overrides (key=value strings).
  void overrides(const YAML::Node& node, const std::string& path, std::vector<std::string>& out) {
    if (!node.IsSequence()) {
      error(node, path, "expected a list of key=value overrides, got " + describe(node));
      return;
    }
    for (const auto& item : node) {
      if (!item.IsScalar() || item.Scalar().find('=') == std::string::npos ||
          item.Scalar().front() == '=') {
        error(item, path, "expected key=value, got " + describe(item));
        continue;
      }
      out.push_back(item.Scalar());
    }
  }

  void stage_overrides(const YAML::Node& node, const std::string& path, StageStrings& out) {
    mapping(node, path, {"pretrain", "finetune", "evaluate"},
            [&](const std::string& key, const YAML::Node&, const YAML::Node& value) {
              auto& list = key == "pretrain"   ? out.pretrain
                           : key == "finetune" ? out.finetune
                                               : out.evaluate;
              overrides(value, path + "." + key, list);
            });
  }

  /// The values of a named axis: a mapping name -> options (or a list of names).
  std::vector<AxisValue> axis(const YAML::Node& node,
                              const std::string& path,
                              const std::vector<std::string>& options) {
    std::vector<AxisValue> values;
    const auto add = [&](const YAML::Node& key_node, const YAML::Node* body) {
      AxisValue value;
      if (!key_node.IsScalar()) {
        error(key_node, path, "expected a value name, got " + describe(key_node));
        return;
      }
      value.name = key_node.Scalar();
      value.where = where(key_node);
      const std::string value_path = path + "." + value.name;
      const bool valid_name =
          !value.name.empty() && std::all_of(value.name.begin(), value.name.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
          });
      if (!valid_name) {
        error(key_node, value_path,
              "a value name becomes part of run names: use letters, digits, '_' and '-'");
      }
      for (const auto& other : values) {
        if (other.name == value.name) error(key_node, value_path, "named twice");
      }
      if (body != nullptr) {
        mapping(*body, value_path, options,
                [&](const std::string& key, const YAML::Node&, const YAML::Node& v) {
                  const std::string key_path = value_path + "." + key;
                  if (key == "method") {
                    text(v, key_path, value.method);
                  } else if (key == "set") {
                    stage_overrides(v, key_path, value.set);
                  } else if (key == "config") {
                    mapping(
                        v, key_path, {"pretrain", "finetune"},
                        [&](const std::string& stage, const YAML::Node&, const YAML::Node& f) {
                          text(f, key_path + "." + stage,
                               stage == "pretrain" ? value.pretrain_config : value.finetune_config);
                        });
                  } else if (key == "vars") {
                    mapping_of_strings(v, key_path, value.vars);
                  } else if (key == "images") {
                    integer(v, key_path, value.images, 1);
                  }
                });
      }
      values.push_back(std::move(value));
    };
    if (node.IsSequence()) {
      for (const auto& item : node) add(item, nullptr);
    } else if (node.IsMap()) {
      for (const auto& entry : node) add(entry.first, &entry.second);
    } else if (!node.IsNull()) {
      error(node, path,
            "expected a mapping of value names (or a list of them), got " + describe(node));
      return values;
    }
    if (values.empty()) error(node, path, "empty axis: list at least one value");
    return values;
  }

  void mapping_of_strings(const YAML::Node& node,
                          const std::string& path,
                          std::map<std::string, std::string>& out) {
    if (!node.IsMap()) {
      error(node, path, "expected a mapping of names to strings, got " + describe(node));
      return;
    }
    for (const auto& entry : node) {
      if (!entry.second.IsScalar()) {
        error(entry.second, path + "." + entry.first.Scalar(), "expected a string");
        continue;
      }
      out[entry.first.Scalar()] = entry.second.Scalar();
    }
  }

  std::vector<std::string>& errors() { return errors_; }

 private:
  static std::string describe(const YAML::Node& node) {
    if (!node || node.IsNull()) return "nothing";
    if (node.IsScalar()) return "'" + node.Scalar() + "'";
    if (node.IsSequence()) return "a list";
    return "a mapping";
  }

  template <typename T>
  static bool parse(const std::string& text, T& out) {
    const char* begin = text.data();
    const char* end = begin + text.size();
    if (begin != end && *begin == '+') ++begin;
    const auto result = std::from_chars(begin, end, out);
    return result.ec == std::errc() && result.ptr == end;
  }

  std::string file_;
  std::vector<std::string> errors_;
};

}  // namespace

SweepConfig load_sweep_config(const fs::path& file, const std::string& output_dir) {
  const YAML::Node root = read_yaml_mapping(file, "sweep");
  SweepConfig config;
  config.file = file;
  config.sweep.name = file.stem().string();
  SweepReader reader(file.string());
  YAML::Node axes_node;
  reader.mapping(
      root, "", {"sweep", "base", "set", "axes"},
      [&](const std::string& key, const YAML::Node&, const YAML::Node& value) {
        if (key == "sweep") {
          reader.mapping(value, "sweep",
                         {"name", "output_dir", "lock_timeout_s", "heartbeat_s", "poll_s"},
                         [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
                           const std::string path = "sweep." + k;
                           if (k == "name") reader.text(v, path, config.sweep.name);
                           if (k == "output_dir") reader.text(v, path, config.sweep.output_dir);
                           if (k == "lock_timeout_s") {
                             reader.number(v, path, config.sweep.lock_timeout_s);
                           }
                           if (k == "heartbeat_s") reader.number(v, path, config.sweep.heartbeat_s);
                           if (k == "poll_s") reader.number(v, path, config.sweep.poll_s);
                         });
        } else if (key == "base") {
          reader.mapping(value, "base", {"pretrain", "finetune", "evaluate"},
                         [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
                           reader.text(v, "base." + k,
                                       k == "pretrain"   ? config.base_pretrain
                                       : k == "finetune" ? config.base_finetune
                                                         : config.base_evaluate);
                         });
        } else if (key == "set") {
          reader.stage_overrides(value, "set", config.set);
        } else {
          axes_node = value;
        }
      });
  if (!axes_node) {
    reader.error("axes",
                 "missing: a sweep needs at least axes.init, axes.backbone, "
                 "axes.finetune_data and axes.budgets");
  }
  std::set<std::string> given;
  reader.mapping(
      axes_node, "axes", sweep_axes(),
      [&](const std::string& key, const YAML::Node&, const YAML::Node& value) {
        given.insert(key);
        const std::string path = "axes." + key;
        if (key == "init") {
          config.inits = reader.axis(value, path, {"method", "set", "config", "vars"});
        } else if (key == "backbone") {
          config.backbones = reader.axis(value, path, {"set", "config", "vars"});
        } else if (key == "pretrain_data") {
          config.pretrain_data = reader.axis(value, path, {"set", "config", "vars", "images"});
        } else if (key == "finetune_data") {
          config.finetune_data = reader.axis(value, path, {"set", "config", "vars"});
        } else if (key == "budgets") {
          reader.integers(value, path, config.budgets, 1);
        } else if (key == "seeds") {
          reader.integers(value, path, config.seeds, 0);
        } else if (key == "folds") {
          reader.integer(value, path, config.folds, 2);
        }
      });
  if (axes_node) {
    for (const char* required : {"init", "backbone", "finetune_data", "budgets"}) {
      if (given.count(required) == 0) reader.error(std::string("axes.") + required, "missing");
    }
  }

  // The init axis names pre-training methods; "random" is the one initialisation without one.
  bool any_pretrained = false;
  const std::string& random = to_string(InitType::kRandom);
  std::vector<std::string> methods = ssl::method_names();
  methods.push_back(random);
  for (auto& value : config.inits) {
    if (value.method.empty()) value.method = value.name;
    value.init = value.method == random ? InitType::kRandom : InitType::kPretrained;
    const std::string path = "axes.init." + value.name + ".method";
    if (std::find(methods.begin(), methods.end(), value.method) == methods.end()) {
      const std::string suggestion = closest_match(value.method, methods);
      reader.errors().push_back(value.where + ": " + path + ": unknown method '" + value.method +
                                "' (known: " + join(methods) + ")" +
                                (suggestion.empty() ? "" : "; did you mean '" + suggestion + "'?"));
    }
    if (value.init == InitType::kRandom) {
      if (!value.set.pretrain.empty() || !value.pretrain_config.empty()) {
        reader.errors().push_back(value.where + ": axes.init." + value.name +
                                  ": a random initialisation has no pre-training to configure");
      }
    } else {
      any_pretrained = true;
    }
  }
  // Pre-training is shared by every fine-tuning data set: a value of finetune_data that changed
  // it would silently make each pre-training depend on which data set asked for it.
  for (const auto& value : config.finetune_data) {
    if (!value.set.pretrain.empty() || !value.pretrain_config.empty()) {
      reader.errors().push_back(value.where + ": axes.finetune_data." + value.name +
                                ": cannot change pre-training (it is shared by every "
                                "fine-tuning data set)");
    }
  }
  if (any_pretrained) {
    if (config.pretrain_data.empty() && given.count("pretrain_data") == 0) {
      reader.error("axes.pretrain_data", "missing: the init axis has pre-trained values");
    }
    bool every_value_has_config = !config.inits.empty();
    for (const auto& value : config.inits) {
      if (value.init != InitType::kRandom && value.pretrain_config.empty()) {
        every_value_has_config = false;
      }
    }
    if (config.base_pretrain.empty() && !every_value_has_config) {
      reader.error("base.pretrain", "missing: the base pre-training config file");
    }
  }
  if (config.base_finetune.empty()) {
    const bool every_value_has_config =
        !config.finetune_data.empty() &&
        std::all_of(config.finetune_data.begin(), config.finetune_data.end(),
                    [](const AxisValue& v) { return !v.finetune_config.empty(); });
    if (!every_value_has_config) {
      reader.error("base.finetune", "missing: the base fine-tuning config file");
    }
  }
  if (config.sweep.heartbeat_s * 2 > config.sweep.lock_timeout_s) {
    reader.error("sweep.heartbeat_s",
                 "must be at most half of sweep.lock_timeout_s, or live locks look stale");
  }
  if (!output_dir.empty()) config.sweep.output_dir = output_dir;
  if (!reader.errors().empty()) throw common::InputError(std::move(reader.errors()));
  return config;
}

}  // namespace cltci::config
