// libFuzzer target: see fuzz_entries.h (fuzz_header). Seeds in fuzz/corpus/header/.
#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ppo::fuzz::fuzz_header(data, size);
    return 0;
}
