// The one place where a config key exists: each config struct has a `describe(Schema&, T&)`
// function that names every key once, with its doc line and its constraint. The same function
// drives reading YAML (with every error collected), dumping the effective config, and the
// documentation: there is no second list of keys anywhere to drift out of sync.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace cltci::config {

/// A numeric range check. Default: anything finite.
struct Rule {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_exclusive = false;
  bool max_exclusive = false;

  static Rule positive() { return {0.0, std::numeric_limits<double>::infinity(), true, false}; }
  static Rule non_negative() {
    return {0.0, std::numeric_limits<double>::infinity(), false, false};
  }
  static Rule at_least(double low) { return {low, std::numeric_limits<double>::infinity()}; }
  static Rule between(double low, double high) { return {low, high}; }
  /// [low, high)
  static Rule from_below(double low, double high) { return {low, high, false, true}; }

  /// Empty when `value` satisfies the rule, else "must be > 0" and the like.
  std::optional<std::string> violation(double value) const;
};

/// A visitor over a config tree. Implementations: the YAML reader, the YAML writer.
class Schema {
 public:
  virtual ~Schema() = default;

  /// A nested mapping; `body` describes its keys.
  virtual void section(const char* key, const char* doc, const std::function<void()>& body) = 0;

  virtual void field(const char* key, bool& value, const char* doc) = 0;
  virtual void field(const char* key, std::int64_t& value, const char* doc, Rule rule = {}) = 0;
  virtual void field(const char* key, double& value, const char* doc, Rule rule = {}) = 0;
  /// A string; when `choices` is non-empty the value must be one of them.
  virtual void field(const char* key,
                     std::string& value,
                     const char* doc,
                     const std::vector<std::string>& choices = {}) = 0;
  /// A list of numbers, each checked by `rule`; `size` > 0 fixes the length.
  virtual void field(const char* key,
                     std::vector<double>& value,
                     const char* doc,
                     Rule rule = {},
                     std::size_t size = 0) = 0;
  virtual void field(const char* key,
                     std::vector<std::int64_t>& value,
                     const char* doc,
                     Rule rule = {},
                     std::size_t size = 0) = 0;

  /// An enumeration, spelled in YAML as `names[value]`: `names` lists every enumerator's name in
  /// declaration order (the owner's registry, e.g. init_type_names()). Parsed here, once, so no
  /// code past the config compares the text.
  template <typename Enum, typename = std::enable_if_t<std::is_enum_v<Enum>>>
  void field(const char* key, Enum& value, const char* doc, const std::vector<std::string>& names) {
    auto index = static_cast<std::size_t>(value);
    choice(key, index, doc, names);
    value = static_cast<Enum>(index);
  }

 protected:
  /// The enum field on its enumerator's position in `names`.
  virtual void choice(const char* key,
                      std::size_t& index,
                      const char* doc,
                      const std::vector<std::string>& names) = 0;
};

/// Problems found after reading, by cross-field checks. Each is tied to a key path so that the
/// loader can prefix it with the file:line:col where that key (or its nearest parent) was set.
class Problems {
 public:
  void add(std::string key_path, std::string message);
  bool empty() const { return items_.empty(); }
  struct Item {
    std::string key_path;
    std::string message;
  };
  const std::vector<Item>& items() const { return items_; }

 private:
  std::vector<Item> items_;
};

}  // namespace cltci::config
