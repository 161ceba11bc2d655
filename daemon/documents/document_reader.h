// The daemon's DocumentReader: parses documents (parsers/document/document_text.h,
// parsers/mime/tnef.h) in child processes, never in the daemon's own, so that a
// hostile PDF costs at most the configured time and memory.
//
// A child is `<worker_executable> document-worker ...` (the daemon's own
// binary), started with posix_spawn (no fork of a threaded process). It sets
// its own RLIMIT_AS and RLIMIT_CPU, then reads requests on stdin and answers on
// stdout, one at a time, length-prefixed. A pool of children (one per calling
// thread at most) is kept between documents; a child that overruns its
// timeout is killed (SIGKILL) and replaced, as is one that dies.
#pragma once

#include "parsers/document/document_text.h"
#include "parsers/mime/tnef.h"
#include "workflow/ports/ports.h"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace ppo::daemon {

struct DocumentLimits {
    std::chrono::milliseconds timeout{10000};        // wall time per document
    std::size_t memory_bytes = 512u * 1024 * 1024;   // address space of a child (not applied under ASan)
    parsers::TextLimits text;
    parsers::TnefLimits tnef;
    std::size_t workers = 2;                         // children kept at most
};

class SubprocessDocumentReader : public workflow::DocumentReader {
public:
    SubprocessDocumentReader(std::string worker_executable, DocumentLimits limits);
    ~SubprocessDocumentReader() override;
    parsers::DocumentText read_text(parsers::DocumentKind kind, std::string_view data) override;
    parsers::TnefContent unpack_tnef(std::string_view data) override;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

// Whether the children run under RLIMIT_AS (memory_bytes). Not in a build
// with AddressSanitizer, whose shadow memory needs terabytes of address space:
// there only the timeout, RLIMIT_CPU and the parent's caps bound a child.
bool document_memory_limit_applied();

// The child's main loop (`ppo-intake document-worker`): applies the limits to
// itself, then serves requests until stdin closes. Returns the exit status.
int run_document_worker(int argc, char** argv);

}  // namespace ppo::daemon
