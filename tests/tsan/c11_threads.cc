// C11 threads on top of pthreads, for ThreadSanitizer builds only (-DCVAGENT_TSAN=ON links this
// into every executable; see the top CMakeLists.txt).
//
// Why: Debian 12's librdkafka (2.0.2) starts its threads with C11 thrd_create and locks with
// mtx_*/cnd_*/call_once. glibc implements those by calling its pthread code internally, not
// through the PLT, and the TSan runtimes of Debian 12 (GCC 12's libtsan, clang 14's) have no
// interceptor for them: TSan never learns of librdkafka's threads (the first one dies in TSan's
// runtime with a SEGV) nor of its locks (our data handed through librdkafka's queues and callbacks
// would be reported as racing). Defined here, in the executable and exported, these definitions
// interpose over libc's for librdkafka, dlopen'ed plugins included, and call the pthread
// functions TSan does intercept, so TSan sees the threads and every edge between them.
//
// Only what librdkafka imports (`nm -D librdkafka.so.1 | grep -E 'thrd_|mtx_|cnd_|call_once'`;
// thrd_current needs nothing, it is pthread_self). Each function is glibc 2.36's own
// (nptl/thrd_create.c, mtx_init.c, ...), minus glibc's private C11 flag on the thread attributes:
// the same storage (thrd_t is a pthread_t, mtx_t/cnd_t/once_flag the pthread types' storage,
// asserted below) and the same error mapping (thrd_err_map).

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

static_assert(sizeof(thrd_t) == sizeof(pthread_t));
static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t));
static_assert(alignof(mtx_t) >= alignof(pthread_mutex_t));
static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t));
static_assert(alignof(cnd_t) >= alignof(pthread_cond_t));
static_assert(sizeof(once_flag) == sizeof(pthread_once_t));

namespace {

// glibc's thrd_err_map (sysdeps/pthread/thrd_priv.h).
int threadResult(int pthread_error) {
  switch (pthread_error) {
    case 0:
      return thrd_success;
    case ENOMEM:
      return thrd_nomem;
    case ETIMEDOUT:
      return thrd_timedout;
    case EBUSY:
      return thrd_busy;
    default:
      return thrd_error;
  }
}

pthread_mutex_t* asPthread(mtx_t* mutex) { return reinterpret_cast<pthread_mutex_t*>(mutex); }
pthread_cond_t* asPthread(cnd_t* cond) { return reinterpret_cast<pthread_cond_t*>(cond); }

// A C11 thread returns int, a pthread void*: the start function and its argument travel to the new
// thread in this box, and the int comes back as the pointer-sized exit value, as glibc does it.
struct ThreadStart {
  thrd_start_t function;
  void* argument;
};

void* runC11Thread(void* box) {
  const ThreadStart start = *static_cast<ThreadStart*>(box);
  free(box);
  return reinterpret_cast<void*>(static_cast<intptr_t>(start.function(start.argument)));
}

// The definition this executable's one hides: the TSan runtime's interceptor.
template <typename Function>
Function nextDefinition(const char* name) {
  return reinterpret_cast<Function>(dlsym(RTLD_NEXT, name));
}
using RwlockFunction = int (*)(pthread_rwlock_t*);

}  // namespace

extern "C" {

int thrd_create(thrd_t* thread, thrd_start_t function, void* argument) {
  auto* box = static_cast<ThreadStart*>(malloc(sizeof(ThreadStart)));
  if (box == nullptr) return thrd_nomem;
  box->function = function;
  box->argument = argument;
  const int rc = pthread_create(thread, nullptr, runC11Thread, box);
  if (rc != 0) free(box);
  return threadResult(rc);
}

int thrd_join(thrd_t thread, int* result) {
  void* exit_value = nullptr;
  const int rc = pthread_join(thread, &exit_value);
  if (rc == 0 && result != nullptr) {
    *result = static_cast<int>(reinterpret_cast<intptr_t>(exit_value));
  }
  return threadResult(rc);
}

int mtx_init(mtx_t* mutex, int type) {
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  switch (type) {
    case mtx_plain:
    case mtx_timed:
      pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_NORMAL);
      break;
    case mtx_plain | mtx_recursive:
    case mtx_timed | mtx_recursive:
      pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
      break;
    default:
      pthread_mutexattr_destroy(&attributes);
      return thrd_error;
  }
  const int rc = pthread_mutex_init(asPthread(mutex), &attributes);
  pthread_mutexattr_destroy(&attributes);
  return threadResult(rc);
}

int mtx_lock(mtx_t* mutex) { return threadResult(pthread_mutex_lock(asPthread(mutex))); }

int mtx_unlock(mtx_t* mutex) { return threadResult(pthread_mutex_unlock(asPthread(mutex))); }

void mtx_destroy(mtx_t* mutex) { pthread_mutex_destroy(asPthread(mutex)); }

int cnd_init(cnd_t* cond) { return threadResult(pthread_cond_init(asPthread(cond), nullptr)); }

int cnd_signal(cnd_t* cond) { return threadResult(pthread_cond_signal(asPthread(cond))); }

int cnd_broadcast(cnd_t* cond) { return threadResult(pthread_cond_broadcast(asPthread(cond))); }

int cnd_wait(cnd_t* cond, mtx_t* mutex) {
  return threadResult(pthread_cond_wait(asPthread(cond), asPthread(mutex)));
}

// C11's time point is TIME_UTC, i.e. CLOCK_REALTIME: pthread_cond_timedwait's default clock.
int cnd_timedwait(cnd_t* __restrict cond, mtx_t* __restrict mutex,
                  const struct timespec* __restrict time_point) {
  return threadResult(pthread_cond_timedwait(asPthread(cond), asPthread(mutex), time_point));
}

void cnd_destroy(cnd_t* cond) { pthread_cond_destroy(asPthread(cond)); }

void call_once(once_flag* flag, void (*function)(void)) {
  pthread_once(reinterpret_cast<pthread_once_t*>(flag), function);
}

// librdkafka's rwlocks are pthread ones, but tests/tsan.supp makes TSan ignore the interceptors
// librdkafka calls itself (called_from_lib), which would drop these locks' happens-before edges
// too (a topic's partitions are published under one). Defined here, they interpose over the TSan
// runtime's for every caller, and the interceptor they call sees a caller in this executable:
// the edges count. (Only librdkafka uses pthread rwlocks in these processes.)
int pthread_rwlock_init(pthread_rwlock_t* lock, const pthread_rwlockattr_t* attributes) noexcept {
  static const auto next = nextDefinition<int (*)(pthread_rwlock_t*, const pthread_rwlockattr_t*)>(
      "pthread_rwlock_init");
  return next(lock, attributes);
}

int pthread_rwlock_destroy(pthread_rwlock_t* lock) noexcept {
  static const auto next = nextDefinition<RwlockFunction>("pthread_rwlock_destroy");
  return next(lock);
}

int pthread_rwlock_rdlock(pthread_rwlock_t* lock) noexcept {
  static const auto next = nextDefinition<RwlockFunction>("pthread_rwlock_rdlock");
  return next(lock);
}

int pthread_rwlock_wrlock(pthread_rwlock_t* lock) noexcept {
  static const auto next = nextDefinition<RwlockFunction>("pthread_rwlock_wrlock");
  return next(lock);
}

int pthread_rwlock_unlock(pthread_rwlock_t* lock) noexcept {
  static const auto next = nextDefinition<RwlockFunction>("pthread_rwlock_unlock");
  return next(lock);
}

}  // extern "C"
