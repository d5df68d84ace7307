// base/thread_annotations.h — Clang thread-safety annotations (no-ops elsewhere).
// They document which lock guards which field even when the compiler cannot check.
#pragma once

#if defined(__clang__)
#define KV_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define KV_THREAD_ANNOTATION(x)
#endif

#define GUARDED_BY(x) KV_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) KV_THREAD_ANNOTATION(pt_guarded_by(x))
#define EXCLUSIVE_LOCKS_REQUIRED(...) KV_THREAD_ANNOTATION(exclusive_locks_required(__VA_ARGS__))
#define LOCKS_EXCLUDED(...) KV_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
