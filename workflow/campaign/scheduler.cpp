#include "workflow/campaign/scheduler.h"
#include "workflow/mail/replies.h"
#include "parsers/text/strings.h"

#include "parsers/text/error.h"
#include "workflow/campaign/campaign_time.h"
#include "workflow/status/digest.h"
#include "workflow/mail/mail_builder.h"
#include "workflow/status/views.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <set>

namespace ppo::workflow {

namespace {

using text::lower;

// The last offset has no next one to end it: it stays current this long after
// its instant, so a daemon restarted weeks later sends no stale reminder.
constexpr std::int64_t kLastReminderWindow = 7 * 86400;
// How far ahead next_due looks for a digest slot (a whole week and a day).
constexpr int kDigestLookaheadDays = 8;

std::string official_address(const Lycee& l) {
    if (!l.mail.empty()) return lower(l.mail);
    auto d = Config::academie_domain(l.academie);
    return d.empty() ? std::string() : "ce." + lower(l.uai) + "@" + d;
}

std::vector<int> sorted_offsets(const CampaignConfig& c) {
    std::vector<int> offsets = c.reminders;
    std::sort(offsets.begin(), offsets.end());
    offsets.erase(std::unique(offsets.begin(), offsets.end()), offsets.end());
    return offsets;
}

std::int64_t reminder_instant(const CampaignConfig& c, int offset) {
    return local_instant(c.deadline, offset, c.reminder_minutes, c.timezone);
}

// The offset due at `now`: the latest whose instant has come, as long as the
// next one has not (then that one is due instead).
std::optional<int> due_offset(const CampaignConfig& c, std::int64_t now) {
    auto offsets = sorted_offsets(c);
    for (std::size_t i = offsets.size(); i-- > 0;) {
        auto at = reminder_instant(c, offsets[i]);
        if (at > now) continue;
        if (i + 1 == offsets.size() && now >= at + kLastReminderWindow) return std::nullopt;
        return offsets[i];
    }
    return std::nullopt;
}

// The digest slot of `now` (its local date), if `now` is on a digest day at or
// after the digest time.
std::optional<std::string> digest_slot(const Config& config, std::int64_t now) {
    const auto& tz = config.campaign.timezone;
    if (!config.digest.days.count(local_weekday(now, tz))) return std::nullopt;
    std::string day = local_date(now, tz);
    if (now < local_instant(day, 0, config.digest.minutes, tz)) return std::nullopt;
    return day;
}

template <class F>
void in_transaction(Store& store, F&& f) {
    store.begin();
    try {
        f();
        store.commit();
    } catch (...) {
        try {
            store.rollback();
        } catch (...) {
            // The original error is the one worth reporting.
        }
        throw;
    }
}

void run_reminders(const Config& config, Store& store, const Templates& templates, const Directory& directory,
                   std::int64_t campaign_id, std::int64_t now, bool dry_run, std::vector<ScheduledAction>& actions) {
    const auto& c = config.campaign;
    auto offset = due_offset(c, now);
    if (!offset) return;
    const int off = *offset;
    const std::string key = offset_label(off);

    std::set<std::string> submitted;
    for (const auto& m : store.submissions(campaign_id)) submitted.insert(m.uai);

    for (const auto& l : directory.lycees()) {
        if (!l.open || submitted.count(l.uai)) continue;
        if (store.reminder_recorded(campaign_id, l.uai, off)) continue;

        const std::string to = official_address(l);
        if (to.empty()) {
            spdlog::warn("reminder J{}: UAI {}: no address (no directory mail, unknown académie {}); skipped", key, l.uai,
                         l.academie);
            continue;
        }
        std::vector<std::string> cc;
        if (off > 0) {
            const Bassin* b = directory.bassin(l.bassin_code);
            if (b && !b->ien_io_mail.empty() && lower(b->ien_io_mail) != to) cc.push_back(b->ien_io_mail);
            else spdlog::warn("reminder J{}: UAI {}: bassin '{}' has no IEN-IO to copy", key, l.uai, l.bassin_code);
        }

        TemplateValues v = lycee_values(config, l);
        v["echeance"] = french_date(c.deadline);
        std::string name = "reminder";
        if (off > 0) {
            name = "reminder_late";
            v["jours_retard"] = std::to_string(off);
            v["delai"] = std::to_string(off) + (off > 1 ? " jours" : " jour");
        } else {
            v["jours_restants"] = std::to_string(-off);
            v["delai"] = std::to_string(-off) + (-off > 1 ? " jours" : " jour");
        }
        auto t = templates.render(name, v);

        ScheduledAction action;
        action.kind = "reminder";
        action.key = key;
        action.uai = l.uai;
        action.recipients = {to};
        action.recipients.insert(action.recipients.end(), cc.begin(), cc.end());
        action.subject = t.subject;
        if (dry_run) {
            actions.push_back(std::move(action));
            continue;
        }

        MailSpec spec;
        spec.from = config.smtp.from;
        spec.to = {to};
        spec.cc = cc;
        spec.subject = t.subject;
        spec.text = t.body;
        spec.date = now;
        spec.message_id = make_message_id(config.intake.message_id_domain, now);
        spec.auto_submitted = "auto-generated";
        spec.extra_headers = {{"X-Loop", config.smtp.from_address}, {"X-PPO-UAI", l.uai}, {"X-PPO-Reminder", key}};

        OutboxMail mail;
        mail.campaign_id = campaign_id;
        mail.kind = "reminder";
        mail.uai = l.uai;
        mail.dedupe_key = "reminder:" + std::to_string(campaign_id) + ":" + l.uai + ":" + std::to_string(off);
        mail.envelope_from = config.smtp.from_address;
        mail.recipients = action.recipients;
        mail.data = build_mail(spec);
        mail.message_id = spec.message_id;
        mail.next_attempt_at = now;
        mail.created_at = now;

        bool queued = false;
        // One transaction per lycée: a failure leaves the others' reminders
        // queued and recorded, and this one to the next pass.
        in_transaction(store, [&] {
            // Checked again inside the transaction: another process may have
            // queued it meanwhile.
            if (store.reminder_recorded(campaign_id, l.uai, off)) return;
            auto id = store.enqueue(mail);
            store.record_reminder(campaign_id, l.uai, off, id, now);
            queued = true;
        });
        if (queued) {
            spdlog::info("reminder J{} queued for UAI {} to {}", key, l.uai, mail.recipients.front());
            actions.push_back(std::move(action));
        }
    }
}

void run_digest(const Config& config, Store& store, const Templates& templates, const Directory& directory,
                std::int64_t campaign_id, std::int64_t now, bool dry_run, std::vector<ScheduledAction>& actions) {
    if (!config.digest.enabled) return;
    auto slot = digest_slot(config, now);
    if (!slot || store.digest_recorded(campaign_id, *slot)) return;
    if (config.digest.to.empty()) {
        spdlog::warn("digest {}: no recipient ([digest] to is empty); skipped", *slot);
        return;
    }

    auto data = collect_digest(config, store, directory, campaign_id, now, store.last_digest_at(campaign_id));
    ScheduledAction action;
    action.kind = "digest";
    action.key = *slot;
    action.recipients = config.digest.to;
    action.subject = digest_subject(data);
    if (dry_run) {
        actions.push_back(std::move(action));
        return;
    }

    MailSpec spec;
    spec.from = config.smtp.from;
    spec.to = config.digest.to;
    spec.subject = action.subject;
    spec.text = digest_text(data, templates.views());
    spec.html = digest_html(data, templates.views());
    spec.date = now;
    spec.message_id = make_message_id(config.intake.message_id_domain, now);
    spec.auto_submitted = "auto-generated";
    spec.extra_headers = {{"X-Loop", config.smtp.from_address}, {"X-PPO-Digest", *slot}};
    spec.attachments.push_back({digest_csv_name(data), "text/csv; charset=UTF-8", status_csv(data.status), ""});

    OutboxMail mail;
    mail.campaign_id = campaign_id;
    mail.kind = "digest";
    mail.dedupe_key = "digest:" + std::to_string(campaign_id) + ":" + *slot;
    mail.envelope_from = config.smtp.from_address;
    mail.recipients = config.digest.to;
    mail.data = build_mail(spec);
    mail.message_id = spec.message_id;
    mail.next_attempt_at = now;
    mail.created_at = now;

    bool queued = false;
    in_transaction(store, [&] {
        if (store.digest_recorded(campaign_id, *slot)) return;
        auto id = store.enqueue(mail);
        store.record_digest(campaign_id, *slot, id, now);
        queued = true;
    });
    if (queued) {
        spdlog::info("digest {} queued to {} recipient(s): {}", *slot, mail.recipients.size(), action.subject);
        actions.push_back(std::move(action));
    }
}

}  // namespace

std::vector<ScheduledAction> run_scheduled(const Config& config, Store& store, const Templates& templates,
                                           const Directory& directory, std::int64_t campaign_id, std::int64_t now,
                                           bool dry_run) {
    std::vector<ScheduledAction> actions;
    run_reminders(config, store, templates, directory, campaign_id, now, dry_run, actions);
    run_digest(config, store, templates, directory, campaign_id, now, dry_run, actions);
    return actions;
}

std::int64_t next_due(const Config& config, std::int64_t now) {
    const auto& c = config.campaign;
    std::int64_t best = std::numeric_limits<std::int64_t>::max();
    for (int off : sorted_offsets(c)) {
        auto at = reminder_instant(c, off);
        if (at > now) best = std::min(best, at);
    }
    if (config.digest.enabled && !config.digest.days.empty()) {
        const std::string today = local_date(now, c.timezone);
        for (int d = 0; d <= kDigestLookaheadDays; ++d) {
            // The weekday of the local date today + d, read at its noon.
            if (!config.digest.days.count(local_weekday(local_instant(today, d, 12 * 60, c.timezone), c.timezone)))
                continue;
            auto at = local_instant(today, d, config.digest.minutes, c.timezone);
            if (at > now) {
                best = std::min(best, at);
                break;
            }
        }
    }
    // Nothing scheduled any more: look again in a day.
    if (best == std::numeric_limits<std::int64_t>::max()) best = now + 86400;
    return best;
}

}  // namespace ppo::workflow
