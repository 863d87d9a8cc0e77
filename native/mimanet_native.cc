// Multi-threaded float32 kernels for mimanet's native TensorFlow.js backend.
//
// Tensors stay in the JS TypedArrays of the tfjs cpu backend; every function
// here reads and writes them in place through Node-API (no copies). Layout is
// TensorFlow's: NHWC activations, HWIO filters, row-major matrices.
//
// The core is a packed, register-blocked SGEMM (GCC vector extensions, so the
// same source compiles to AVX-512, AVX2, SSE or NEON with -march=native).
// Convolutions are im2col / col2im around it, processed in row chunks so the
// column buffer stays bounded. Threads: a small pool of its own (below) that
// never makes the caller wait for a thread that has not claimed work, so a
// busy machine (more runnable threads than cores) slows a kernel down only by
// the share of CPU it gets, not by a scheduler time slice per parallel loop.
//
// Node worker threads (fold workers) call in at the same time, so nothing one
// thread computes may depend on another. What the process shares, and why each
// is safe:
// - the thread pool: a parallel loop is cut into chunks by its size alone (never
//   by the number of threads, see RED_PARTS), each chunk writes its own outputs
//   and partial sums are added in chunk order, so it does not matter which
//   thread runs a chunk, or that a caller finding the pool busy runs them all;
// - oneDNN's library handle, engine and convolution primitives: immutable once
//   built; a primitive is keyed by shape and by the OpenMP thread count it was
//   built for, and runs with the caller's own scratchpad, stream and memory;
// - the data-token counter: only hands out numbers, each once.
// Everything a kernel writes besides its outputs is thread_local: packing and
// column buffers, oneDNN scratch, and the filters kept in oneDNN's layout.
#include <node_api.h>

#include "tvl1.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <type_traits>
#include <vector>

#include <atomic>
#include <thread>

#if defined(__linux__) || defined(__APPLE__)
#include <dlfcn.h>
#define MIMANET_DLOPEN 1
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif
// oneDNN's header (Debian: libdnnl-dev) gives the types of its convolution primitives; the library
// itself is still opened at run time, so a build with the header runs where the library is missing.
#if defined(MIMANET_DLOPEN) && !defined(MIMANET_NO_DNNL_CONV) && __has_include(<oneapi/dnnl/dnnl.h>)
#include <oneapi/dnnl/dnnl.h>
#if DNNL_VERSION_MAJOR == 2
#define MIMANET_DNNL_CONV 1
#include <unordered_map>
#include <string>
#endif
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

namespace {

#if defined(__AVX512F__)
typedef float vf __attribute__((vector_size(64)));
#elif defined(__AVX__)
typedef float vf __attribute__((vector_size(32)));
#else
typedef float vf __attribute__((vector_size(16)));
#endif
constexpr int VL = sizeof(vf) / sizeof(float);
constexpr int MR = 6;        // rows of C per micro-tile
constexpr int NR = 2 * VL;   // columns of C per micro-tile
constexpr long KC = 256;     // depth of a packed panel
constexpr long MC = 96;      // rows of A packed per work item (multiple of MR)
constexpr long NC = 4096;    // columns of B packed at once (multiple of NR)
// Column buffers of convolutions are processed in chunks of about this many floats.
constexpr long COL_CHUNK = 4L << 20;

inline vf vload(const float* p) { vf v; std::memcpy(&v, p, sizeof v); return v; }
inline void vstore(float* p, vf v) { std::memcpy(p, &v, sizeof v); }

// ---------------------------------------------------------------- thread pool
//
// One pool serves the process. Node worker threads may call in concurrently:
// a call that finds the pool busy runs its loop on its own thread instead.
//
// A job is n chunks, claimed one at a time by compare-and-swap on `ticket`
// (generation:16 | n:24 | next:24). The caller claims chunks too and then
// waits only for chunks other threads have claimed; a worker that wakes late
// finds nothing left and goes back to sleep.
class Pool {
 public:
  ~Pool() { stop_workers(); }

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  void set_threads(int n) {
    std::lock_guard<std::mutex> hold(busy_);
    if (n == threads()) return;
    stop_workers();
    stop_.store(false);
    // The generation is read here, not in the new thread, so a stop issued before it runs is never missed.
    const uint32_t g0 = gen_.load(std::memory_order_acquire);
    for (int i = 1; i < n; i++) workers_.emplace_back([this, g0] { worker(g0); });
  }

  template <typename F>
  void run(long n, F&& f) {
    if (n <= 0) return;
    std::unique_lock<std::mutex> hold(busy_, std::defer_lock);
    if (n == 1 || inside_ || !hold.try_lock() || workers_.empty()) {
      for (long i = 0; i < n; i++) f(i);
      return;
    }
    constexpr long MAX_CHUNKS = (1L << 24) - 1;  // the ticket's 24-bit fields
    for (long base = 0; base < n; base += MAX_CHUNKS) {
      const long m = std::min(MAX_CHUNKS, n - base);
      auto g = [&](long i) { f(base + i); };
      run_job(m, g);
    }
  }

 private:
  template <typename F>
  void run_job(long n, F& f) {
    using Fn = std::remove_reference_t<F>;
    fn_ = [](void* ctx, long i) { (*static_cast<Fn*>(ctx))(i); };
    ctx_ = const_cast<void*>(static_cast<const void*>(&f));
    done_.store(0, std::memory_order_relaxed);
    const uint64_t g = (gen_.load(std::memory_order_relaxed) + 1) & 0xffff;
    ticket_.store((g << 48) | (static_cast<uint64_t>(n) << 24), std::memory_order_release);
    gen_.store(static_cast<uint32_t>(g), std::memory_order_release);
    gen_.notify_all();
    const long mine = drain(false);
    for (int spins = 0; done_.load(std::memory_order_acquire) < n - mine; spins++) {
      if (spins < 4000) CPU_RELAX(); else std::this_thread::yield();
    }
  }

  // Runs claimed chunks until none are left; returns how many this thread ran.
  long drain(bool count) {
    long ran = 0;
    uint64_t t = ticket_.load(std::memory_order_acquire);
    for (;;) {
      const uint64_t idx = t & 0xffffff, n = (t >> 24) & 0xffffff;
      if (idx >= n) return ran;
      if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      inside_ = true;
      fn_(ctx_, static_cast<long>(idx));
      inside_ = false;
      ran++;
      if (count) done_.fetch_add(1, std::memory_order_release);
      t = ticket_.load(std::memory_order_acquire);
    }
  }

  void worker(uint32_t seen) {
    for (;;) {
      for (int spins = 0; gen_.load(std::memory_order_acquire) == seen && spins < 2000; spins++) CPU_RELAX();
      gen_.wait(seen, std::memory_order_acquire);
      if (stop_.load(std::memory_order_acquire)) return;
      seen = gen_.load(std::memory_order_acquire);
      drain(true);
    }
  }

