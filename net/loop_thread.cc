#include "net/loop_thread.h"

#include <pthread.h>

#include <cassert>
#include <future>

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
  std::string thread_name = name.substr(0, 15);
  t->thread_ = std::thread([l, thread_name] {
    pthread_setname_np(pthread_self(), thread_name.c_str());
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
