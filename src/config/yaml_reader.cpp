#include "config/yaml_reader.h"

#include "cltci/common/error.h"

#include <cstddef>
#include <fstream>
#include <iterator>
#include <map>
#include <system_error>
#include <utility>

namespace cltci::config {
namespace fs = std::filesystem;
namespace {

std::string at(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return file;
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

/// The byte offset of the first NUL or of the first byte that breaks UTF-8, else npos. yaml-cpp
/// reads such a file as one odd scalar, or fails with an escape-character message that does not
/// say the file is not text at all.
std::size_t first_binary_byte(const std::string& bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    if (byte == 0) return i;
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
    const std::string key = entry.first.Scalar();
    const std::string key_path = path.empty() ? key : path + "." + key;
    const YAML::Mark mark = entry.first.Mark();
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
  if (!fs::is_regular_file(file, ec))
    throw common::InputError(name + ": " + what + " file not found");
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
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(bytes);
  } catch (const YAML::ParserException& error) {
    throw common::InputError(at(name, error.mark) + ": YAML syntax error: " + error.msg);
  } catch (const YAML::Exception& error) {
    throw common::InputError(name + ": cannot read the " + what + " file: " + error.msg);
  }
  if (documents.size() > 1) {
    // Only the first document would be read: the later ones' settings would be lost.
    throw common::InputError(name + ":" + std::to_string(documents[1].Mark().line + 1) +
                             ": a second YAML document ('---'); a " + what + " file holds one");
  }
  const bool empty = documents.empty() || documents.front().IsNull() ||
                     (documents.front().IsMap() && documents.front().size() == 0);
  if (empty) {
    // Running with every default would hide a wrong path or a file saved empty.
    throw common::InputError(name + ": the " + what +
                             " is empty (no keys); start from one of the files in configs/");
  }
  YAML::Node root = documents.front();
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
