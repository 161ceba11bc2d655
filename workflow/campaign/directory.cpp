#include "workflow/campaign/directory.h"
#include "parsers/mime/address.h"
#include "parsers/text/strings.h"

#include <algorithm>
#include <cctype>

namespace ppo::workflow {

namespace {

using text::lower;
using text::upper;
std::string domain_of(const std::string& address) { return parsers::address_domain(address); }

}  // namespace

Directory::Directory(std::vector<Lycee> lycees, std::vector<Bassin> bassins)
    : lycees_(std::move(lycees)), bassins_(std::move(bassins)) {
    for (std::size_t i = 0; i < lycees_.size(); ++i) {
        by_uai_[upper(lycees_[i].uai)] = i;
        if (!lycees_[i].mail.empty()) {
            by_mail_[lower(lycees_[i].mail)] = i;
            by_domain_.emplace(domain_of(lycees_[i].mail), i);
        }
    }
    for (std::size_t i = 0; i < bassins_.size(); ++i) bassin_by_code_[bassins_[i].code] = i;
}

const Lycee* Directory::by_uai(const std::string& uai) const {
    auto it = by_uai_.find(upper(uai));
    return it == by_uai_.end() ? nullptr : &lycees_[it->second];
}

const Lycee* Directory::by_mail(const std::string& address) const {
    auto it = by_mail_.find(lower(address));
    return it == by_mail_.end() ? nullptr : &lycees_[it->second];
}

const Bassin* Directory::bassin(const std::string& code) const {
    auto it = bassin_by_code_.find(code);
    return it == bassin_by_code_.end() ? nullptr : &bassins_[it->second];
}

std::vector<const Lycee*> Directory::by_mail_domain(const std::string& domain) const {
    std::vector<const Lycee*> out;
    auto [first, last] = by_domain_.equal_range(lower(domain));
    for (auto it = first; it != last; ++it) out.push_back(&lycees_[it->second]);
    return out;
}

bool Directory::has_mail_domain(const std::string& domain) const {
    return by_domain_.count(lower(domain)) > 0;
}

}  // namespace ppo::workflow
