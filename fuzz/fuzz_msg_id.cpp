// libFuzzer target: see fuzz_entries.h (fuzz_msg_id). Seeds in fuzz/corpus/msg_id/.
#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ppo::fuzz::fuzz_msg_id(data, size);
    return 0;
}
