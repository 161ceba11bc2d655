#include "bench/imap_server.h"

#include "bench/imap_mailbox.h"
#include "bench/tls_cert.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace ppo::testbench {

std::string imap_servers_root() {
    const char* env = std::getenv("PPO_IMAP_SERVERS_DIR");
    const std::string dir =
        env && *env ? std::string(env) : "/var/tmp/ppo-imap-servers-" + std::to_string(::getuid());   // the script's default
    const std::string script = std::string(PPO_SOURCE_DIR) + "/scripts/fetch-imap-servers.sh";
    const std::string log = detail::make_temp_dir("ppo-fetch-imap-");
    try {
        detail::run({"bash", script, dir}, log + "/fetch.log");
    } catch (const std::exception& e) {
        detail::remove_temp_dir(log);
        throw std::runtime_error(std::string("scripts/fetch-imap-servers.sh failed: ") + e.what());
    }
    detail::remove_temp_dir(log);
    return dir + "/root";
}

std::string ImapTestServer::url() const { return "imap://127.0.0.1:" + std::to_string(port_); }

std::uint32_t ImapTestServer::append(const std::string& raw_message, const std::string& mailbox) {
    return imap_append(login(), raw_message, mailbox, false);
}

void ImapTestServer::append_many(std::size_t count, const std::function<std::string(std::size_t)>& make,
                                 const std::string& mailbox) {
    imap_append_many(login(), count, make, mailbox);
}

std::size_t ImapTestServer::count(const std::string& mailbox) { return imap_count(login(), mailbox); }
std::vector<std::string> ImapTestServer::messages(const std::string& mailbox) { return imap_messages(login(), mailbox); }
void ImapTestServer::create_mailbox(const std::string& mailbox) { imap_create_mailbox(login(), mailbox); }
std::vector<std::string> ImapTestServer::mailboxes() { return imap_mailboxes(login()); }
std::string ImapTestServer::capabilities() { return imap_capabilities(login()); }
std::string ImapTestServer::namespaces() { return imap_namespaces(login()); }

}  // namespace ppo::testbench
