#include "cltci/models/safetensors.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "common_test_support.h"
#include "unit/models/model_test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace cltci::models {
namespace {

std::string with_header(const std::string& json, const std::string& data) {
  std::string out(8, '\0');
  const std::uint64_t size = json.size();
  std::memcpy(out.data(), &size, 8);
  return out + json + data;
}

TEST(Safetensors, RoundTripIsBitExactForEveryDtype) {
  cltci::testing::TempDir dir;
  torch::manual_seed(10);
  StateDict tensors;
  tensors.insert("f32", torch::randn({3, 4}));
  tensors.insert("f64", torch::randn({2}, torch::kFloat64));
  tensors.insert("f16", torch::randn({5}).to(torch::kFloat16));
  tensors.insert("bf16", torch::randn({2, 2}).to(torch::kBFloat16));
  tensors.insert("i64", torch::arange(-3, 3, torch::kInt64));
  tensors.insert("i32", torch::arange(0, 7, torch::kInt32));
  tensors.insert("u8", torch::arange(250, 256).to(torch::kUInt8));
  tensors.insert("bool", torch::tensor({true, false, true}));
  tensors.insert("scalar", torch::tensor(7, torch::kInt64));
  tensors.insert("empty", torch::zeros({0, 3}));
  tensors.insert("strided \"name\"", torch::randn({4, 6}).t());
  write_safetensors(dir / "t.safetensors", tensors, {{"note", "x\ny"}});
  const auto loaded = read_safetensors(dir / "t.safetensors");
  ASSERT_EQ(loaded.tensors.keys(), tensors.keys());
  for (const auto& item : tensors) {
    const auto& back = loaded.tensors[item.key()];
    EXPECT_EQ(back.scalar_type(), item.value().scalar_type()) << item.key();
    EXPECT_TRUE(torch::equal(back, item.value())) << item.key();
  }
  EXPECT_EQ(loaded.metadata.at("note"), "x\ny");
  // The header is padded so that the data starts 8-byte aligned.
  std::uint64_t header = 0;
  std::memcpy(&header, common::read_file(dir / "t.safetensors").data(), 8);
  EXPECT_EQ(header % 8, 0u);
}

TEST(Safetensors, ReadsAHandWrittenFile) {
  cltci::testing::TempDir dir;
  const float values[] = {1.5f, -2.0f};
  std::string data(reinterpret_cast<const char*>(values), sizeof values);
  common::write_file_atomic(
      dir / "h.safetensors",
      with_header(R"({"__metadata__":{"format":"pt"}, "w" : {"dtype":"F32","shape":[2],)"
                  R"("data_offsets":[0,8]}})",
                  data));
  const auto loaded = read_safetensors(dir / "h.safetensors");
  EXPECT_TRUE(torch::equal(loaded.tensors["w"], torch::tensor({1.5f, -2.0f})));
  EXPECT_EQ(loaded.metadata.at("format"), "pt");
}

TEST(Safetensors, TruncatedAndMalformedFilesNameTheFile) {
  cltci::testing::TempDir dir;
  StateDict tensors;
  tensors.insert("w", torch::ones({16}));
  write_safetensors(dir / "good.safetensors", tensors);
  const std::string good = common::read_file(dir / "good.safetensors");
  auto error_for = [&](const std::string& name, const std::string& contents) {
    common::write_file_atomic(dir / name, contents);
    return testing::message_of<common::InputError>([&] { read_safetensors(dir / name); });
  };
  const auto cut = error_for("cut.safetensors", good.substr(0, good.size() - 4));
  EXPECT_NE(cut.find((dir / "cut.safetensors").string()), std::string::npos) << cut;
  EXPECT_NE(cut.find("truncated"), std::string::npos) << cut;
  EXPECT_NE(error_for("tiny.safetensors", "abc").find("truncated"), std::string::npos);
  EXPECT_NE(error_for("header.safetensors", good.substr(0, 20)).find("truncated"),
            std::string::npos);
  const std::string eight(reinterpret_cast<const char*>(std::vector<float>(2).data()), 8);
  EXPECT_NE(error_for("overlap.safetensors",
                      with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                  R"("b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                                  eight))
                .find("overlap"),
            std::string::npos);
  EXPECT_NE(
      error_for("span.safetensors",
                with_header(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight))
          .find("need 12"),
      std::string::npos);
  EXPECT_NE(
      error_for("dtype.safetensors",
                with_header(R"({"a":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}})", eight))
          .find("unsupported dtype F8_E4M3"),
      std::string::npos);
  EXPECT_NE(error_for("json.safetensors", with_header(R"({"a":{"dtype":"F32",)", eight))
                .find("malformed"),
            std::string::npos);
}