  void stop_workers() {
    if (workers_.empty()) return;
    stop_.store(true, std::memory_order_release);
    gen_.fetch_add(1, std::memory_order_acq_rel);
    gen_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  std::mutex busy_;  // held by the thread whose job the pool runs
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> ticket_{0};
  std::atomic<uint32_t> gen_{0};
  std::atomic<long> done_{0};
  std::atomic<bool> stop_{false};
  void (*fn_)(void*, long) = nullptr;
  void* ctx_ = nullptr;
  // True while this thread runs a chunk: a parallel loop inside one runs serially.
  static thread_local bool inside_;
};
thread_local bool Pool::inside_ = false;

Pool& pool() {
  static Pool p;
  static bool started = [] {
    const unsigned hc = std::thread::hardware_concurrency();
    p.set_threads(hc == 0 ? 1 : static_cast<int>(hc));
    return true;
  }();
  (void)started;
  return p;
}

int max_threads() { return pool().threads(); }

// f(begin, end) over [0, total) in chunks of at least `grain`, a few per thread.
template <typename F>
void parallel_range(long total, long grain, F&& f) {
  if (total <= 0) return;
  const long T = max_threads();
  long chunks = std::min<long>(T * 4, std::max<long>(1, total / std::max<long>(1, grain)));
  if (chunks <= 1) {
    f(0L, total);
    return;
  }
  pool().run(chunks, [&](long c) { f(total * c / chunks, total * (c + 1) / chunks); });
}

struct AlignedBuf {
  float* p = nullptr;
  size_t n = 0;
  ~AlignedBuf() { std::free(p); }
  float* get(size_t want) {
    if (want > n) {
      std::free(p);
      p = static_cast<float*>(std::aligned_alloc(64, ((want * sizeof(float) + 63) / 64) * 64));
      if (!p) throw std::bad_alloc();
      n = want;
    }
    return p;
  }
};

// Strided matrix view: element (i, j) is p[i * rs + j * cs].
struct View {
  const float* p;
  long rs, cs;
};

// C[MR x NR] (+)= Ap[kc x MR]^T * Bp[kc x NR]; only the top-left mr x nr is stored.
inline void micro_kernel(long kc, const float* __restrict Ap, const float* __restrict Bp, float* C, long ldc,
                         bool acc, int mr, int nr) {
  vf c[MR][2];
  for (int r = 0; r < MR; r++) c[r][0] = c[r][1] = vf{};
  for (long k = 0; k < kc; k++) {
    const vf b0 = vload(Bp + k * NR), b1 = vload(Bp + k * NR + VL);
    const float* a = Ap + k * MR;
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) {
      const vf av = vf{} + a[r];
      c[r][0] += av * b0;
      c[r][1] += av * b1;
    }
  }
  if (mr == MR && nr == NR) {
    for (int r = 0; r < MR; r++) {
      float* cr = C + r * ldc;
      if (acc) {
        vstore(cr, vload(cr) + c[r][0]);
        vstore(cr + VL, vload(cr + VL) + c[r][1]);
      } else {
        vstore(cr, c[r][0]);
        vstore(cr + VL, c[r][1]);
      }
    }
    return;
  }
  alignas(64) float t[MR * NR];
  for (int r = 0; r < MR; r++) {
    vstore(t + r * NR, c[r][0]);
    vstore(t + r * NR + VL, c[r][1]);
  }
  for (int r = 0; r < mr; r++)
    for (int j = 0; j < nr; j++) C[r * ldc + j] = (acc ? C[r * ldc + j] : 0.f) + t[r * NR + j];
}

// Packs rows [i0, i0+mc) x depth [p0, p0+kc) of A into MR-row slivers, zero padded.
void pack_a(const View& A, long i0, long mc, long p0, long kc, float* dst) {
  for (long is = 0; is < mc; is += MR) {
    const int mr = static_cast<int>(std::min<long>(MR, mc - is));
    float* d = dst + is * kc;
    if (A.cs == 1) {
      for (int r = 0; r < MR; r++) {
        if (r < mr) {
          const float* s = A.p + (i0 + is + r) * A.rs + p0;
          for (long k = 0; k < kc; k++) d[k * MR + r] = s[k];
        } else {
          for (long k = 0; k < kc; k++) d[k * MR + r] = 0.f;
        }
      }
    } else {
      for (long k = 0; k < kc; k++) {
        const float* s = A.p + (p0 + k) * A.cs + (i0 + is) * A.rs;
        for (int r = 0; r < mr; r++) d[k * MR + r] = s[r * A.rs];
        for (int r = mr; r < MR; r++) d[k * MR + r] = 0.f;
      }
    }
  }
}

// Packs depth [p0, p0+kc) x columns [j0+js, ...) of B, one NR-wide sliver.
void pack_b_sliver(const View& B, long p0, long kc, long j, int nr, float* d) {
  if (B.cs == 1) {
    for (long k = 0; k < kc; k++) {
      const float* s = B.p + (p0 + k) * B.rs + j;
      for (int c = 0; c < nr; c++) d[k * NR + c] = s[c];
      for (int c = nr; c < NR; c++) d[k * NR + c] = 0.f;
    }
  } else {
    for (int c = 0; c < NR; c++) {
      if (c < nr) {
        const float* s = B.p + p0 * B.rs + (j + c) * B.cs;
        for (long k = 0; k < kc; k++) d[k * NR + c] = s[k * B.rs];
      } else {
        for (long k = 0; k < kc; k++) d[k * NR + c] = 0.f;
      }
    }
  }
}

// Scratch buffers are per calling thread: Node worker threads may run kernels at the same time.
thread_local AlignedBuf g_bpack;

// ---------------------------------------------------------------- optional oneDNN SGEMM
//
// When oneDNN's shared library (Debian: libdnnl2, the library PyTorch's CPU kernels use) can be
// opened at run time, large GEMMs go to its JIT-compiled dnnl_sgemm (row-major, OpenMP threads);
// otherwise, or with MIMANET_BLAS=off, the packed kernel below does them. Nothing is needed at
// build time: the one function is declared here and looked up with dlopen.
typedef int (*dnnl_sgemm_fn)(char transa, char transb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                             int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
typedef void (*omp_set_threads_fn)(int);
typedef int (*omp_get_threads_fn)();

struct Blas {
  dnnl_sgemm_fn sgemm = nullptr;
  omp_set_threads_fn set_threads = nullptr;
  omp_get_threads_fn get_threads = nullptr;
  const char* name = nullptr;
  void* handle = nullptr;
};

Blas& blas() {
  static Blas b = [] {
    Blas r;
#ifdef MIMANET_DLOPEN
    const char* want = std::getenv("MIMANET_BLAS");
    if (want && (std::strcmp(want, "off") == 0 || std::strcmp(want, "0") == 0 || std::strcmp(want, "none") == 0)) return r;
    // OpenMP workers that spin after each GEMM take the cores from this addon's own pool, which
    // runs the elementwise kernels in between; let them sleep unless the user chose otherwise
    setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    const char* libs[] = {"libdnnl.so.3", "libdnnl.so.2", "libdnnl.so", "libdnnl.3.dylib", "libdnnl.2.dylib", "libdnnl.dylib"};
    for (const char* lib : libs) {
      void* h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
      if (!h) continue;
      r.sgemm = reinterpret_cast<dnnl_sgemm_fn>(dlsym(h, "dnnl_sgemm"));
      if (!r.sgemm) continue;
      r.name = lib;
      r.handle = h;
      // oneDNN's CPU runtime is OpenMP here; its threads follow omp_set_num_threads
      r.set_threads = reinterpret_cast<omp_set_threads_fn>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
      r.get_threads = reinterpret_cast<omp_get_threads_fn>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
      if (!r.set_threads || !r.get_threads) {
        if (void* g = dlopen("libgomp.so.1", RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD)) {
          r.set_threads = reinterpret_cast<omp_set_threads_fn>(dlsym(g, "omp_set_num_threads"));
          r.get_threads = reinterpret_cast<omp_get_threads_fn>(dlsym(g, "omp_get_max_threads"));
        }
      }
      break;
    }
#endif
    return r;
  }();
  return b;
}

// OpenMP threads oneDNN computes with on the calling thread (0 without oneDNN). The count is an
// OpenMP setting of each thread, and oneDNN's results depend on it (the split of its sums), so
// every thread that should compute the same numbers must set the same count: see setOneDnnThreads.
int onednn_threads() {
  const Blas& b = blas();
  return b.sgemm && b.get_threads ? b.get_threads() : 0;
}

// C = A B (+ C) through oneDNN when both operands are plain or transposed row-major matrices.
bool blas_sgemm(long M, long N, long K, View A, View B, float* C, long ldc, bool accumulate) {
  const Blas& b = blas();
  if (!b.sgemm || M * N * K < 64L * 64 * 64) return false;
  char ta, tb;
  long lda, ldb;
  if (A.cs == 1 && A.rs >= K) { ta = 'N'; lda = A.rs; }
  else if (A.rs == 1 && A.cs >= M) { ta = 'T'; lda = A.cs; }
  else return false;
  if (B.cs == 1 && B.rs >= N) { tb = 'N'; ldb = B.rs; }
  else if (B.rs == 1 && B.cs >= K) { tb = 'T'; ldb = B.cs; }
  else return false;
  return b.sgemm(ta, tb, M, N, K, 1.0f, A.p, lda, B.p, ldb, accumulate ? 1.0f : 0.0f, C, ldc) == 0;
}

// C[M x N] (ldc) = A[M x K] * B[K x N] (+ C when accumulate). Threads split rows and column groups.
void sgemm(long M, long N, long K, View A, View B, float* C, long ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (long i = 0; i < M; i++) std::memset(C + i * ldc, 0, N * sizeof(float));
    return;
  }
  if (blas_sgemm(M, N, K, A, B, C, ldc, accumulate)) return;
  const int T = max_threads();
  for (long jc = 0; jc < N; jc += NC) {
    const long nc = std::min(NC, N - jc);
    const long nsl = (nc + NR - 1) / NR;
    for (long pc = 0; pc < K; pc += KC) {
      const long kc = std::min(KC, K - pc);
      float* Bp = g_bpack.get(static_cast<size_t>(nsl * NR * kc));
      parallel_range(nsl, std::max<long>(1, 16384 / (kc * NR)), [&](long s0, long s1) {
        for (long s = s0; s < s1; s++)
          pack_b_sliver(B, pc, kc, jc + s * NR, static_cast<int>(std::min<long>(NR, nc - s * NR)), Bp + s * kc * NR);
      });
      const bool acc = accumulate || pc > 0;
      // Small M: shrink the row block so every thread gets work, then split columns too.
      long mc = MC;
      const long want = 2L * T;
      while (mc > MR && (M + mc - 1) / mc < want) mc -= MR;
      const long nmb = (M + mc - 1) / mc;
      long ngroups = 1;
      while (nmb * ngroups < want && ngroups * 2 <= nsl) ngroups *= 2;
      const long items = nmb * ngroups;
auto item = [&](long it) {
        thread_local AlignedBuf apack;
        float* Ap = apack.get(static_cast<size_t>((MC + MR) * KC));
        const long ib = it / ngroups, g = it % ngroups;
        const long i0 = ib * mc, m = std::min(mc, M - i0);
        const long s0 = nsl * g / ngroups, s1 = nsl * (g + 1) / ngroups;
        pack_a(A, i0, m, pc, kc, Ap);
        for (long s = s0; s < s1; s++) {
          const int nr = static_cast<int>(std::min<long>(NR, nc - s * NR));
          const float* bp = Bp + s * kc * NR;
          for (long is = 0; is < m; is += MR) {
            const int mr = static_cast<int>(std::min<long>(MR, m - is));
            micro_kernel(kc, Ap + is * kc, bp, C + (i0 + is) * ldc + jc + s * NR, ldc, acc, mr, nr);
          }
        }
      };
      if (T > 1 && items > 1 && M * nc * kc > 200000) {
        pool().run(items, item);
      } else {
        for (long it = 0; it < items; it++) item(it);
      }
    }
  }
}

struct ConvP {
  long B, H, W, Ci, KH, KW, Co, sh, sw, dh, dw, pt, pl, OH, OW;
  // Identifies the filter's contents: tfjs tensor data is immutable, and the caller numbers each
  // tensor's data once with a number from next_data_token(), unique in the process. A filter
  // reordered for oneDNN is reused while the same number comes back; 0: unknown, never reused.
  int64_t filter_token = 0;
  long K() const { return KH * KW * Ci; }
  bool pointwise() const {
    return KH == 1 && KW == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && OH == H && OW == W;
  }
};

// Numbers for tensor data (ConvP::filter_token). One counter serves every thread of the process:
// each Node worker thread has its own JS module instance, so numbers handed out by JS counters
// would repeat across threads and name different filters.
std::atomic<int64_t> g_next_data_token{0};
int64_t next_data_token() { return g_next_data_token.fetch_add(1, std::memory_order_relaxed) + 1; }

// One Adam step (Kingma and Ba 2015) of n parameters: m and v are updated in place and the new
// parameters written to out, in the order of src/train/optimizer.ts's loop so that both agree.
void adam(const float* p, const float* g, float* m, float* v, float* out, long n, float step, float b1, float b2,
          float sc2, float eps) {
  parallel_range(n, 16384, [&](long i0, long i1) {
    for (long k = i0; k < i1; k++) {
      const float gk = g[k];
      const float mk = b1 * m[k] + (1 - b1) * gk;
      const float vk = b2 * v[k] + (1 - b2) * gk * gk;
      m[k] = mk;
      v[k] = vk;
      out[k] = p[k] - (step * mk) / (__builtin_sqrtf(vk) * sc2 + eps);
    }
  });
}

// ---------------------------------------------------------------- optional oneDNN convolutions
//
// With oneDNN's header at build time and its library at run time, convolutions and both their
// gradients run as oneDNN primitives (the direct, JIT-compiled kernels PyTorch's CPU convolutions
// use) instead of im2col/col2im around a GEMM. Activations stay NHWC; filters are HWIO on the
// tfjs side and reordered to the layout the primitive picks. Primitives are built once per
// shape and kept. MIMANET_BLAS=off or MIMANET_DNNL_CONV=off keeps the im2col path.
#ifdef MIMANET_DNNL_CONV
struct DnnlApi {
#define MIMANET_DNNL_FN(name) decltype(&::name) name = nullptr;
#define MIMANET_DNNL_FNS(X)                                                                                      \
  X(dnnl_version) X(dnnl_engine_create) X(dnnl_stream_create) X(dnnl_stream_wait) X(dnnl_memory_desc_init_by_tag) \
  X(dnnl_dilated_convolution_forward_desc_init) X(dnnl_dilated_convolution_backward_data_desc_init)              \
  X(dnnl_dilated_convolution_backward_weights_desc_init) X(dnnl_primitive_desc_create)                           \
  X(dnnl_primitive_desc_destroy) X(dnnl_primitive_desc_query_md) X(dnnl_primitive_create)                        \
  X(dnnl_primitive_execute) X(dnnl_memory_create) X(dnnl_memory_destroy) X(dnnl_reorder_primitive_desc_create)  \
  X(dnnl_memory_desc_equal) X(dnnl_memory_desc_get_size) X(dnnl_primitive_attr_create)                          \
  X(dnnl_primitive_attr_destroy) X(dnnl_primitive_attr_set_scratchpad_mode)
  MIMANET_DNNL_FNS(MIMANET_DNNL_FN)
#undef MIMANET_DNNL_FN
  dnnl_engine_t engine = nullptr;
  bool ok = false;
};

const DnnlApi& dnnl_api() {
  static DnnlApi a = [] {
    DnnlApi r;
    const char* want = std::getenv("MIMANET_DNNL_CONV");
    if (want && (std::strcmp(want, "off") == 0 || std::strcmp(want, "0") == 0)) return r;
    void* h = blas().handle;
    if (!h) return r;
#define MIMANET_DNNL_SYM(name) \
  r.name = reinterpret_cast<decltype(r.name)>(dlsym(h, #name)); \
  if (!r.name) return r;
    MIMANET_DNNL_FNS(MIMANET_DNNL_SYM)
#undef MIMANET_DNNL_SYM
    // the structs of the header must be the library's: same major version
    if (r.dnnl_version()->major != DNNL_VERSION_MAJOR) return r;
    if (r.dnnl_engine_create(&r.engine, dnnl_cpu, 0) != dnnl_success) return r;
    r.ok = true;
    return r;
  }();
  return a;
}

// One convolution primitive of a given shape and direction, with the reorders between the
// tfjs layouts (NHWC, HWIO) and the layouts the primitive chose. Arguments 0 and 1 are inputs,
// 2 is the output: forward (src, weights, dst), backward data (diff_dst, weights, diff_src),
// backward weights (src, diff_dst, diff_weights).
struct DnnlConv {
  dnnl_primitive_t prim = nullptr;
  int arg[3];
  dnnl_memory_desc_t user[3], mine[3];
  dnnl_primitive_t reorder[3] = {nullptr, nullptr, nullptr};
  size_t bytes[3] = {0, 0, 0};
  dnnl_memory_desc_t scratch_md;
  size_t scratch_bytes = 0;
};

// A filter in a primitive's layout, kept for the token it was reordered from. These belong to
// the calling thread: Node worker threads train different nets at the same time, and no thread
// may compute with a buffer another thread wrote.
struct ThreadFilter {
  int64_t token = 0;
  AlignedBuf buf;
};

// oneDNN splits a primitive's work (and so its sums) for the OpenMP threads of the thread that
// builds it, so the key holds that count: a primitive is only reused by threads set to the same.
std::string conv_key(int kind, const ConvP& p, int omp_threads) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%d:%ld,%ld,%ld,%ld,%ld,%ld,%ld,%ld,%ld,%ld,%ld,%ld,%ld,%ld,%ld@%d", kind, p.B, p.H,
                p.W, p.Ci, p.KH, p.KW, p.Co, p.sh, p.sw, p.dh, p.dw, p.pt, p.pl, p.OH, p.OW, omp_threads);
  return buf;
}

// Builds the primitive; nullptr when oneDNN refuses the shape (the caller then uses im2col).
DnnlConv* make_dnnl_conv(const DnnlApi& d, int kind, const ConvP& p) {
  const dnnl_dims_t src_dims = {p.B, p.Ci, p.H, p.W}, dst_dims = {p.B, p.Co, p.OH, p.OW},
                    w_dims = {p.Co, p.Ci, p.KH, p.KW};
  const dnnl_dims_t strides = {p.sh, p.sw}, dil = {p.dh - 1, p.dw - 1}, pad_l = {p.pt, p.pl};
  const dnnl_dims_t pad_r = {(p.OH - 1) * p.sh + (p.KH - 1) * p.dh + 1 - p.H - p.pt,
                             (p.OW - 1) * p.sw + (p.KW - 1) * p.dw + 1 - p.W - p.pl};
  dnnl_memory_desc_t src_u, dst_u, w_u, src_a, dst_a, w_a;
  // activations stay NHWC (oneDNN's blocked layouts measured slower here once the reorders in and
  // out are paid); the filters take whatever layout the primitive prefers
  const dnnl_format_tag_t act_tag = dnnl_nhwc;
  if (d.dnnl_memory_desc_init_by_tag(&src_u, 4, src_dims, dnnl_f32, dnnl_nhwc) != dnnl_success ||
      d.dnnl_memory_desc_init_by_tag(&dst_u, 4, dst_dims, dnnl_f32, dnnl_nhwc) != dnnl_success ||
      d.dnnl_memory_desc_init_by_tag(&w_u, 4, w_dims, dnnl_f32, dnnl_hwio) != dnnl_success ||
      d.dnnl_memory_desc_init_by_tag(&src_a, 4, src_dims, dnnl_f32, act_tag) != dnnl_success ||
      d.dnnl_memory_desc_init_by_tag(&dst_a, 4, dst_dims, dnnl_f32, act_tag) != dnnl_success ||
      d.dnnl_memory_desc_init_by_tag(&w_a, 4, w_dims, dnnl_f32, dnnl_format_tag_any) != dnnl_success)
    return nullptr;
  dnnl_primitive_attr_t attr = nullptr;
  if (d.dnnl_primitive_attr_create(&attr) != dnnl_success) return nullptr;
  d.dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
  dnnl_primitive_desc_t fwd_pd = nullptr, pd = nullptr;
  dnnl_convolution_desc_t fwd, cd;
  bool ok = d.dnnl_dilated_convolution_forward_desc_init(&fwd, dnnl_forward_training, dnnl_convolution_direct, &src_a,
                                                         &w_a, nullptr, &dst_a, strides, dil, pad_l, pad_r) ==
                dnnl_success &&
            d.dnnl_primitive_desc_create(&fwd_pd, &fwd, attr, d.engine, nullptr) == dnnl_success;
  auto* c = new DnnlConv();
  const dnnl_memory_desc_t* u[3];
  dnnl_query_t q[3];
  if (ok && kind == 0) {
    pd = fwd_pd;
    fwd_pd = nullptr;
    c->arg[0] = DNNL_ARG_SRC, c->arg[1] = DNNL_ARG_WEIGHTS, c->arg[2] = DNNL_ARG_DST;
    u[0] = &src_u, u[1] = &w_u, u[2] = &dst_u;
    q[0] = dnnl_query_src_md, q[1] = dnnl_query_weights_md, q[2] = dnnl_query_dst_md;
  } else if (ok && kind == 1) {
    ok = d.dnnl_dilated_convolution_backward_data_desc_init(&cd, dnnl_convolution_direct, &src_a, &w_a, &dst_a,
                                                            strides, dil, pad_l, pad_r) == dnnl_success &&
         d.dnnl_primitive_desc_create(&pd, &cd, attr, d.engine, fwd_pd) == dnnl_success;
    c->arg[0] = DNNL_ARG_DIFF_DST, c->arg[1] = DNNL_ARG_WEIGHTS, c->arg[2] = DNNL_ARG_DIFF_SRC;
    u[0] = &dst_u, u[1] = &w_u, u[2] = &src_u;
    q[0] = dnnl_query_diff_dst_md, q[1] = dnnl_query_weights_md, q[2] = dnnl_query_diff_src_md;
  } else if (ok) {
    ok = d.dnnl_dilated_convolution_backward_weights_desc_init(&cd, dnnl_convolution_direct, &src_a, &w_a, nullptr,
                                                               &dst_a, strides, dil, pad_l, pad_r) == dnnl_success &&
         d.dnnl_primitive_desc_create(&pd, &cd, attr, d.engine, fwd_pd) == dnnl_success;
    c->arg[0] = DNNL_ARG_SRC, c->arg[1] = DNNL_ARG_DIFF_DST, c->arg[2] = DNNL_ARG_DIFF_WEIGHTS;
    u[0] = &src_u, u[1] = &dst_u, u[2] = &w_u;
    q[0] = dnnl_query_src_md, q[1] = dnnl_query_diff_dst_md, q[2] = dnnl_query_diff_weights_md;
  }
  if (fwd_pd) d.dnnl_primitive_desc_destroy(fwd_pd);
  ok = ok && d.dnnl_primitive_create(&c->prim, pd) == dnnl_success;
  for (int i = 0; ok && i < 3; i++) {
    c->user[i] = *u[i];
    c->mine[i] = *d.dnnl_primitive_desc_query_md(pd, q[i], 0);
    if (d.dnnl_memory_desc_equal(&c->user[i], &c->mine[i])) continue;
    c->bytes[i] = d.dnnl_memory_desc_get_size(&c->mine[i]);
    dnnl_primitive_desc_t rpd = nullptr;
    const dnnl_memory_desc_t* from = i < 2 ? &c->user[i] : &c->mine[i];
    const dnnl_memory_desc_t* to = i < 2 ? &c->mine[i] : &c->user[i];
    ok = d.dnnl_reorder_primitive_desc_create(&rpd, from, d.engine, to, d.engine, nullptr) == dnnl_success &&
         d.dnnl_primitive_create(&c->reorder[i], rpd) == dnnl_success;
    if (rpd) d.dnnl_primitive_desc_destroy(rpd);
  }
  if (ok) {
    c->scratch_md = *d.dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    c->scratch_bytes = d.dnnl_memory_desc_get_size(&c->scratch_md);
  }
  if (pd) d.dnnl_primitive_desc_destroy(pd);
  d.dnnl_primitive_attr_destroy(attr);
  if (!ok) {
    delete c;  // primitives of a refused shape are few and small; they are not worth tracking
    return nullptr;
  }
  return c;
}

// Runs the convolution through oneDNN; false when oneDNN is not available or refuses the shape.
bool dnnl_conv(int kind, const ConvP& p, const float* in0, const float* in1, float* out) {
  const DnnlApi& d = dnnl_api();
  if (!d.ok) return false;
  // at a few output pixels per image (ResNet18's last stage at 112x112 input: 4x4) the direct
  // kernels lose to im2col and one GEMM (measured: about 2 ms against 4 ms per 3x3 conv of the
  // last stage at batch 8, in each direction)
  if (p.OH * p.OW <= 16) return false;
  static std::mutex mu;
  static std::unordered_map<std::string, DnnlConv*> cache;
  DnnlConv* c;
  {
    std::lock_guard<std::mutex> lock(mu);
    const std::string key = conv_key(kind, p, onednn_threads());
    auto it = cache.find(key);
    if (it == cache.end()) it = cache.emplace(key, make_dnnl_conv(d, kind, p)).first;
    c = it->second;
  }
  if (!c) return false;
  // memory objects, streams and scratch buffers are per calling thread: Node workers may run
  // kernels at the same time, and a primitive with a user scratchpad can then run concurrently
  thread_local dnnl_stream_t stream = nullptr;
  thread_local AlignedBuf tmp[3], scratch;
  if (!stream && d.dnnl_stream_create(&stream, d.engine, dnnl_stream_default_flags) != dnnl_success) return false;
  void* handles[3] = {const_cast<float*>(in0), const_cast<float*>(in1), out};
  dnnl_memory_t user[3] = {nullptr, nullptr, nullptr}, mine[3] = {nullptr, nullptr, nullptr}, scr = nullptr;
  bool ok = true;
  for (int i = 0; i < 3 && ok; i++) {
    ok = d.dnnl_memory_create(&user[i], &c->user[i], d.engine, handles[i]) == dnnl_success;
    if (ok && c->reorder[i])
      ok = d.dnnl_memory_create(&mine[i], &c->mine[i], d.engine, tmp[i].get(c->bytes[i] / sizeof(float) + 1)) ==
           dnnl_success;
  }
  if (ok)
    ok = d.dnnl_memory_create(&scr, &c->scratch_md, d.engine, scratch.get(c->scratch_bytes / sizeof(float) + 1)) ==
         dnnl_success;
  // an unchanged filter is not reordered again (inference, and the forward and backward data
  // passes of one step): this thread's copy is reused while its token comes back
  thread_local std::unordered_map<const DnnlConv*, ThreadFilter> filters;
  ThreadFilter* kept = nullptr;
  bool reuse_filter = false;
  if (ok && kind != 2 && c->reorder[1] && p.filter_token != 0) {
    kept = &filters[c];
    reuse_filter = kept->token == p.filter_token;
    d.dnnl_memory_destroy(mine[1]);
    mine[1] = nullptr;
    ok = d.dnnl_memory_create(&mine[1], &c->mine[1], d.engine, kept->buf.get(c->bytes[1] / sizeof(float) + 1)) ==
         dnnl_success;
    kept->token = 0;  // until the reorder below has filled the buffer
  }
  for (int i = 0; i < 2 && ok; i++) {
    if (!c->reorder[i] || (i == 1 && reuse_filter)) continue;
    const dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, user[i]}, {DNNL_ARG_TO, mine[i]}};
    ok = d.dnnl_primitive_execute(c->reorder[i], stream, 2, a) == dnnl_success;
  }
  if (ok && kept) kept->token = p.filter_token;
  if (ok) {
    dnnl_exec_arg_t a[4];
    for (int i = 0; i < 3; i++) a[i] = {c->arg[i], c->reorder[i] ? mine[i] : user[i]};
    a[3] = {DNNL_ARG_SCRATCHPAD, scr};
    ok = d.dnnl_primitive_execute(c->prim, stream, 4, a) == dnnl_success;
  }
  if (ok && c->reorder[2]) {
    const dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, mine[2]}, {DNNL_ARG_TO, user[2]}};
    ok = d.dnnl_primitive_execute(c->reorder[2], stream, 2, a) == dnnl_success;
  }
  if (ok) ok = d.dnnl_stream_wait(stream) == dnnl_success;
  for (int i = 0; i < 3; i++) {
    if (user[i]) d.dnnl_memory_destroy(user[i]);
    if (mine[i]) d.dnnl_memory_destroy(mine[i]);
  }
  if (scr) d.dnnl_memory_destroy(scr);
  return ok;
}
#else
bool dnnl_conv(int, const ConvP&, const float*, const float*, float*) { return false; }
#endif

