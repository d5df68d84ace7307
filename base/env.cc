#include "base/env.h"

namespace kvring::base {

Status ReadFileToString(Env* env, const std::string& path, std::string* data) {
  data->clear();
  std::unique_ptr<SequentialFile> file;
  KV_RETURN_IF_ERROR(env->NewSequentialFile(path, &file));
  constexpr size_t kChunk = 64 * 1024;
  std::string scratch(kChunk, '\0');
  while (true) {
    std::string_view piece;
    KV_RETURN_IF_ERROR(file->Read(kChunk, &piece, scratch.data()));
    if (piece.empty()) break;
    data->append(piece.data(), piece.size());
  }
  return Status::OK();
}

Status WriteStringToFileAtomic(Env* env, std::string_view data, const std::string& path) {
  const std::string tmp = path + ".tmp";
  std::unique_ptr<WritableFile> file;
  KV_RETURN_IF_ERROR(env->NewWritableFile(tmp, &file));
  Status s = file->Append(data);
  if (s.ok()) s = file->Sync();
  Status close = file->Close();
  if (s.ok()) s = close;
  if (s.ok()) s = env->RenameFile(tmp, path);
  if (s.ok()) s = env->SyncDir(DirName(path));
  if (!s.ok()) env->RemoveFile(tmp).IgnoreError();  // best effort; a stale .tmp is harmless
  return s;
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out += '/';
  out.append(name.data(), name.size());
  return out;
}

std::string DirName(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

Status RemoveDirRecursively(Env* env, const std::string& dir) {
  std::vector<std::string> names;
  Status s = env->GetChildren(dir, &names);
  if (s.IsNotFound()) return Status::OK();
  KV_RETURN_IF_ERROR(s);
  for (const auto& name : names) {
    std::string path = JoinPath(dir, name);
    if (!env->RemoveFile(path).ok()) KV_RETURN_IF_ERROR(RemoveDirRecursively(env, path));
  }
  return env->RemoveDir(dir);
}

}  // namespace kvring::base
