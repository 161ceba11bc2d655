// libFuzzer target: see fuzz_entries.h (fuzz_identify). Seeds in fuzz/corpus/identify/.
#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ppo::fuzz::fuzz_identify(data, size);
    return 0;
}