// cols[r - r0][(kh*KW + kw)*Ci + ci] = x at output row r's tap (kh, kw), zero outside the image.
void im2col(const float* x, const ConvP& p, long r0, long r1, float* cols) {
  const long K = p.K();
  parallel_range(r1 - r0, std::max<long>(1, 8192 / K), [&](long q0, long q1) {
  for (long r = r0 + q0; r < r0 + q1; r++) {
    const long ow = r % p.OW, oh = (r / p.OW) % p.OH, b = r / (p.OW * p.OH);
    float* d = cols + (r - r0) * K;
    for (long kh = 0; kh < p.KH; kh++) {
      const long ih = oh * p.sh - p.pt + kh * p.dh;
      for (long kw = 0; kw < p.KW; kw++) {
        const long iw = ow * p.sw - p.pl + kw * p.dw;
        float* dd = d + (kh * p.KW + kw) * p.Ci;
        if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) {
          std::memset(dd, 0, p.Ci * sizeof(float));
        } else {
          std::memcpy(dd, x + ((b * p.H + ih) * p.W + iw) * p.Ci, p.Ci * sizeof(float));
        }
      }
    }
  }
  });
}

// dx for images [b0, b1) = sum of the column gradients of every window covering each pixel.
void col2im(const float* dcols, const ConvP& p, long b0, long b1, float* dx) {
  const long K = p.K();
  parallel_range((b1 - b0) * p.H, 1, [&](long q0, long q1) {
  for (long q = q0; q < q1; q++) {
    const long b = b0 + q / p.H, ih = q % p.H;
    {
      float* row = dx + (b * p.H + ih) * p.W * p.Ci;
      std::memset(row, 0, p.W * p.Ci * sizeof(float));
      for (long kh = 0; kh < p.KH; kh++) {
        const long th = ih + p.pt - kh * p.dh;
        if (th < 0 || th % p.sh != 0) continue;
        const long oh = th / p.sh;
        if (oh >= p.OH) continue;
        for (long iw = 0; iw < p.W; iw++) {
          float* o = row + iw * p.Ci;
          for (long kw = 0; kw < p.KW; kw++) {
            const long tw = iw + p.pl - kw * p.dw;
            if (tw < 0 || tw % p.sw != 0) continue;
            const long ow = tw / p.sw;
            if (ow >= p.OW) continue;
            const float* s = dcols + (((b - b0) * p.OH + oh) * p.OW + ow) * K + (kh * p.KW + kw) * p.Ci;
            for (long c = 0; c < p.Ci; c++) o[c] += s[c];
          }
        }
      }
    }
  }
  });
}

