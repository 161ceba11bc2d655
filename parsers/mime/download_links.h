// Links to file-sharing services in a message's text: the apps.education.fr
// Nuage, RENATER FileSender, France Transfert, and the commercial ones
// (WeTransfer, Google Drive, OneDrive/SharePoint, Dropbox, SwissTransfer...).
// A lycée whose PPO is over the 20 MB limit sends one instead of the file.
// Pure; nothing is ever downloaded.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ppo::parsers {

struct DownloadLink {
    std::string url;      // as written (http/https only), without surrounding <> or punctuation
    std::string host;     // lower-case host name
    std::string service;  // human name, e.g. "Nuage (apps.education.fr)", "FileSender (RENATER)"
};

// Every distinct link to a known file-sharing service, in order of appearance.
std::vector<DownloadLink> find_download_links(std::string_view text);

}  // namespace ppo::parsers
