// libFuzzer target: see fuzz_entries.h (fuzz_download_links). Seeds in fuzz/corpus/download_links/.
#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ppo::fuzz::fuzz_download_links(data, size);
    return 0;
}