thread_local AlignedBuf g_cols;

void conv2d(const float* x, const float* w, float* y, const ConvP& p) {
  if (dnnl_conv(0, p, x, w, y)) return;
  const long K = p.K(), rows = p.B * p.OH * p.OW;
  const View Wv{w, p.Co, 1};
  if (p.pointwise()) {
    sgemm(rows, p.Co, K, View{x, K, 1}, Wv, y, p.Co, false);
    return;
  }
  const long chunk = std::max<long>(MC, COL_CHUNK / K);
  float* cols = g_cols.get(static_cast<size_t>(std::min(chunk, rows) * K));
  for (long r0 = 0; r0 < rows; r0 += chunk) {
    const long r1 = std::min(rows, r0 + chunk);
    im2col(x, p, r0, r1, cols);
    sgemm(r1 - r0, p.Co, K, View{cols, K, 1}, Wv, y + r0 * p.Co, p.Co, false);
  }
}

void conv2d_backprop_filter(const float* x, const float* dy, float* dw, const ConvP& p) {
  if (dnnl_conv(2, p, x, dy, dw)) return;
  const long K = p.K(), rows = p.B * p.OH * p.OW;
  if (p.pointwise()) {
    sgemm(K, p.Co, rows, View{x, 1, K}, View{dy, p.Co, 1}, dw, p.Co, false);
    return;
  }
  const long chunk = std::max<long>(KC, COL_CHUNK / K);
  float* cols = g_cols.get(static_cast<size_t>(std::min(chunk, rows) * K));
  for (long r0 = 0; r0 < rows; r0 += chunk) {
    const long r1 = std::min(rows, r0 + chunk);
    im2col(x, p, r0, r1, cols);
    sgemm(K, p.Co, r1 - r0, View{cols, 1, K}, View{dy + r0 * p.Co, p.Co, 1}, dw, p.Co, r0 > 0);
  }
}