TEST(Safetensors, HeaderBytesAreTheCompactJsonPythonWrites) {
  cltci::testing::TempDir dir;
  StateDict tensors;
  tensors.insert("b", torch::zeros({2}, torch::kFloat32));
  tensors.insert("a \"q\"", torch::zeros({1, 0}, torch::kInt64));
  write_safetensors(dir / "h.safetensors", tensors, {{"note", "tab\there \xC3\xA9"}});
  const std::string contents = common::read_file(dir / "h.safetensors");
  std::uint64_t size = 0;
  std::memcpy(&size, contents.data(), 8);
  std::string header = contents.substr(8, size);
  header.erase(header.find_last_not_of(' ') + 1);
  const std::string prefix = "{\"__metadata__\":{\"cltci.crc32c\":\"";
  ASSERT_EQ(header.substr(0, prefix.size()), prefix);
  EXPECT_EQ(header.substr(prefix.size() + 8),
            "\",\"note\":\"tab\\u0009here \xC3\xA9\"},"
            "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            "\"a \\\"q\\\"\":{\"dtype\":\"I64\",\"shape\":[1,0],\"data_offsets\":[8,8]}}");
}

TEST(Safetensors, MalformedHeadersNameTheFileAndTheByte) {
  cltci::testing::TempDir dir;
  auto error_for = [&](const std::string& json) {
    common::write_file_atomic(dir / "m.safetensors", with_header(json, ""));
    return testing::message_of<common::InputError>(
        [&] { read_safetensors(dir / "m.safetensors"); });
  };
  const std::string where = (dir / "m.safetensors").string() + ": malformed safetensors header: ";
  // Offsets count from the start of the file: the JSON starts at byte 8.
  EXPECT_EQ(error_for("{} x"), where + "trailing characters after the header's JSON at byte 11");
  EXPECT_EQ(error_for("{\"a\":"), where + "unexpected end at byte 13");
  EXPECT_EQ(error_for("{\"a\\q\":1}"), where + "bad escape \\q at byte 11");
  EXPECT_EQ(error_for("{\"a\":[1e]}"), where + "bad number '1e' at byte 14");
  EXPECT_EQ(error_for(std::string(66, '[') + std::string(66, ']')),
            where + "nested too deeply at byte 73");
  EXPECT_EQ(error_for("[]"), where + "not a JSON object");
}

TEST(Safetensors, RefusesShapesTooLargeForTorch) {
  cltci::testing::TempDir dir;
  // 2^32 * 2^32 elements wrap to 0 in 64 bits: the span check alone would let it through.
  common::write_file_atomic(
      dir / "wrap.safetensors",
      with_header(R"({"w":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}})",
                  ""));
  EXPECT_NE(testing::message_of<common::InputError>([&] {
              read_safetensors(dir / "wrap.safetensors");
            }).find("tensor 'w': shape is too large"),
            std::string::npos);
  // A zero-size dimension is not a large shape: an empty tensor.
  common::write_file_atomic(
      dir / "empty.safetensors",
      with_header(R"({"w":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]}})", ""));
  EXPECT_EQ(read_safetensors(dir / "empty.safetensors").tensors["w"].numel(), 0);
}

}  // namespace
}  // namespace cltci::models
