// libFuzzer target: see fuzz_entries.h (fuzz_forward). Seeds in fuzz/corpus/forward/.
#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ppo::fuzz::fuzz_forward(data, size);
    return 0;
}
