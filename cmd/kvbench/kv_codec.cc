#include "cmd/kvbench/kv_codec.h"

#include "base/coding.h"
#include "cmd/kvbench/resp_codec.h"
#include "net/hello_auth.h"

namespace kvring::cmd::kvbench {

using base::Status;
using net::Opcode;

namespace {
constexpr char kClientId[] = "kvbench";
uint8_t Op(Opcode op) { return static_cast<uint8_t>(op); }
}  // namespace

std::unique_ptr<ProtocolCodec> ProtocolCodec::Make(Protocol protocol, const std::string& cluster,
                                                   size_t max_in_flight, bool overwrite, bool strict,
                                                   const net::ClientCredentials* credentials) {
  if (protocol == Protocol::kRedis) return std::make_unique<RespCodec>(max_in_flight);
  return std::make_unique<KvCodec>(cluster, overwrite, strict, credentials);
}

bool KvCodec::AppendHandshake(std::string* out) {
  const bool with_user = credentials_ != nullptr && !credentials_->empty();
  nonce_ = with_user ? net::HelloNonce() : std::string();
  net::HelloRequest hello;
  hello.role = net::PeerRole::kClient;
  hello.cluster = cluster_;
  hello.id = kClientId;
  hello.nonce = nonce_;
  if (with_user) hello.user = credentials_->user;
  size_t start = net::BeginFrame(out, Op(Opcode::kHello), 0, kHelloTag);
  net::EncodeHello(out, hello);
  net::FinishFrame(out, start);
  return true;
}

void KvCodec::AppendHandshakeStep(std::string* out) {
  size_t start = net::BeginFrame(out, Op(Opcode::kAuth), 0, kHelloTag);
  out->append(auth_);
  net::FinishFrame(out, start);
}

void KvCodec::AppendGet(std::string* out, uint32_t tag, std::string_view key, uint8_t consistency) {
  net::GetRequest get;
  get.consistency = consistency;
  get.flags = strict_ ? net::kGetFlagStrict : 0;
  get.key = key;
  size_t start = net::BeginFrame(out, Op(Opcode::kGet), 0, tag);
  net::EncodeGet(out, get);
  net::FinishFrame(out, start);
}

void KvCodec::AppendPut(std::string* out, uint32_t tag, std::string_view key, std::string_view value,
                        std::string_view context, uint8_t consistency) {
  net::PutRequest put;
  put.consistency = consistency;
  put.flags = static_cast<uint8_t>((overwrite_ ? net::kWriteFlagOverwrite : 0) | (strict_ ? net::kWriteFlagStrict : 0));
  put.key = key;
  put.value = value;
  put.context = context;
  size_t start = net::BeginFrame(out, Op(Opcode::kPut), 0, tag);
  net::EncodePut(out, put);
  net::FinishFrame(out, start);
}

net::ParseResult KvCodec::ParseReply(const char* data, size_t n, Reply* reply, size_t* consumed,
                                     Status* error) {
  net::Frame frame;
  net::ParseResult r = net::ParseFrame(data, n, net::kDefaultMaxFrameBytes, &frame, consumed, error);
  if (r != net::ParseResult::kFrame) return r;
  if (!frame.is_reply()) {
    *error = Status::Corruption("server sent a request frame (opcode " + std::to_string(frame.opcode) +
                                ") where a reply was expected");
    return net::ParseResult::kError;
  }
  *reply = Reply();
  reply->tag = frame.request_id;
  // A GET's "not found" is routine (--no-preload): answer it from the status byte
  // without building a Status, which would allocate for its message. What
  // follows the message is the missing key's context.
  const bool get = frame.opcode == Op(Opcode::kGet);
  const auto kNotFoundByte = static_cast<char>(Status::Code::kNotFound);
  if (get && !frame.body.empty() && frame.body[0] == kNotFoundByte) {
    std::string_view rest = frame.body.substr(1), message;
    if (!base::GetLengthPrefixed(&rest, &message) || !net::DecodeNotFoundPayload(rest, &reply->context)) {
      *error = Status::Corruption("malformed GET not-found reply");
      return net::ParseResult::kError;
    }
    reply->kind = ReplyKind::kNotFound;
    return net::ParseResult::kFrame;
  }
  std::string_view payload;
  Status s = net::ParseReplyStatus(frame.body, &status_, &payload);
  if (s.ok()) s = DecodeReply(frame.opcode, payload, reply);
  if (!s.ok()) {
    *error = s;
    return net::ParseResult::kError;
  }
  return net::ParseResult::kFrame;
}

Status KvCodec::DecodeReply(uint8_t opcode, std::string_view payload, Reply* reply) {
  if (!status_.ok()) {
    reply->kind = ReplyKind::kError;
    reply->error_kind = Status::CodeName(status_.code());
    reply->error = status_.message();
    return Status::OK();
  }
  switch (static_cast<Opcode>(opcode)) {
    case Opcode::kHello:
    case Opcode::kAuth:
      return DecodeHandshakeReply(opcode, payload, reply);
    case Opcode::kGet:
      if (!net::DecodeGetReply(payload, &get_)) return Status::Corruption("malformed GET reply");
      reply->kind = get_.siblings.empty() ? ReplyKind::kNotFound : ReplyKind::kValue;
      reply->siblings = &get_.siblings;
      reply->context = get_.context;
      return Status::OK();
    case Opcode::kPut:
      if (!net::DecodeWriteReceipt(payload, &receipt_)) return Status::Corruption("malformed PUT receipt");
      reply->kind = ReplyKind::kStored;
      reply->context = receipt_.context;
      return Status::OK();
    default:
      return Status::Corruption("reply with unexpected opcode " + std::to_string(opcode));
  }
}

Status KvCodec::DecodeHandshakeReply(uint8_t opcode, std::string_view payload, Reply* reply) {
  net::HelloReply hello;
  if (!net::DecodeHelloReply(payload, &hello)) return Status::Corruption("malformed HELLO reply");
  // docs/protocol.md section 12: the reply names the version the server chose;
  // anything but ours means the frames that follow may not mean what we think.
  if (hello.version != net::kProtocolVersion) {
    return Status::NotSupported("HELLO reply names protocol version " + std::to_string(hello.version) +
                                ", kvbench speaks version " + std::to_string(net::kProtocolVersion));
  }
  reply->kind = ReplyKind::kHello;
  if (opcode == Op(Opcode::kAuth)) return net::CheckServerSignature(signature_, hello.challenge, "the server");
  KV_RETURN_IF_ERROR(net::AnswerClientChallenge(credentials_, cluster_, nonce_, hello.challenge, "the server",
                                                &auth_, &signature_));
  if (!auth_.empty()) reply->kind = ReplyKind::kHandshakeStep;
  return Status::OK();
}

}  // namespace kvring::cmd::kvbench
