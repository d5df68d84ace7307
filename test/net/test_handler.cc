#include "test/net/test_handler.h"

#include "base/clock.h"
#include "base/coding.h"

namespace kvring::net::testing {

using base::Status;

std::string DelayedBody(uint32_t delay_ms, std::string_view echo) {
  std::string body;
  base::PutFixed32(&body, delay_ms);
  body.append(echo);
  return body;
}

std::string Fixed32Body(uint32_t v) {
  std::string body;
  base::PutFixed32(&body, v);
  return body;
}

TestHandler::TestHandler() : background_([this] { BackgroundLoop(); }) {}

TestHandler::~TestHandler() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  background_.join();
}

size_t TestHandler::AnswerNever() {
  std::vector<Responder> never;
  {
    std::lock_guard<std::mutex> lock(mu_);
    never.swap(never_);
  }
  for (const Responder& r : never) r.ReplyOk("late");
  return never.size();
}

size_t TestHandler::distinct_threads() {
  std::lock_guard<std::mutex> lock(mu_);
  return threads_.size();
}

void TestHandler::OnRequest(Request& request) {
  requests_.fetch_add(1);
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads_.insert(std::this_thread::get_id());
  }
  std::string_view body = request.body();
  switch (request.opcode()) {
    case static_cast<uint8_t>(Opcode::kPing):
    case kEcho:
      request.ReplyOk(body);
      return;
    case kBig: {
      if (body.size() != 4) break;
      std::string* out = request.BeginOkReply();
      out->append(base::DecodeFixed32(body.data()), 'b');
      request.EndReply();
      return;
    }
    case kBigLater: {
      if (body.size() != 4) break;
      Delayed d{0, request.Defer(), std::string(base::DecodeFixed32(body.data()), 'b')};
      {
        std::lock_guard<std::mutex> lock(mu_);
        queue_.push_back(std::move(d));
      }
      cv_.notify_all();
      return;
    }
    case kDeferThread: {
      if (body.size() < 4) break;
      uint64_t due = base::SystemClock::Get()->NowMicros() + base::DecodeFixed32(body.data()) * 1000ull;
      Delayed d{due, request.Defer(), std::string(body.substr(4))};
      {
        std::lock_guard<std::mutex> lock(mu_);
        queue_.push_back(std::move(d));
      }
      cv_.notify_all();
      return;
    }
    case kDeferTimer: {
      if (body.size() < 4 || server_ == nullptr) break;
      // The handler runs on the connection's loop: find it among the server's loops.
      EventLoop* loop = nullptr;
      for (int i = 0; i < server_->loop_count(); ++i) {
        if (server_->loop(i)->IsInLoopThread()) loop = server_->loop(i);
      }
      Responder r = request.Defer();
      std::string payload(body.substr(4));
      loop->RunAfter(base::DecodeFixed32(body.data()) * 1000ull, [r, payload] { r.ReplyOk(payload); });
      return;
    }
    case kNoAnswer:
      return;
    case static_cast<uint8_t>(Opcode::kGet): {
      GetRequest m;
      if (!DecodeGet(body, &m)) break;
      request.ReplyOk(m.key);
      return;
    }
    case static_cast<uint8_t>(Opcode::kPut): {
      PutRequest m;
      if (!DecodePut(body, &m)) break;
      request.ReplyOk(m.key);
      return;
    }
    case static_cast<uint8_t>(Opcode::kDelete): {
      DeleteRequest m;
      if (!DecodeDelete(body, &m)) break;
      request.ReplyOk(m.key);
      return;
    }
    case kWhoAmI: {
      const PeerInfo& p = request.peer();
      request.ReplyOk(p.address + (p.role == PeerRole::kNode ? " node " : " client ") + p.id);
      return;
    }
    case kNever: {
      std::lock_guard<std::mutex> lock(mu_);
      never_.push_back(request.Defer());
      return;
    }
    default:
      request.ReplyError(Status::NotSupported("unknown opcode " + std::to_string(request.opcode())));
      return;
  }
  request.ReplyError(Status::InvalidArgument("malformed test request body"));
}

void TestHandler::BackgroundLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    // Reply to everything due; sleep a little otherwise (delays are coarse in tests).
    uint64_t now = base::SystemClock::Get()->NowMicros();
    std::vector<Delayed> due;
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (it->due_us <= now) {
        due.push_back(std::move(*it));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
    lock.unlock();
    for (auto& d : due) d.responder.ReplyOk(d.payload);
    if (due.empty()) std::this_thread::sleep_for(std::chrono::microseconds(500));
    lock.lock();
  }
}

TestServer::TestServer(ServerOptions options) : options_(std::move(options)) {
  options_.listen = "127.0.0.1:0";
  if (options_.node_id.empty()) options_.node_id = "test-node";
}

TestServer::~TestServer() { Stop(); }

Status TestServer::Start() {
  // A restart reuses the first start's port, so clients can reconnect to it.
  options_.listen = "127.0.0.1:" + std::to_string(port_);
  server_.reset();
  server_ = std::make_unique<Server>(options_, &handler_);
  handler_.set_server(server_.get());
  Status s = server_->Start();
  if (s.ok()) port_ = server_->port();
  return s;
}

void TestServer::Stop(uint64_t drain_ms) {
  if (server_ != nullptr) server_->Shutdown(drain_ms);
}

}  // namespace kvring::net::testing
