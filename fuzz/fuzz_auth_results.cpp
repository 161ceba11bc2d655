// libFuzzer target: see fuzz_entries.h (fuzz_auth_results). Seeds in fuzz/corpus/auth_results/.
#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ppo::fuzz::fuzz_auth_results(data, size);
    return 0;
}
