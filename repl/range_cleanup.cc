#include "repl/range_cleanup.h"

#include <memory>

#include "repl/aae_ranges.h"
#include "repl/leaf_source.h"

namespace kvring::repl {

using base::Status;

namespace {

// Deletes `ranges` from the engine in one call (blocking: one manifest write).
Status DeleteRanges(lsm::DB* db, const std::vector<ring::TokenRange>& ranges) {
  std::vector<lsm::KeyRange> keys;
  for (const ring::TokenRange& range : ranges) {
    for (const PrefixInterval& interval : IntervalsOf(range)) {
      keys.push_back({PrefixKey(interval.begin), interval.end == 0 ? std::string() : PrefixKey(interval.end)});
    }
  }
  return db->DeleteRanges(keys);
}

ring::TokenCount Width(const std::vector<ring::TokenRange>& ranges) {
  ring::TokenCount w = 0;
  for (const ring::TokenRange& r : ranges) w += r.span();
  return w;
}

}  // namespace

RangeCleaner::RangeCleaner(CleanupOptions options, lsm::DB* db, const ring::MembershipView* view, Executor* loop,
                           Executor* io, base::Clock* clock, base::Logger* logger)
    : options_(std::move(options)),
      db_(db),
      view_(view),
      loop_(loop),
      io_(io),
      clock_(clock),
      logger_(logger),
      alive_(std::make_shared<bool>(true)) {}

void RangeCleaner::Run(Done done) {
  if (view_->Transition() != nullptr) {
    return done(Status::Busy("the cluster is in transition: cleanup waits until the change is done (the ring "
                             "after it may give the ranges back)"),
                {});
  }
  if (running_) return done(Status::Busy("a cleanup runs"), {});
  // A node missing from its own ring (one that left, or a view not yet built)
  // would delete everything: never on that evidence alone.
  if (view_->Current()->FindNode(options_.self) == nullptr) {
    return done(Status::InvalidArgument(options_.self + " is not a member of the ring in force: cleanup deletes only "
                                        "the ranges a member no longer replicates (a node that left the cluster "
                                        "keeps its data until its directory is wiped)"),
                {});
  }
  std::vector<ring::TokenRange> ranges = RangesReplicated(*view_->Current(), options_.self, /*replicated=*/false);
  running_ = true;
  io_->Post([this, db = db_, loop = loop_, alive = alive_, ranges = std::move(ranges), done = std::move(done)] {
    Status s = DeleteRanges(db, ranges);
    loop->Post([this, alive, s, ranges, done] {
      if (!*alive) return;
      running_ = false;
      if (s.ok() && !ranges.empty()) {
        stats_.runs++;
        stats_.ranges_deleted += ranges.size();
      }
      LOG_INFO(logger_, "cleanup: %s", s.ok() ? (std::to_string(ranges.size()) + " ranges deleted").c_str()
                                              : s.ToString().c_str());
      done(s, s.ok() ? ranges : std::vector<ring::TokenRange>());
    });
  });
}

void RangeCleaner::Tick() {
  if (options_.delay_us == 0) return;
  const std::shared_ptr<const ring::RingTransition> transition = view_->Transition();
  const uint64_t now = clock_->NowMicros();
  if (transition != nullptr) {
    // Remember what this node replicated before the change, once per change.
    if (!in_change_) replicated_width_ = Width(RangesReplicated(transition->from(), options_.self, true));
    in_change_ = true;
    return;
  }
  if (in_change_) {
    in_change_ = false;
    if (Width(RangesReplicated(*view_->Current(), options_.self, true)) < replicated_width_) {
      due_us_ = now + options_.delay_us;
      LOG_INFO(logger_, "cleanup of the ranges this node gave up due in %llu s",
               static_cast<unsigned long long>(options_.delay_us / 1'000'000));
    }
  }
  if (due_us_ == 0 || now < due_us_ || running_) return;
  due_us_ = 0;
  Run([this](Status s, std::vector<ring::TokenRange>) {
    // A run logs what it did; a refusal (a new change, not a member) would be silent.
    if (s.IsBusy() || s.IsInvalidArgument()) LOG_WARN(logger_, "automatic cleanup refused: %s", s.ToString().c_str());
  });
}

}  // namespace kvring::repl
