// libFuzzer target: safetensors files, as `finetune` reads an encoder or ImageNet weights and a
// resumed run reads its checkpoint (models::read_safetensors).
#include "cltci/common/error.h"
#include "cltci/models/safetensors.h"
#include "fuzz_input_file.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path file = cltci::fuzz::write_fuzz_input(data, size, ".safetensors");
  cltci::models::SafetensorsFile loaded;
  try {
    loaded = cltci::models::read_safetensors(file);
  } catch (const cltci::common::InputError&) {
    return 0;
  }
  // The reader promises the tensors cover the data section exactly: anything else would mean
  // it accepted a file whose bytes it did not all account for.
  std::uint64_t header_size = 0;
  std::memcpy(&header_size, data, sizeof header_size);
  std::uint64_t tensor_bytes = 0;
  for (const auto& item : loaded.tensors) tensor_bytes += item.value().nbytes();
  if (tensor_bytes != size - 8 - header_size) {
    std::fprintf(stderr, "safetensors: %llu tensor bytes, %llu data bytes\n",
                 static_cast<unsigned long long>(tensor_bytes),
                 static_cast<unsigned long long>(size - 8 - header_size));
    std::abort();
  }
  return 0;
}
