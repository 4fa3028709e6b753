#include "config/yaml_reader.h"

#include "cltci/common/error.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace cltci::config {
namespace fs = std::filesystem;
namespace {

std::string at(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return file;
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

/// The byte offset of the first control character YAML does not allow (any C0 control but tab,
/// line feed and carriage return, and DEL) or of the first byte that breaks UTF-8, else npos.
/// yaml-cpp reads such a file as one odd scalar, or fails with a message that quotes the raw
/// byte and does not say the file is not text at all.
std::size_t first_binary_byte(const std::string& bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    if ((byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r') || byte == 0x7F) return i;
    std::size_t length = 1;
    if (byte >= 0xF0 && byte <= 0xF4) {
      length = 4;
    } else if (byte >= 0xE0) {
      length = 3;
    } else if (byte >= 0xC2 && byte <= 0xDF) {
      length = 2;
    } else if (byte >= 0x80) {
      return i;
    }
    if (byte >= 0xF5 || i + length > bytes.size()) return i;
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(bytes[i + k]) & 0xC0) != 0x80) return i;
    }
    i += length;
  }
  return std::string::npos;
}

/// Parser events that build nothing: only where the document starts.
class DocumentStart : public YAML::EventHandler {
 public:
  YAML::Mark mark = YAML::Mark::null_mark();
  void OnDocumentStart(const YAML::Mark& at) override { mark = at; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&,
                const std::string&,
                YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&,
                       const std::string&,
                       YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&,
                  const std::string&,
                  YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

/// Where a second document starts, or a null mark when `bytes` hold one. yaml-cpp 0.7's LoadAll
/// can loop forever on some malformed input, pushing a null document per turn until memory runs
/// out (jbeder/yaml-cpp#1319, fixed after 0.8.0; found here by the config fuzzer), so the parser
/// is driven by hand and never asked for more than two documents.
YAML::Mark second_document(const std::string& bytes) {
  std::istringstream stream(bytes);
  YAML::Parser parser(stream);
  DocumentStart first;
  DocumentStart second;
  if (!parser.HandleNextDocument(first) || !parser.HandleNextDocument(second)) {
    return YAML::Mark::null_mark();
  }
  return second.mark;
}

/// Line `line` (0-based) of `bytes`.
std::string line_of(const std::string& bytes, int line) {
  std::size_t start = 0;
  for (int i = 0; i < line && start != std::string::npos; ++i) {
    start = bytes.find('\n', start);
    if (start != std::string::npos) ++start;
  }
  if (start == std::string::npos) return {};
  return bytes.substr(start, bytes.find('\n', start) - start);
}

std::string describe_top_level(const YAML::Node& root) {
  if (root.IsSequence()) return "a list";
  std::string text = root.Scalar();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return "the plain value '" + text + "'";
}

}  // namespace

void find_duplicate_keys(const YAML::Node& node,
                         const std::string& path,
                         const std::string& file,
                         std::vector<std::string>& errors) {
  if (node.IsSequence()) {
    for (const auto& item : node) find_duplicate_keys(item, path, file, errors);
    return;
  }
  if (!node.IsMap()) return;
  std::map<std::string, YAML::Mark> first;
  for (const auto& entry : node) {
    const YAML::Mark mark = entry.first.Mark();
    if (!entry.first.IsScalar()) {
      // YAML allows a list or a mapping as a key (`? [a, b]: 1`); a config key is a name.
      errors.push_back(at(file, mark) + ": " + (path.empty() ? "(top level)" : path) +
                       ": a key must be a plain name, got " +
                       (entry.first.IsSequence() ? "a list" : "a mapping"));
      continue;
    }
    const std::string key = entry.first.Scalar();
    const std::string key_path = path.empty() ? key : path + "." + key;
    const auto [found, inserted] = first.emplace(key, mark);
    if (!inserted) {
      errors.push_back(at(file, mark) + ": " + key_path + ": duplicate key '" + key + "'" +
                       (path.empty() ? "" : " in " + path) + " (first at line " +
                       std::to_string(found->second.line + 1) + "); give each key once");
    }
    find_duplicate_keys(entry.second, key_path, file, errors);
  }
}

YAML::Node read_yaml_mapping(const fs::path& file, const std::string& what) {
  const std::string name = file.string();
  std::error_code ec;
  if (fs::is_directory(file, ec)) {
    throw common::InputError(name + ": a directory, not a " + what + " file (a YAML file)");
  }
  if (!fs::is_regular_file(file, ec)) {
    throw common::InputError(name + ": " + what + " file not found");
  }
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw common::InputError(name + ": cannot open the " + what + " file");
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // A UTF-16 text starts with its byte-order mark, which yaml-cpp reads; anything else that is
  // not UTF-8 is not a text file.
  const bool utf16 = bytes.size() >= 2 && ((bytes[0] == '\xFF' && bytes[1] == '\xFE') ||
                                           (bytes[0] == '\xFE' && bytes[1] == '\xFF'));
  if (const std::size_t offset = utf16 ? std::string::npos : first_binary_byte(bytes);
      offset != std::string::npos) {
    throw common::InputError(name + ": not a YAML text file (binary data at byte " +
                             std::to_string(offset) + "); a " + what +
                             " file is a YAML mapping of keys");
  }
  YAML::Node root;
  YAML::Mark second = YAML::Mark::null_mark();
  try {
    root = YAML::Load(bytes);
    second = second_document(bytes);
  } catch (const YAML::ParserException& error) {
    throw common::InputError(at(name, error.mark) + ": YAML syntax error: " + error.msg);
  } catch (const YAML::Exception& error) {
    throw common::InputError(name + ": cannot read the " + what + " file: " + error.msg);
  }
  if (!second.is_null()) {
    // Only the first document would be read: the later ones' settings would be lost.
    const std::string where = name + ":" + std::to_string(second.line + 1);
    if (line_of(bytes, second.line).rfind("---", 0) == 0) {
      throw common::InputError(where + ": a second YAML document ('---'); a " + what +
                               " file holds one");
    }
    throw common::InputError(where +
                             ": YAML syntax error: text after the end of the top-level "
                             "mapping (check this line's indentation)");
  }
  const bool empty = root.IsNull() || (root.IsMap() && root.size() == 0);
  if (empty) {
    // Running with every default would hide a wrong path or a file saved empty.
    throw common::InputError(name + ": the " + what +
                             " is empty (no keys); start from one of the files in configs/");
  }
  if (!root.IsMap()) {
    throw common::InputError(at(name, root.Mark()) + ": the " + what + " file holds " +
                             describe_top_level(root) +
                             ", not a mapping of keys; start from one of the files in configs/");
  }
  std::vector<std::string> errors;
  find_duplicate_keys(root, "", name, errors);
  if (!errors.empty()) throw common::InputError(std::move(errors));
  return root;
}

}  // namespace cltci::config
