// base/thread_annotations.h — Clang thread-safety annotations (no-ops elsewhere).
// Under clang, `make check` (-Wthread-safety -Werror) proves every GUARDED_BY
// field is touched only with its mutex held and every ...Locked function is
// called with it; base/mutex.h is the mutex type the analysis understands (a
// std::mutex is not annotated: fields guarded by one are not checked). Under
// g++ they expand to nothing and only document.
// See https://clang.llvm.org/docs/ThreadSafetyAnalysis.html.
#pragma once

#if defined(__clang__)
#define KV_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define KV_THREAD_ANNOTATION(x)
#endif

// On types: a mutex, and an object that holds one for its scope.
#define CAPABILITY(x) KV_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY KV_THREAD_ANNOTATION(scoped_lockable)

// On fields: the mutex that must be held to read or write them (PT_: what the
// pointer points to).
#define GUARDED_BY(x) KV_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) KV_THREAD_ANNOTATION(pt_guarded_by(x))

// On functions: the caller must hold (or must not hold) these mutexes.
#define EXCLUSIVE_LOCKS_REQUIRED(...) KV_THREAD_ANNOTATION(exclusive_locks_required(__VA_ARGS__))
#define LOCKS_EXCLUDED(...) KV_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

// On functions: they take, release or (on success) try to take a mutex.
#define ACQUIRE(...) KV_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) KV_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) KV_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// On functions: the analysis may assume the mutex is held after the call.
#define ASSERT_CAPABILITY(x) KV_THREAD_ANNOTATION(assert_capability(x))
// On functions: the analysis skips this body. Every use says why in a comment.
#define NO_THREAD_SAFETY_ANALYSIS KV_THREAD_ANNOTATION(no_thread_safety_analysis)
