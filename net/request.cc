#include "net/request.h"

#include <cassert>

#include "net/server_session.h"
#include "net/server_worker.h"

namespace kvring::net {

using base::Status;

const PeerInfo& Request::peer() const { return session_->peer(); }

void Request::ReplyOk(std::string_view payload) {
  std::string* out = BeginOkReply();
  out->append(payload.data(), payload.size());
  EndReply();
}

void Request::ReplyError(const Status& status, std::string_view payload) {
  assert(state_ == State::kOpen);
  assert(!status.ok());
  std::string* out = session_->output();
  size_t start = BeginFrame(out, frame_.opcode, kFlagReply, frame_.request_id);
  AppendStatus(out, status);
  out->append(payload.data(), payload.size());
  FinishFrame(out, start);
  state_ = State::kAnswered;
  session_->ReplyAppended();
}

void Request::Reply(const Status& status, std::string_view payload) {
  if (status.ok()) {
    ReplyOk(payload);
  } else {
    ReplyError(status, payload);
  }
}

std::string* Request::BeginOkReply() {
  assert(state_ == State::kOpen);
  std::string* out = session_->output();
  reply_start_ = BeginFrame(out, frame_.opcode, kFlagReply, frame_.request_id);
  out->push_back(static_cast<char>(Status::Code::kOk));
  state_ = State::kBuilding;
  return out;
}

void Request::EndReply() {
  assert(state_ == State::kBuilding);
  FinishFrame(session_->output(), reply_start_);
  state_ = State::kAnswered;
  session_->ReplyAppended();
}

Responder Request::Defer() {
  assert(state_ == State::kOpen);
  state_ = State::kDeferred;
  session_->NoteDeferred();
  return Responder(session_->worker()->handle(), session_->peer().connection_id, frame_.opcode,
                   frame_.request_id);
}

void Responder::Reply(const Status& status, std::string_view payload) const {
  if (handle_ != nullptr) handle_->Post(connection_id_, opcode_, request_id_, status, payload);
}

}  // namespace kvring::net
