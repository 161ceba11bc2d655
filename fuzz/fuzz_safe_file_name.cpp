// libFuzzer target: see fuzz_entries.h (fuzz_safe_file_name). Seeds in fuzz/corpus/safe_file_name/.
#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ppo::fuzz::fuzz_safe_file_name(data, size);
    return 0;
}
