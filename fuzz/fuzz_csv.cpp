// libFuzzer target: see fuzz_entries.h (fuzz_csv). Seeds in fuzz/corpus/csv/.
#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ppo::fuzz::fuzz_csv(data, size);
    return 0;
}
