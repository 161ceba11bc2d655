// libFuzzer target: see fuzz_entries.h (fuzz_mime). Seeds in fuzz/corpus/mime/.
#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ppo::fuzz::fuzz_mime(data, size);
    return 0;
}