void conv2d_backprop_input(const float* dy, const float* w, float* dx, const ConvP& p) {
  if (dnnl_conv(1, p, dy, w, dx)) return;
  const long K = p.K(), per_img = p.OH * p.OW;
  const View Wt{w, 1, p.Co};  // W^T: element (co, k) = w[k * Co + co]
  if (p.pointwise()) {
    sgemm(p.B * per_img, K, p.Co, View{dy, p.Co, 1}, Wt, dx, K, false);
    return;
  }
  const long imgs = std::max<long>(1, COL_CHUNK / (per_img * K));
  float* dcols = g_cols.get(static_cast<size_t>(std::min(imgs, p.B) * per_img * K));
  for (long b0 = 0; b0 < p.B; b0 += imgs) {
    const long b1 = std::min(p.B, b0 + imgs);
    sgemm((b1 - b0) * per_img, K, p.Co, View{dy + b0 * per_img * p.Co, p.Co, 1}, Wt, dcols, K, false);
    col2im(dcols, p, b0, b1, dx);
  }
}

// ---------------------------------------------------------------- elementwise, reductions, pooling

// Parallel loops below split only work big enough to pay for waking the threads.
constexpr long PAR_MIN = 1L << 15;

enum BinOp { B_ADD, B_SUB, B_MUL, B_DIV, B_SQDIFF, B_MAX, B_MIN };

template <typename F>
void binary_loop(const float* a, const float* b, float* out, const long* d, const long* sa, const long* sb, F f) {
  // Four merged dims; the last has stride 0 or 1 on each side.
  const long rows = d[0] * d[1] * d[2], n = d[3];
  const long sa3 = sa[3], sb3 = sb[3];
  if (rows == 1) {
    parallel_range(n, PAR_MIN, [&](long i0, long i1) {
      for (long i = i0; i < i1; i++) out[i] = f(a[i * sa3], b[i * sb3]);
    });
    return;
  }
  parallel_range(rows, std::max<long>(1, PAR_MIN / std::max<long>(1, n)), [&](long q0, long q1) {
  for (long r = q0; r < q1; r++) {
    const long i2 = r % d[2], i1 = (r / d[2]) % d[1], i0 = r / (d[2] * d[1]);
    const float* pa = a + i0 * sa[0] + i1 * sa[1] + i2 * sa[2];
    const float* pb = b + i0 * sb[0] + i1 * sb[1] + i2 * sb[2];
    float* po = out + r * n;
    if (sa3 == 1 && sb3 == 1) {
      for (long i = 0; i < n; i++) po[i] = f(pa[i], pb[i]);
    } else if (sa3 == 1) {
      const float bv = pb[0];
      for (long i = 0; i < n; i++) po[i] = f(pa[i], bv);
    } else if (sb3 == 1) {
      const float av = pa[0];
      for (long i = 0; i < n; i++) po[i] = f(av, pb[i]);
    } else {
      const float v = f(pa[0], pb[0]);
      for (long i = 0; i < n; i++) po[i] = v;
    }
  }
  });
}

void binary(int op, const float* a, const float* b, float* out, const long* d, const long* sa, const long* sb) {
  switch (op) {
    case B_ADD: binary_loop(a, b, out, d, sa, sb, [](float x, float y) { return x + y; }); break;
    case B_SUB: binary_loop(a, b, out, d, sa, sb, [](float x, float y) { return x - y; }); break;
    case B_MUL: binary_loop(a, b, out, d, sa, sb, [](float x, float y) { return x * y; }); break;
    case B_DIV: binary_loop(a, b, out, d, sa, sb, [](float x, float y) { return x / y; }); break;
    case B_SQDIFF: binary_loop(a, b, out, d, sa, sb, [](float x, float y) { return (x - y) * (x - y); }); break;
    // NaN-propagating like Math.max / Math.min.
    case B_MAX: binary_loop(a, b, out, d, sa, sb, [](float x, float y) { return (x != x || y != y) ? x + y : (x > y ? x : y); }); break;
    case B_MIN: binary_loop(a, b, out, d, sa, sb, [](float x, float y) { return (x != x || y != y) ? x + y : (x < y ? x : y); }); break;
  }
}

enum UnOp { U_NEG, U_ABS, U_SQUARE, U_SQRT, U_RSQRT, U_EXP, U_LOG, U_RELU, U_STEP, U_SIGMOID, U_TANH, U_RECIPROCAL, U_RELU6 };

template <typename F>
void unary_loop(const float* x, float* y, long n, F f) {
  parallel_range(n, PAR_MIN, [&](long i0, long i1) {
    for (long i = i0; i < i1; i++) y[i] = f(x[i]);
  });
}

void unary(int op, const float* x, float* y, long n, float alpha) {
  switch (op) {
    case U_NEG: unary_loop(x, y, n, [](float v) { return -v; }); break;
    case U_ABS: unary_loop(x, y, n, [](float v) { return std::fabs(v); }); break;
    case U_SQUARE: unary_loop(x, y, n, [](float v) { return v * v; }); break;
    case U_SQRT: unary_loop(x, y, n, [](float v) { return std::sqrt(v); }); break;
    case U_RSQRT: unary_loop(x, y, n, [](float v) { return 1.f / std::sqrt(v); }); break;
    case U_EXP: unary_loop(x, y, n, [](float v) { return std::exp(v); }); break;
    case U_LOG: unary_loop(x, y, n, [](float v) { return std::log(v); }); break;
    case U_RELU: unary_loop(x, y, n, [](float v) { return v < 0.f ? 0.f : v; }); break;
    case U_STEP: unary_loop(x, y, n, [alpha](float v) { return v != v ? v : (v > 0.f ? 1.f : alpha); }); break;
    case U_SIGMOID: unary_loop(x, y, n, [](float v) { return 1.f / (1.f + std::exp(-v)); }); break;
    case U_TANH: unary_loop(x, y, n, [](float v) { return std::tanh(v); }); break;
    case U_RECIPROCAL: unary_loop(x, y, n, [](float v) { return 1.f / v; }); break;
    case U_RELU6: unary_loop(x, y, n, [](float v) { return v < 0.f ? 0.f : (v > 6.f ? 6.f : v); }); break;
  }
}

enum RedOp { R_SUM, R_MEAN, R_MAX, R_MIN };
constexpr long RED_PARTS = 8;

// out[o, i] = op over r of x[o, r, i]; sums accumulate in double like the JS kernels.
void reduce(int op, const float* x, float* out, long outer, long red, long inner) {
  const bool is_sum = op == R_SUM || op == R_MEAN;
  const double scale = op == R_MEAN ? 1.0 / static_cast<double>(red) : 1.0;
  if (inner == 1) {
    parallel_range(outer, std::max<long>(1, PAR_MIN / std::max<long>(1, red)), [&](long o0, long o1) {
    for (long o = o0; o < o1; o++) {
      const float* p = x + o * red;
      if (is_sum) {
        double s = 0;
        for (long r = 0; r < red; r++) s += p[r];
        out[o] = static_cast<float>(s * scale);
      } else {
        float m = red > 0 ? p[0] : 0.f;
        for (long r = 1; r < red; r++) m = (op == R_MAX) ? (p[r] > m || p[r] != p[r] ? p[r] : m) : (p[r] < m || p[r] != p[r] ? p[r] : m);
        out[o] = m;
      }
    }
    });
    return;
  }
  // Rows of the reduction split into RED_PARTS partial accumulators, added in a fixed order. The
  // split is a constant, not the thread count, so that sums do not depend on how many threads ran.
  const long parts = (outer < RED_PARTS && red * inner * outer > PAR_MIN) ? std::min<long>(RED_PARTS, red) : 1;
  std::vector<double> acc(static_cast<size_t>(parts * outer * inner));
  std::vector<float> ext(is_sum ? 0 : static_cast<size_t>(parts * outer * inner));
  parallel_range(parts * outer, (parts > 1 || outer * red * inner > PAR_MIN) ? 1 : parts * outer, [&](long q0, long q1) {
  for (long q = q0; q < q1; q++) {
    const long pi = q / outer, o = q % outer;
    {
      const long r0 = red * pi / parts, r1 = red * (pi + 1) / parts;
      double* a = acc.data() + (pi * outer + o) * inner;
      float* e = is_sum ? nullptr : ext.data() + (pi * outer + o) * inner;
      if (!is_sum) {
        for (long i = 0; i < inner; i++) e[i] = r1 > r0 ? x[(o * red + r0) * inner + i] : 0.f;
      }
      for (long r = r0; r < r1; r++) {
        const float* p = x + (o * red + r) * inner;
        if (is_sum) {
          for (long i = 0; i < inner; i++) a[i] += p[i];
        } else if (op == R_MAX) {
          for (long i = 0; i < inner; i++) e[i] = (p[i] > e[i] || p[i] != p[i]) ? p[i] : e[i];
        } else {
          for (long i = 0; i < inner; i++) e[i] = (p[i] < e[i] || p[i] != p[i]) ? p[i] : e[i];
        }
      }
    }
  }
  });
  for (long o = 0; o < outer; o++) {
    for (long i = 0; i < inner; i++) {
      if (is_sum) {
        double s = 0;
        for (long pi = 0; pi < parts; pi++) s += acc[(pi * outer + o) * inner + i];
        out[o * inner + i] = static_cast<float>(s * scale);
      } else {
        float m = ext[o * inner + i];
        for (long pi = 1; pi < parts; pi++) {
          const float v = ext[(pi * outer + o) * inner + i];
          m = (op == R_MAX) ? ((v > m || v != v) ? v : m) : ((v < m || v != v) ? v : m);
        }
        out[o * inner + i] = m;
      }
    }
  }
}

