// libFuzzer target: see fuzz_entries.h (fuzz_tnef). Seeds in fuzz/corpus/tnef/.
#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ppo::fuzz::fuzz_tnef(data, size);
    return 0;
}
