#include "net/loop_thread.h"

#include <cassert>
#include <future>

#include "base/thread_pool.h"

namespace kvring::net {

base::Result<std::unique_ptr<LoopThread>> LoopThread::Start(const std::string& name, base::Clock* clock,
                                                            base::Logger* logger) {
  auto loop = EventLoop::Create(clock, logger);
  if (!loop.ok()) return loop.status();
  std::unique_ptr<LoopThread> t(new LoopThread(std::move(loop.value())));
  std::promise<void> running;
  std::future<void> started = running.get_future();
  EventLoop* l = t->loop_.get();
  // The first queued function runs inside Run(), after the loop adopted the thread.
  l->QueueInLoop([&running] { running.set_value(); });
  t->thread_ = std::thread([l, name] {
    base::NameCurrentThread(name);
    l->Run();
  });
  started.wait();
  return t;
}

LoopThread::~LoopThread() { Stop(); }

void LoopThread::Stop() {
  if (!thread_.joinable()) return;
  assert(!loop_->IsInLoopThread());
  loop_->Stop();
  thread_.join();
}

}  // namespace kvring::net
