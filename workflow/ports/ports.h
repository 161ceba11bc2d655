// The narrow ports through which the workflow meets the world. The daemon
// implements them with libetpan (IMAP), Poco::Net (SMTP) and the system clock;
// unit tests implement them with fakes. Errors are ppo::Error: transient ones
// (connection lost, server busy) are retried by the caller with backoff.
#pragma once

#include "parsers/document/document_text.h"
#include "parsers/mime/tnef.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ppo::workflow {

// Where a handled message is filed in the mailbox.
enum class Folder { processed, triage, ignored };

struct MessageSummary {
    std::uint32_t uid = 0;
    std::uint64_t size = 0;       // RFC822.SIZE
    std::string message_id;       // Message-ID header with <>, "" if none
};

// A message kept in a file rather than in memory (a big one), mapped read-only.
// release() says a range will not be read again soon: its pages may leave
// memory (read again, they come back from the file).
class MappedMessage {
public:
    virtual ~MappedMessage() = default;
    virtual std::string_view bytes() const = 0;
    virtual void release(const char* from, const char* to) const = 0;
};

struct FetchedMessage {
    std::uint32_t uid = 0;
    std::string raw;              // the whole message, BODY.PEEK[] (never sets \Seen)
    std::int64_t internal_date = 0;  // INTERNALDATE (arrival at the server), seconds since the epoch; 0 if unknown
    // Set instead of `raw` for a message too big to hold in memory twice:
    // fetched a piece at a time into a file.
    std::shared_ptr<const MappedMessage> mapped;

    std::string_view bytes() const { return mapped ? mapped->bytes() : std::string_view(raw); }
};

class MailSource {
public:
    virtual ~MailSource() = default;
    // (Re)connects if needed, selects the configured mailbox, creates the three
    // folders when missing, and returns the mailbox's UIDVALIDITY.
    virtual std::uint32_t open() = 0;
    // Every message now in the mailbox with UID > after_uid, in UID order.
    virtual std::vector<MessageSummary> list(std::uint32_t after_uid) = 0;
    // Fetches the given messages in one pipelined command; a UID that vanished is
    // simply absent from the result.
    virtual std::vector<FetchedMessage> fetch(const std::vector<std::uint32_t>& uids) = 0;
    // Moves the messages to the folder (MOVE, or COPY + \Deleted + UID EXPUNGE).
    virtual void move(const std::vector<std::uint32_t>& uids, Folder folder) = 0;
    // Blocks until the server reports new mail (IDLE) or `timeout` passes (or,
    // without IDLE, simply sleeps for the poll interval). Returns early when
    // `interrupt()` is called from another thread or a signal handler.
    virtual void wait(std::chrono::seconds timeout) = 0;
    virtual void interrupt() = 0;
    virtual void close() = 0;
};

struct OutgoingMail {
    std::string envelope_from;                 // addr-spec
    std::vector<std::string> recipients;       // addr-specs (To + Cc)
    std::string data;                          // the complete RFC 5322 message, CRLF line ends
    std::string key;                           // names the mail in errors ("outbox 12"); may be empty
    // When set, the message is what this writes through `emit`, a piece at a
    // time (`data` then holds it with its files as references: the same header
    // section, and no 8-bit byte the pieces lack), `size` bytes in all: a
    // forward's files go to the server without being held whole in memory.
    std::function<void(const std::function<void(std::string_view)>& emit)> write_data;
    std::uint64_t size = 0;
    // When set, called right before the end of the DATA (the final "."): from
    // there until the mail is marked sent, a crash duplicates it. The outbox's
    // connections take one lock there, released once the mail is marked, so
    // that at most one mail per process is ever in that window.
    std::function<void()> before_end_of_data;
};

class MailSender {
public:
    virtual ~MailSender() = default;
    // Sends one message over the current connection, opening it if needed.
    // Throws ppo::Error: transient for 4xx replies and network errors, permanent
    // for 5xx replies.
    virtual void send(const OutgoingMail& mail) = 0;
    // Ends the SMTP session politely (QUIT). Safe to call when not connected.
    virtual void close() = 0;
};

// Reads a stranger's documents. The daemon's implementation
// (daemon/documents/document_reader.h) runs the parsers in a child process with CPU,
// memory and time limits; a document that hangs, crashes or exhausts memory
// costs at most those limits and comes back with `error` set. Thread-safe;
// never throws for the document's sake (only ppo::Error transient when no
// child process can be started at all).
class DocumentReader {
public:
    virtual ~DocumentReader() = default;
    virtual parsers::DocumentText read_text(parsers::DocumentKind kind, std::string_view data) = 0;
    virtual parsers::TnefContent unpack_tnef(std::string_view data) = 0;
};

class Clock {
public:
    virtual ~Clock() = default;
    virtual std::chrono::system_clock::time_point now() const = 0;
};

}  // namespace ppo::workflow
