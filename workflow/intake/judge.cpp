#include "workflow/intake/judge.h"
#include "parsers/text/strings.h"

#include <algorithm>

namespace ppo::workflow {

namespace {

using text::join;

// Unidentified because the evidence disagrees or is refused (two lycées, a bad
// check letter, an unauthenticated sender), not because there is none: the
// message goes to triage whatever else points somewhere.
bool blocked(const Identification& id) { return !id.identified && !id.reason.empty() && id.reason.rfind("no evidence", 0) != 0; }

// Strongest first: what the message itself proves, then a lycée's own mail
// carried inside it, then our mail it answers, then mentions, then what the
// documents' letterheads say.
int rank(const std::string& identified_by) {
    static const std::vector<std::string> order = {"sender", "forwarded", "thread", "uai", "name", "document"};
    auto it = std::find(order.begin(), order.end(), identified_by);
    return static_cast<int>(it - order.begin());
}

// Every lycée indicated, with what indicated it, and what blocks a verdict.
struct Evidence {
    std::vector<std::string> evidence;
    std::vector<std::string> blockers;
    std::vector<std::pair<std::string, std::string>> votes;   // (UAI, kind of evidence)
    std::vector<std::string> lycees;                          // distinct, in order

    void vote(const std::string& uai, const std::string& by) {
        votes.emplace_back(uai, by);
        if (std::find(lycees.begin(), lycees.end(), uai) == lycees.end()) lycees.push_back(uai);
    }
    std::string strongest() const {
        std::string best = votes.front().second;
        for (const auto& [uai, by] : votes)
            if (rank(by) < rank(best)) best = by;
        return best;
    }
    std::string disagreement() const {
        std::vector<std::string> each;
        for (const auto& uai : lycees) {
            std::vector<std::string> by_labels;
            for (const auto& [u, by] : votes)
                if (u == uai && std::find(by_labels.begin(), by_labels.end(), by) == by_labels.end()) by_labels.push_back(by);
            each.push_back(uai + " (" + join(by_labels, ", ") + ")");
        }
        return "evidence for " + std::string(lycees.size() == 2 ? "two" : std::to_string(lycees.size())) +
               " lycées: " + join(each, ", ");
    }
};

// The message's own evidence, its forwarded messages' and its thread's.
Evidence collect_evidence(const MessageFacts& f, const Known& known, const JudgeContext& ctx) {
    Evidence ev;
    ev.evidence = f.own.evidence;
    if (blocked(f.own)) ev.blockers.push_back(f.own.reason);
    if (f.own.identified) ev.vote(f.own.uai, f.own.identified_by);
    for (const auto& fw : f.forwarded) {
        for (const auto& e : fw.evidence) ev.evidence.push_back("forwarded: " + e);
        if (fw.identified) ev.vote(fw.uai, "forwarded");
        else if (blocked(fw)) ev.blockers.push_back("forwarded message: " + fw.reason);
    }
    for (const auto& uai : known.thread_uais) {
        if (ctx.directory == nullptr || ctx.directory->by_uai(uai) == nullptr) continue;   // closed since, or another campaign
        ev.evidence.push_back("thread: replies to our mail to " + uai);
        ev.vote(uai, "thread");
    }
    return ev;
}

}  // namespace

std::string folder_of(const std::string& outcome) {
    if (outcome == "submission") return "processed";
    if (outcome == "ignored" || outcome == "duplicate") return "ignored";
    return "triage";
}

Verdict quarantine(const std::string& reason) {
    Verdict v;
    v.outcome = "quarantined";
    v.reason = reason;
    v.folder = folder_of(v.outcome);
    return v;
}

Verdict judge_oversized(const MessageSummary& s, std::uint64_t max_message_size) {
    return quarantine("message of " + std::to_string(s.size) + " bytes exceeds max_message_size (" +
                      std::to_string(max_message_size) + ")");
}

Verdict judge_unfetchable(const MessageSummary& s, const std::string& error) {
    return quarantine("the IMAP server cannot deliver this message (uid " + std::to_string(s.uid) + "): " + error);
}

Verdict judge(const MessageFacts& f, const Known& known, const JudgeContext& ctx) {
    if (!f.unreadable.empty()) return quarantine(f.unreadable);

    if (!known.same_content.empty()) {
        // Never moved and recorded under another UIDVALIDITY: this very message,
        // seen again after the server renumbered the mailbox.
        for (const auto& m : known.same_content) {
            if (!m.moved && m.mailbox == f.base.mailbox && m.uidvalidity != ctx.uidvalidity) {
                Verdict v;
                v.action = Verdict::Action::refile;
                v.refile_of = m.id;
                v.outcome = m.outcome;
                v.folder = m.folder;
                return v;
            }
        }
        // A copy of a quarantined message is judged afresh: that is how a
        // person retries one (moved back to the inbox once the cause is fixed).
        const auto first = std::find_if(known.same_content.begin(), known.same_content.end(),
                                        [](const MessageRecord& m) { return m.outcome != "quarantined"; });
        if (first != known.same_content.end()) {
            Verdict v;
            v.outcome = "duplicate";
            v.duplicate_of = first->duplicate_of != 0 ? first->duplicate_of : first->id;
            v.reason = "same content as message " + std::to_string(v.duplicate_of) + " (delivered again)";
            v.folder = folder_of(v.outcome);
            return v;
        }
    }

    if (!f.corrupt_reason.empty()) return quarantine("malformed message: " + f.corrupt_reason);

    Verdict v;
    if (!f.auto_reply.empty()) {
        v.outcome = "ignored";
        v.reason = f.auto_reply;
        v.folder = folder_of(v.outcome);
        return v;
    }
    v.keep_files = true;
    Evidence ev = collect_evidence(f, known, ctx);
    if (f.documents == 0) {
        v.outcome = "unidentified";
        v.folder = folder_of(v.outcome);
        if (f.links.empty()) {
            v.reason = "no document attached (" + std::to_string(f.attachments) + " other attachment(s))";
            return v;
        }
        // A link instead of the file: nothing is downloaded (links expire, and
        // a stranger's URL is not fetched); a person sees it in triage, and the
        // lycée, when the message names one, is asked for the file itself.
        std::vector<std::string> hosts;
        for (const auto& l : f.links) {
            const auto host = l.substr(0, l.find(' '));
            if (std::find(hosts.begin(), hosts.end(), host) == hosts.end()) hosts.push_back(host);
            v.links += (v.links.empty() ? "" : "\n") + l.substr(l.find(' ') + 1);
        }
        v.reason = "download link: " + join(hosts, ", ");
        v.evidence = join(ev.evidence, "; ");
        if (ev.blockers.empty() && ev.lycees.size() == 1) {
            v.uai = ev.lycees.front();
            v.identified_by = ev.strongest();
            v.send_link_reply = true;
        }
        return v;
    }
    if (ev.lycees.empty() && ev.blockers.empty()) {
        // Nothing in the message: what the documents' letterheads say.
        for (const auto& d : f.documents_named) {
            for (const auto& e : d.evidence) ev.evidence.push_back("document: " + e);
            if (d.identified) ev.vote(d.uai, "document");
            else if (blocked(d)) ev.blockers.push_back("document: " + d.reason);
        }
    }
    v.evidence = join(ev.evidence, "; ");
    if (ev.lycees.size() >= 2) ev.blockers.push_back(ev.disagreement());
    if (!ev.blockers.empty() || ev.lycees.empty()) {
        v.outcome = "unidentified";
        v.reason = !ev.blockers.empty() ? join(ev.blockers, "; ") : f.own.reason;
        v.folder = folder_of(v.outcome);
        return v;
    }
    v.outcome = "submission";
    v.uai = ev.lycees.front();
    v.identified_by = ev.strongest();
    v.late = f.base.received_at >= ctx.deadline_end;
    v.send_mails = true;
    v.folder = folder_of(v.outcome);
    return v;
}

}  // namespace ppo::workflow