// y[i, c] = x[i, c] * a[c] + b[c]: batch normalisation with its statistics folded into a and b.
// ---------------------------------------------------------------- batch normalisation (training)
//
// Per-channel statistics and the closed-form gradient of y = [relu](gamma x^ + beta) with
// x^ = (x - mean) * invStd, over `rows` rows of C channels. Each pass reads x (and dy) once,
// instead of the several elementwise kernels the same formulas cost as tensor ops. Sums are
// taken in float over blocks of rows and added up in double.

// Splits `rows` into at most 64 chunks and gives f(chunk, r0, r1); partial results go per chunk.
template <typename F>
long for_row_chunks(long rows, F&& f) {
  const long n = std::max<long>(1, std::min<long>(64, rows / 64));
  parallel_range(n, 1, [&](long c0, long c1) {
    for (long ch = c0; ch < c1; ch++) f(ch, rows * ch / n, rows * (ch + 1) / n);
  });
  return n;
}

constexpr long BN_BLOCK = 128;  // rows summed in float before going into the double totals

// Per-channel totals of two quantities over rows: row(r, a, b) adds row r's share to a[C] and b[C]
// (in float, a block of rows at a time); the totals go to ta[C] and tb[C] in double.
template <typename Row>
void channel_sums(long rows, long C, double* ta, double* tb, Row&& row) {
  std::vector<double> part(static_cast<size_t>(64 * 2 * C), 0.0);
  const long n = for_row_chunks(rows, [&](long ch, long r0, long r1) {
    std::vector<float> s(static_cast<size_t>(2 * C));
    double* ps = part.data() + ch * 2 * C;
    for (long b0 = r0; b0 < r1; b0 += BN_BLOCK) {
      std::fill(s.begin(), s.end(), 0.f);
      for (long r = b0; r < std::min(r1, b0 + BN_BLOCK); r++) row(r, s.data(), s.data() + C);
      for (long c = 0; c < 2 * C; c++) ps[c] += s[c];
    }
  });
  for (long c = 0; c < C; c++) {
    double a = 0, b = 0;
    for (long ch = 0; ch < n; ch++) a += part[ch * 2 * C + c], b += part[ch * 2 * C + C + c];
    ta[c] = a, tb[c] = b;
  }
}

// mean[c] and the biased variance var[c] of x[rows, C] (shifted by the first row against cancellation).
void bn_stats(const float* x, long rows, long C, float* mean, float* var) {
  if (rows <= 0) {
    for (long c = 0; c < C; c++) mean[c] = var[c] = NAN;
    return;
  }
  const float* shift = x;
  std::vector<double> sum(static_cast<size_t>(2 * C));
  channel_sums(rows, C, sum.data(), sum.data() + C, [&](long r, float* __restrict sa, float* __restrict sq) {
    const float* xr = x + r * C;
    for (long c = 0; c < C; c++) {
      const float d = xr[c] - shift[c];
      sa[c] += d;
      sq[c] += d * d;
    }
  });
  for (long c = 0; c < C; c++) {
    const double m = sum[c] / rows;
    mean[c] = static_cast<float>(shift[c] + m);
    var[c] = static_cast<float>(std::max(0.0, sum[C + c] / rows - m * m));
  }
}

// y = x * a[c] + b[c], then max(0, .) when relu (batch norm with known statistics, FusedBatchNorm).
void channel_affine(const float* x, const float* a, const float* b, float* y, long rows, long C, bool relu = false) {
  parallel_range(rows, std::max<long>(1, PAR_MIN / C), [&](long r0, long r1) {
    for (long r = r0; r < r1; r++) {
      const float* xr = x + r * C;
      float* yr = y + r * C;
      if (relu)
        for (long c = 0; c < C; c++) { const float v = xr[c] * a[c] + b[c]; yr[c] = v > 0.f ? v : 0.f; }
      else
        for (long c = 0; c < C; c++) yr[c] = xr[c] * a[c] + b[c];
    }
  });
}

// Gradient of y = [relu](gamma x^ + beta): dgamma, dbeta and dx, given x, dy, mean, invStd, gamma, beta.
// With relu, dy is first masked where gamma x^ + beta <= 0 (where the forward output was 0).
void bn_grad(const float* x, const float* dy, const float* mean, const float* inv, const float* gamma,
             const float* beta, float* dx, float* dgamma, float* dbeta, long rows, long C, bool relu) {
  std::vector<double> sum(static_cast<size_t>(2 * C));
  channel_sums(rows, C, sum.data(), sum.data() + C, [&](long r, float* __restrict sb, float* __restrict sg) {
    const float* xr = x + r * C;
    const float* gr = dy + r * C;
    for (long c = 0; c < C; c++) {
      const float xh = (xr[c] - mean[c]) * inv[c];
      float g = gr[c];
      if (relu) g = gamma[c] * xh + beta[c] > 0.f ? g : 0.f;
      sb[c] += g;
      sg[c] += g * xh;
    }
  });
  std::vector<float> k1(static_cast<size_t>(C)), k2(static_cast<size_t>(C)), k3(static_cast<size_t>(C));
  for (long c = 0; c < C; c++) {
    dbeta[c] = static_cast<float>(sum[c]);
    dgamma[c] = static_cast<float>(sum[C + c]);
    // dx = gamma invStd (dy - dbeta / N - x^ dgamma / N)
    k1[c] = gamma[c] * inv[c];
    k2[c] = static_cast<float>(sum[c] / rows);
    k3[c] = static_cast<float>(sum[C + c] / rows);
  }
  parallel_range(rows, std::max<long>(1, PAR_MIN / C), [&](long r0, long r1) {
    for (long r = r0; r < r1; r++) {
      const float* xr = x + r * C;
      const float* gr = dy + r * C;
      float* o = dx + r * C;
      for (long c = 0; c < C; c++) {
        const float xh = (xr[c] - mean[c]) * inv[c];
        float g = gr[c];
        if (relu) g = gamma[c] * xh + beta[c] > 0.f ? g : 0.f;
        o[c] = k1[c] * (g - k2[c] - xh * k3[c]);
      }
    }
  });
}

struct PoolP {
  long B, H, W, C, KH, KW, sh, sw, pt, pl, OH, OW;
};

// Max over the window's real inputs (padding excluded); `arg` gets the first (row-major) maximum.
template <bool ARG>
inline void pool_window(const float* x, const PoolP& p, long b, long oh, long ow, float* best, long* arg) {
  const long h0 = oh * p.sh - p.pt, w0 = ow * p.sw - p.pl;
  const long r0 = std::max<long>(0, h0), r1 = std::min(p.H, h0 + p.KH);
  const long c0 = std::max<long>(0, w0), c1 = std::min(p.W, w0 + p.KW);
  for (long c = 0; c < p.C; c++) best[c] = -INFINITY;
  if (ARG) for (long c = 0; c < p.C; c++) arg[c] = -1;
  for (long r = r0; r < r1; r++) {
    for (long q = c0; q < c1; q++) {
      const long base = ((b * p.H + r) * p.W + q) * p.C;
      const float* v = x + base;
      for (long c = 0; c < p.C; c++) {
        if (ARG) {
          if (v[c] > best[c] || arg[c] < 0) { best[c] = v[c]; arg[c] = base + c; }
        } else {
          best[c] = v[c] > best[c] ? v[c] : best[c];
        }
      }
    }
  }
}

void max_pool(const float* x, float* y, const PoolP& p) {
  parallel_range(p.B * p.OH, 1, [&](long q0, long q1) {
    for (long q = q0; q < q1; q++) {
      const long b = q / p.OH, oh = q % p.OH;
      for (long ow = 0; ow < p.OW; ow++)
        pool_window<false>(x, p, b, oh, ow, y + ((b * p.OH + oh) * p.OW + ow) * p.C, nullptr);
    }
  });
}

void max_pool_grad(const float* dy, const float* x, float* dx, const PoolP& p) {
  std::memset(dx, 0, sizeof(float) * p.B * p.H * p.W * p.C);
  // Windows of one image overlap, so images (not rows) are the unit of parallel work. Per window,
  // the tap of each channel's first (row-major) maximum is found a vector of channels at a time
  // (a later tap wins only when strictly greater), then dy goes to that tap.
  typedef int vi __attribute__((vector_size(sizeof(vf))));
  pool().run(p.B, [&](long b) {
    long taps[64];
    for (long oh = 0; oh < p.OH; oh++)
      for (long ow = 0; ow < p.OW; ow++) {
        const long h0 = oh * p.sh - p.pt, w0 = ow * p.sw - p.pl;
        const long r0 = std::max<long>(0, h0), r1 = std::min(p.H, h0 + p.KH);
        const long c0 = std::max<long>(0, w0), c1 = std::min(p.W, w0 + p.KW);
        long nt = 0;
        for (long r = r0; r < r1; r++)
          for (long q = c0; q < c1 && nt < 64; q++) taps[nt++] = ((b * p.H + r) * p.W + q) * p.C;
        if (nt == 0) continue;
        const float* g = dy + ((b * p.OH + oh) * p.OW + ow) * p.C;
        long c = 0;
        if (p.KH * p.KW <= 64) {
          for (; c + VL <= p.C; c += VL) {
            vf best = vload(x + taps[0] + c);
            vi arg = vi{};
            for (long t = 1; t < nt; t++) {
              const vf v = vload(x + taps[t] + c);
              const vi gt = v > best;
              best = gt ? v : best;
              arg = gt ? vi{} + static_cast<int>(t) : arg;
            }
            for (int l = 0; l < VL; l++) dx[taps[arg[l]] + c + l] += g[c + l];
          }
        }
        for (; c < p.C; c++) {
          long at = -1;
          float best = 0;
          for (long r = r0; r < r1; r++)
            for (long q = c0; q < c1; q++) {
              const long i = ((b * p.H + r) * p.W + q) * p.C + c;
              if (at < 0 || x[i] > best) { best = x[i]; at = i; }
            }
          dx[at] += g[c];
        }
      }
  });
}

