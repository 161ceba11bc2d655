// MailSource over IMAP with libetpan: imaps://, or imap:// upgraded with
// STARTTLS. The server's certificate chain and host name are verified (see
// tls_policy.h) before LOGIN or AUTHENTICATE is sent; without STARTTLS the
// password goes in clear only to a loopback peer or with `allow_plaintext`
// (tls_policy.h's plaintext_verdict). A refused certificate or a missing
// STARTTLS is a ppo::Error of kind config. LOGIN or AUTHENTICATE PLAIN; IDLE when
// advertised; MOVE when advertised, else UID COPY + \Deleted + UID EXPUNGE
// (UIDPLUS) or EXPUNGE. Folder names from the config use '/' between levels and
// are mapped to the server's own delimiter (LIST "" "").
// Namespaces (RFC 2342): when NAMESPACE is advertised, the configured mailbox
// and folders are relative to the personal namespace: "PPO/Traites" with prefix
// "INBOX." and delimiter '.' is "INBOX.PPO.Traites"; a name that already starts
// with the prefix, or with INBOX, is taken as it is. The resolved names are
// logged (info) once, and again only when they change.
// A server's lasting refusal of a configured name (NO to CREATE of a folder,
// or to SELECT of the mailbox, without a try-later code) is a ppo::Error of
// kind config naming the server's words and the [imap] key to change; a
// dropped connection, BYE, a timeout or a try-later code stays transient.
// list() asks for UID, RFC822.SIZE and INTERNALDATE only (MessageSummary's
// message_id stays empty): no message's content can stop the listing.
// fetch(): after a dropped connection (or BYE) it reconnects and goes on one
// message at a time; a message the server cannot hand over (NO twice, or the
// connection dropped twice on it alone) is remembered as unreadable for the
// object's lifetime: fetch() then throws ppo::Error permanent for any set
// holding it, without asking the server again, and fetch({uid}) alone says why
// (the workflow quarantines it; the others go on); move() leaves it where it
// is (in the mailbox).
// Not thread-safe except for interrupt().
#pragma once

#include "workflow/ports/ports.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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

// What open() found out, for the pre-flight check and the logs.
struct ImapSessionInfo {
    std::string capabilities;          // the CAPABILITY list after login, space-separated
    bool tls = false;                  // the session is encrypted (imaps:// or STARTTLS)
    bool has_namespace = false;        // NAMESPACE advertised and answered
    std::string personal_prefix;       // the personal namespace's prefix ("" when none)
    char delimiter = 0;                // the hierarchy delimiter (0: flat)
    std::string mailbox;               // the configured mailbox as the server names it
    std::string folders[3];            // processed, triage, ignored as the server names them
    std::vector<std::string> created;  // mailboxes this open() created
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
    bool uidplus_supported() const;   // after open()
    const ImapSessionInfo& session_info() const;   // after open()

    // New names for the mailbox and the folders (a reloaded configuration):
    // the session is closed, the next open() resolves and checks them.
    void set_folders(const std::string& mailbox, const std::string& processed, const std::string& triage,
                     const std::string& ignored);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ppo::daemon
