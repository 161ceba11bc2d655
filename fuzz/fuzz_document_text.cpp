// libFuzzer target: see fuzz_entries.h (fuzz_document_text). Seeds in
// fuzz/corpus/document_text/: the first byte picks the kind.
#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ppo::fuzz::fuzz_document_text(data, size);
    return 0;
}