// ---------------------------------------------------------------- Node-API glue

#define NAPI_OK(call)                                                   \
  do {                                                                  \
    if ((call) != napi_ok) {                                            \
      napi_throw_error(env, nullptr, "mimanet_native: " #call " failed"); \
      return nullptr;                                                   \
    }                                                                   \
  } while (0)

bool get_f32(napi_env env, napi_value v, float** data, size_t* len) {
  napi_typedarray_type t;
  void* d;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &t, len, &d, &ab, &off) != napi_ok || t != napi_float32_array) {
    napi_throw_type_error(env, nullptr, "mimanet_native: expected a Float32Array");
    return false;
  }
  *data = static_cast<float*>(d);
  return true;
}

bool get_i32(napi_env env, napi_value v, int32_t** data, size_t* len) {
  napi_typedarray_type t;
  void* d;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &t, len, &d, &ab, &off) != napi_ok || t != napi_int32_array) {
    napi_throw_type_error(env, nullptr, "mimanet_native: expected an Int32Array");
    return false;
  }
  *data = static_cast<int32_t*>(d);
  return true;
}

bool read_conv(napi_env env, napi_value v, ConvP* p) {
  int32_t* q;
  size_t n;
  if (!get_i32(env, v, &q, &n)) return false;
  if (n != 15) {
    napi_throw_range_error(env, nullptr, "mimanet_native: conv params must have 15 entries");
    return false;
  }
  *p = ConvP{q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8], q[9], q[10], q[11], q[12], q[13], q[14], 0};
  return true;
}

// Checks that a buffer holds at least `need` floats.
bool check_len(napi_env env, size_t have, long need, const char* what) {
  if (static_cast<long>(have) < need) {
    napi_throw_range_error(env, nullptr, what);
    return false;
  }
  return true;
}

// conv kind: 0 forward (x, w -> y), 1 backprop input (dy, w -> dx), 2 backprop filter (x, dy -> dw).
// An optional fifth argument is the filter's data token from newDataToken().
template <int KIND>
napi_value conv_entry(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  NAPI_OK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  if (argc != 4 && argc != 5) {
    napi_throw_type_error(env, nullptr, "mimanet_native: conv expects (in0, in1, out, params[, filterToken])");
    return nullptr;
  }
  float *i0, *i1, *o;
  size_t n0, n1, no;
  ConvP p;
  if (!get_f32(env, a[0], &i0, &n0) || !get_f32(env, a[1], &i1, &n1) || !get_f32(env, a[2], &o, &no) ||
      !read_conv(env, a[3], &p))
    return nullptr;
  if (argc == 5 && napi_get_value_int64(env, a[4], &p.filter_token) != napi_ok) {
    napi_throw_type_error(env, nullptr, "mimanet_native: conv filterToken must be a number from newDataToken()");
    return nullptr;
  }
  const long xs = p.B * p.H * p.W * p.Ci, ws = p.K() * p.Co, ys = p.B * p.OH * p.OW * p.Co;
  try {
    if (KIND == 0) {
      if (!check_len(env, n0, xs, "conv2d: x too short") || !check_len(env, n1, ws, "conv2d: filter too short") ||
          !check_len(env, no, ys, "conv2d: output too short"))
        return nullptr;
      conv2d(i0, i1, o, p);
    } else if (KIND == 1) {
      if (!check_len(env, n0, ys, "conv2dBackpropInput: dy too short") ||
          !check_len(env, n1, ws, "conv2dBackpropInput: filter too short") ||
          !check_len(env, no, xs, "conv2dBackpropInput: dx too short"))
        return nullptr;
      conv2d_backprop_input(i0, i1, o, p);
    } else {
      if (!check_len(env, n0, xs, "conv2dBackpropFilter: x too short") ||
          !check_len(env, n1, ys, "conv2dBackpropFilter: dy too short") ||
          !check_len(env, no, ws, "conv2dBackpropFilter: dw too short"))
        return nullptr;
      conv2d_backprop_filter(i0, i1, o, p);
    }
  } catch (const std::bad_alloc&) {
    napi_throw_error(env, nullptr, "mimanet_native: out of memory for the column buffer");
  }
  return nullptr;
}

// matmul(a, b, out, [batch, M, N, K, transA, transB, bBatchStride0]) : out[b] = op(a[b]) * op(b[b])
napi_value matmul_entry(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  NAPI_OK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  float *A, *B, *C;
  size_t na, nb, nc;
  int32_t* q;
  size_t nq;
  if (argc != 4 || !get_f32(env, a[0], &A, &na) || !get_f32(env, a[1], &B, &nb) || !get_f32(env, a[2], &C, &nc) ||
      !get_i32(env, a[3], &q, &nq))
    return nullptr;
  if (nq != 8) {
    napi_throw_range_error(env, nullptr, "mimanet_native: matmul params must have 8 entries");
    return nullptr;
  }
  const long batch = q[0], M = q[1], N = q[2], K = q[3];
  const bool ta = q[4] != 0, tb = q[5] != 0;
  const long aStride = q[6], bStride = q[7];  // 0 broadcasts one matrix over the batch
  if (!check_len(env, na, (batch - 1) * aStride + M * K, "matmul: a too short") ||
      !check_len(env, nb, (batch - 1) * bStride + K * N, "matmul: b too short") ||
      !check_len(env, nc, batch * M * N, "matmul: out too short"))
    return nullptr;
  try {
    for (long i = 0; i < batch; i++) {
      const View Av = ta ? View{A + i * aStride, 1, M} : View{A + i * aStride, K, 1};
      const View Bv = tb ? View{B + i * bStride, 1, K} : View{B + i * bStride, N, 1};
      sgemm(M, N, K, Av, Bv, C + i * M * N, N, false);
    }
  } catch (const std::bad_alloc&) {
    napi_throw_error(env, nullptr, "mimanet_native: out of memory packing a matmul");
  }
  return nullptr;
}

bool get_int(napi_env env, napi_value v, int32_t* out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, nullptr, "mimanet_native: expected an integer");
    return false;
  }
  return true;
}

// binary(op, a, b, out, [d0..d3, sa0..sa3, sb0..sb3])
napi_value binary_entry(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  NAPI_OK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  int32_t op, *q;
  float *x, *y, *o;
  size_t nx, ny, no, nq;
  if (argc != 5 || !get_int(env, a[0], &op) || !get_f32(env, a[1], &x, &nx) || !get_f32(env, a[2], &y, &ny) ||
      !get_f32(env, a[3], &o, &no) || !get_i32(env, a[4], &q, &nq))
    return nullptr;
  if (nq != 12 || op < B_ADD || op > B_MIN) {
    napi_throw_range_error(env, nullptr, "mimanet_native: binary expects an op code and 12 shape entries");
    return nullptr;
  }
  long d[4], sa[4], sb[4];
  long ea = 0, eb = 0;
  for (int i = 0; i < 4; i++) {
    d[i] = q[i]; sa[i] = q[4 + i]; sb[i] = q[8 + i];
    ea += (d[i] - 1) * sa[i]; eb += (d[i] - 1) * sb[i];
  }
  if (!check_len(env, nx, ea + 1, "binary: a too short") || !check_len(env, ny, eb + 1, "binary: b too short") ||
      !check_len(env, no, d[0] * d[1] * d[2] * d[3], "binary: out too short"))
    return nullptr;
  binary(op, x, y, o, d, sa, sb);
  return nullptr;
}

// adam(p, g, m, v, out, hyper): hyper = [step, beta1, beta2, 1 / sqrt(1 - beta2^t), epsilon]
napi_value adam_entry(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value a[6];
  NAPI_OK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  float *p, *g, *m, *v, *out, *h;
  size_t np, ng, nm, nv, no, nh;
  if (argc != 6 || !get_f32(env, a[0], &p, &np) || !get_f32(env, a[1], &g, &ng) || !get_f32(env, a[2], &m, &nm) ||
      !get_f32(env, a[3], &v, &nv) || !get_f32(env, a[4], &out, &no) || !get_f32(env, a[5], &h, &nh))
    return nullptr;
  if (ng != np || nm != np || nv != np || no != np || nh != 5) {
    napi_throw_range_error(env, nullptr, "mimanet_native: adam expects p, g, m, v and out of one length and 5 hyperparameters");
    return nullptr;
  }
  adam(p, g, m, v, out, static_cast<long>(np), h[0], h[1], h[2], h[3], h[4]);
  return nullptr;
}

// unary(op, x, out, alpha)
napi_value unary_entry(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  NAPI_OK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  int32_t op;
  float *x, *y;
  size_t nx, ny;
  double alpha = 0;
  if (argc != 4 || !get_int(env, a[0], &op) || !get_f32(env, a[1], &x, &nx) || !get_f32(env, a[2], &y, &ny))
    return nullptr;
  NAPI_OK(napi_get_value_double(env, a[3], &alpha));
  if (op < U_NEG || op > U_RELU6 || ny < nx) {
    napi_throw_range_error(env, nullptr, "mimanet_native: unary expects a known op and an output as long as x");
    return nullptr;
  }
  unary(op, x, y, static_cast<long>(nx), static_cast<float>(alpha));
  return nullptr;
}

