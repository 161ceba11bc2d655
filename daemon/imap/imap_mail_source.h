// MailSource over IMAP with libetpan: imaps://, or imap:// upgraded with
// STARTTLS. The server's certificate chain and host name are verified (see
// tls_policy.h) before LOGIN or AUTHENTICATE is sent; without STARTTLS the
// password goes in clear only to a loopback peer or with `allow_plaintext`
// (tls_policy.h's plaintext_verdict). A refused certificate or a missing
// STARTTLS is a ppo::Error of kind config. LOGIN or AUTHENTICATE PLAIN; IDLE when
// advertised; MOVE when advertised, else UID COPY + \Deleted + UID EXPUNGE
// (UIDPLUS) or EXPUNGE. Folder names from the config use '/' between levels and
// are mapped to the server's own delimiter (LIST "" "").
// Not thread-safe except for interrupt().
#pragma once

#include "workflow/ports/ports.h"

#include <cstdint>
#include <memory>
#include <string>

namespace ppo::daemon {

struct ImapSettings {
    std::string host;
    int port = 143;
    bool implicit_tls = false;      // imaps://
    bool tls_required = false;      // no plaintext LOGIN even to a loopback peer
    bool allow_plaintext = false;   // plaintext LOGIN to any peer when STARTTLS is not offered
    bool verify_certificate = true; // chain and host name
    std::string ca_file;            // PEM CAs to trust instead of the system's
    std::string user;
    std::string password;
    std::string mailbox = "INBOX";
    std::string processed_folder = "PPO/Traites";
    std::string triage_folder = "PPO/A-trier";
    std::string ignored_folder = "PPO/Ignores";
    int poll_interval_seconds = 60;
    int timeout_seconds = 60;       // socket timeout
    // Messages larger than `stream_above` bytes (as list() sized them) are
    // fetched a piece at a time (BODY.PEEK[]<offset.length>) into an unlinked
    // file in `spool_dir` and handed over mapped (FetchedMessage::mapped):
    // held in memory neither twice nor whole. Empty `spool_dir`: $TMPDIR or /tmp.
    std::string spool_dir;
    std::uint64_t stream_above = 4u << 20;
    std::uint32_t stream_chunk = 1u << 20;
};

class ImapMailSource final : public workflow::MailSource {
public:
    explicit ImapMailSource(ImapSettings settings);
    ~ImapMailSource() override;
    std::uint32_t open() override;
    std::vector<workflow::MessageSummary> list(std::uint32_t after_uid) override;
    std::vector<workflow::FetchedMessage> fetch(const std::vector<std::uint32_t>& uids) override;
    void move(const std::vector<std::uint32_t>& uids, workflow::Folder folder) override;
    void wait(std::chrono::seconds timeout) override;
    void interrupt() override;
    void close() override;

    bool idle_supported() const;   // after open()
    bool move_supported() const;   // after open()

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ppo::daemon