// reduce(op, x, out, outer, red, inner)
napi_value reduce_entry(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value a[6];
  NAPI_OK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  int32_t op, outer, red, inner;
  float *x, *y;
  size_t nx, ny;
  if (argc != 6 || !get_int(env, a[0], &op) || !get_f32(env, a[1], &x, &nx) || !get_f32(env, a[2], &y, &ny) ||
      !get_int(env, a[3], &outer) || !get_int(env, a[4], &red) || !get_int(env, a[5], &inner))
    return nullptr;
  if (op < R_SUM || op > R_MIN || outer < 0 || red < 0 || inner < 0) {
    napi_throw_range_error(env, nullptr, "mimanet_native: reduce expects a known op and sizes >= 0");
    return nullptr;
  }
  if (!check_len(env, nx, static_cast<long>(outer) * red * inner, "reduce: x too short") ||
      !check_len(env, ny, static_cast<long>(outer) * inner, "reduce: out too short"))
    return nullptr;
  reduce(op, x, y, outer, red, inner);
  return nullptr;
}

// channelAffine(x, a, b, y[, relu]): y = x a[c] + b[c], then max(0, .) when relu; C = a.length
napi_value channel_affine_entry(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value v[5];
  NAPI_OK(napi_get_cb_info(env, info, &argc, v, nullptr, nullptr));
  float *x, *a, *b, *y;
  size_t nx, na, nb, ny;
  bool relu = false;
  if ((argc != 4 && argc != 5) || !get_f32(env, v[0], &x, &nx) || !get_f32(env, v[1], &a, &na) ||
      !get_f32(env, v[2], &b, &nb) || !get_f32(env, v[3], &y, &ny))
    return nullptr;
  if (argc == 5) NAPI_OK(napi_get_value_bool(env, v[4], &relu));
  if (na == 0 || nb != na || nx % na != 0 || ny < nx) {
    napi_throw_range_error(env, nullptr, "mimanet_native: channelAffine needs a, b of one length dividing x");
    return nullptr;
  }
  channel_affine(x, a, b, y, static_cast<long>(nx / na), static_cast<long>(na), relu);
  return nullptr;
}

// bnStats(x, mean, variance): C = mean.length
napi_value bn_stats_entry(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value v[3];
  NAPI_OK(napi_get_cb_info(env, info, &argc, v, nullptr, nullptr));
  float *x, *m, *s;
  size_t nx, nm, ns;
  if (argc != 3 || !get_f32(env, v[0], &x, &nx) || !get_f32(env, v[1], &m, &nm) || !get_f32(env, v[2], &s, &ns))
    return nullptr;
  if (nm == 0 || ns != nm || nx % nm != 0) {
    napi_throw_range_error(env, nullptr, "mimanet_native: bnStats needs mean and variance of one length dividing x");
    return nullptr;
  }
  bn_stats(x, static_cast<long>(nx / nm), static_cast<long>(nm), m, s);
  return nullptr;
}

// bnGrad(x, dy, mean, invStd, gamma, beta, dx, dgamma, dbeta, relu): C = mean.length
napi_value bn_grad_entry(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value v[10];
  NAPI_OK(napi_get_cb_info(env, info, &argc, v, nullptr, nullptr));
  float* p[9];
  size_t n[9];
  if (argc != 10) {
    napi_throw_type_error(env, nullptr, "mimanet_native: bnGrad takes 10 arguments");
    return nullptr;
  }
  for (int i = 0; i < 9; i++)
    if (!get_f32(env, v[i], &p[i], &n[i])) return nullptr;
  bool relu = false;
  NAPI_OK(napi_get_value_bool(env, v[9], &relu));
  const size_t C = n[2];
  if (C == 0 || n[0] % C != 0 || n[1] != n[0] || n[6] != n[0] || n[3] != C || n[4] != C || n[5] != C || n[7] != C ||
      n[8] != C) {
    napi_throw_range_error(env, nullptr, "mimanet_native: bnGrad needs x, dy, dx of one size and per-channel vectors of C");
    return nullptr;
  }
  bn_grad(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], static_cast<long>(n[0] / C), static_cast<long>(C), relu);
  return nullptr;
}

// adviseHugePages(array): asks the kernel to back the 2 MiB-aligned interior of a fresh, untouched
// buffer with transparent huge pages (Linux, where THP is in "madvise" mode). The first write then
// faults once per 2 MiB instead of once per 4 KiB, which on some virtual machines is most of the
// cost of a new multi-megabyte tensor. Returns whether the advice was taken.
napi_value advise_huge_entry(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value v[1];
  NAPI_OK(napi_get_cb_info(env, info, &argc, v, nullptr, nullptr));
  float* p;
  size_t n;
  if (argc != 1 || !get_f32(env, v[0], &p, &n)) return nullptr;
  bool ok = false;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const uintptr_t huge = 2u << 20;
  const uintptr_t a = (reinterpret_cast<uintptr_t>(p) + huge - 1) & ~(huge - 1);
  const uintptr_t b = (reinterpret_cast<uintptr_t>(p + n)) & ~(huge - 1);
  if (b > a) ok = madvise(reinterpret_cast<void*>(a), b - a, MADV_HUGEPAGE) == 0;
#endif
  napi_value r;
  NAPI_OK(napi_get_boolean(env, ok, &r));
  return r;
}

bool read_pool(napi_env env, napi_value v, PoolP* p) {
  int32_t* q;
  size_t n;
  if (!get_i32(env, v, &q, &n)) return false;
  if (n != 12) {
    napi_throw_range_error(env, nullptr, "mimanet_native: pool params must have 12 entries");
    return false;
  }
  *p = PoolP{q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8], q[9], q[10], q[11]};
  return true;
}

// maxPool(x, y, params) and maxPoolGrad(dy, x, dx, params)
napi_value max_pool_entry(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  NAPI_OK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  float *x, *y;
  size_t nx, ny;
  PoolP p;
  if (argc != 3 || !get_f32(env, a[0], &x, &nx) || !get_f32(env, a[1], &y, &ny) || !read_pool(env, a[2], &p))
    return nullptr;
  if (!check_len(env, nx, p.B * p.H * p.W * p.C, "maxPool: x too short") ||
      !check_len(env, ny, p.B * p.OH * p.OW * p.C, "maxPool: y too short"))
    return nullptr;
  max_pool(x, y, p);
  return nullptr;
}

napi_value max_pool_grad_entry(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  NAPI_OK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  float *dy, *x, *dx;
  size_t ndy, nx, ndx;
  PoolP p;
  if (argc != 4 || !get_f32(env, a[0], &dy, &ndy) || !get_f32(env, a[1], &x, &nx) || !get_f32(env, a[2], &dx, &ndx) ||
      !read_pool(env, a[3], &p))
    return nullptr;
  if (!check_len(env, ndy, p.B * p.OH * p.OW * p.C, "maxPoolGrad: dy too short") ||
      !check_len(env, nx, p.B * p.H * p.W * p.C, "maxPoolGrad: x too short") ||
      !check_len(env, ndx, p.B * p.H * p.W * p.C, "maxPoolGrad: dx too short"))
    return nullptr;
  max_pool_grad(dy, x, dx, p);
  return nullptr;
}

napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  NAPI_OK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  int32_t n = 0;
  if (argc != 1 || napi_get_value_int32(env, a[0], &n) != napi_ok || n < 1) {
    napi_throw_range_error(env, nullptr, "mimanet_native: setThreads expects a positive integer");
    return nullptr;
  }
  pool().set_threads(n);
  return nullptr;
}

// setOneDnnThreads(n): OpenMP threads of oneDNN's kernels called from this thread. Unlike the
// pool's threads, this count changes oneDNN's arithmetic, so a run keeps one count in every
// thread, whatever the number of workers; returns the count now in force (0 without oneDNN).
napi_value set_onednn_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  NAPI_OK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  int32_t n = 0;
  if (argc != 1 || napi_get_value_int32(env, a[0], &n) != napi_ok || n < 1) {
    napi_throw_range_error(env, nullptr, "mimanet_native: setOneDnnThreads expects a positive integer");
    return nullptr;
  }
  if (blas().set_threads) blas().set_threads(n);
  napi_value r;
  NAPI_OK(napi_create_int32(env, onednn_threads(), &r));
  return r;
}

napi_value new_data_token(napi_env env, napi_callback_info) {
  napi_value r;
  NAPI_OK(napi_create_int64(env, next_data_token(), &r));
  return r;
}

napi_value get_threads(napi_env env, napi_callback_info) {
  napi_value r;
  NAPI_OK(napi_create_int32(env, max_threads(), &r));
  return r;
}

napi_value simd_info(napi_env env, napi_callback_info) {
  char text[192];
#ifdef MIMANET_DNNL_CONV
  const bool conv = dnnl_api().ok;
#else
  const bool conv = false;
#endif
  std::snprintf(text, sizeof text, "%d-float vectors, %dx%d tiles%s%s%s", VL, MR, NR, blas().sgemm ? ", GEMMs by oneDNN " : "",
                blas().sgemm ? blas().name : "", conv ? ", convolutions by oneDNN" : "");
  napi_value r;
  NAPI_OK(napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &r));
  return r;
}

napi_value init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"conv2d", nullptr, conv_entry<0>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropInput", nullptr, conv_entry<1>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropFilter", nullptr, conv_entry<2>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"matmul", nullptr, matmul_entry, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, binary_entry, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unary", nullptr, unary_entry, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reduce", nullptr, reduce_entry, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"channelAffine", nullptr, channel_affine_entry, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPool", nullptr, max_pool_entry, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPoolGrad", nullptr, max_pool_grad_entry, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adam", nullptr, adam_entry, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adviseHugePages", nullptr, advise_huge_entry, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bnStats", nullptr, bn_stats_entry, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bnGrad", nullptr, bn_grad_entry, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, set_threads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"getThreads", nullptr, get_threads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"newDataToken", nullptr, new_data_token, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setOneDnnThreads", nullptr, set_onednn_threads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"simdInfo", nullptr, simd_info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"tvl1Flow", nullptr, mimanet_tvl1_flow_entry, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return nullptr;
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
