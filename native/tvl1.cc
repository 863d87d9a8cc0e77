// TV-L1 optical flow, the native twin of src/motion/tvl1.ts (Zach, Pock and Bischof 2007, in the
// discretisation of Sánchez Pérez, Meinhardt-Llopis and Facciolo, IPOL 2013; median filtering of
// the flow as OpenCV's DualTVL1 does it). That file documents the algorithm and the parameters.
//
// Same steps, same order, same arithmetic as the TypeScript: fields stored as float32, every
// expression evaluated in float64 without fused multiply-adds (this file is compiled with
// -ffp-contract=off), each row's squared change summed in four lanes by x mod 4 and the rows added
// in order. The two therefore give the same flow, and the flow does not depend on the thread count.
//
// Threads: one team per call, all threads running the same schedule on their band of rows and
// meeting at a barrier between steps that read other rows (two per iteration).
#include <node_api.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>

#include "tvl1.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TVL1_RELAX() _mm_pause()
#else
#define TVL1_RELAX() ((void)0)
#endif

namespace {

struct Params {
  double tau, lambda, theta;
  int scales, warps;
  double epsilon;
  int inner, outer;
  double scale_step;
  int median;
};

constexpr int MIN_LEVEL_SIDE = 16;
constexpr double GRAD_IS_ZERO = 1.1920928955078125e-7;

// ---------------------------------------------------------------- the team and its barrier

// Pauses a waiter spins before it sleeps: about 10 to 30 microseconds, long enough for a partner that
// is running, short enough not to take the core from one that is not.
constexpr int SPINS = 200;

class Barrier {
 public:
  explicit Barrier(int n) : n_(n) {}
  void wait() {
    if (n_ == 1) return;
    const uint32_t g = gen_.load(std::memory_order_acquire);
    if (count_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_) {
      count_.store(0, std::memory_order_relaxed);
      gen_.store(g + 1, std::memory_order_release);
      gen_.notify_all();
      return;
    }
    // spin briefly (the others are usually a few microseconds behind), then sleep: on a machine with
    // more runnable threads than cores a spinning waiter would take the time of the one it waits for
    for (int spins = 0; gen_.load(std::memory_order_acquire) == g; spins++) {
      if (spins < SPINS) TVL1_RELAX();
      else gen_.wait(g, std::memory_order_acquire);
    }
  }

 private:
  const int n_;
  std::atomic<int> count_{0};
  std::atomic<uint32_t> gen_{0};
};

// ---------------------------------------------------------------- the median filter's network

// Comparators of Batcher's odd-even merge sort for the next power of two above n, without those
// that touch padding (which would hold +inf) and without those the middle output does not depend on.
std::vector<std::pair<int, int>> median_network(int n) {
  int N = 1;
  while (N < n) N *= 2;
  std::vector<std::pair<int, int>> all;
  for (int p = 1; p < N; p *= 2)
    for (int k = p; k >= 1; k /= 2)
      for (int j = k % p; j + k < N; j += 2 * k)
        for (int i = 0; i < std::min(k, N - j - k); i++)
          if ((i + j) / (2 * p) == (i + j + k) / (2 * p) && i + j + k < n) all.emplace_back(i + j, i + j + k);
  std::vector<char> need(n, 0);
  need[(n - 1) / 2] = 1;
  std::vector<std::pair<int, int>> kept;
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (need[it->first] || need[it->second]) {
      kept.push_back(*it);
      need[it->first] = need[it->second] = 1;
    }
  }
  std::reverse(kept.begin(), kept.end());
  return kept;
}

constexpr int ML = 16;  // pixels per pass of the network
typedef float mvec __attribute__((vector_size(ML * sizeof(float))));

// Median of the k x k window of each pixel of row y; `pad` is the field with k/2 replicated rows and
// columns around it (row stride pw), `win` scratch of k*k vectors.
void median_row(const float* pad, int pw, int w, int y, int k, const std::vector<std::pair<int, int>>& net, mvec* win, float* out) {
  const int n = k * k;
  for (int x0 = 0; x0 < w; x0 += ML) {
    const int m = std::min(ML, w - x0);
    for (int dy = 0; dy < k; dy++)
      for (int dx = 0; dx < k; dx++) {
        const float* src = pad + (y + dy) * pw + x0 + dx;
        mvec v = {};
        if (m == ML) std::memcpy(&v, src, sizeof v);
        else for (int l = 0; l < m; l++) v[l] = src[l];
        win[dy * k + dx] = v;
      }
    for (const auto& c : net) {
      const mvec a = win[c.first], b = win[c.second];
      win[c.first] = a < b ? a : b;
      win[c.second] = a < b ? b : a;
    }
    const mvec mid = win[(n - 1) / 2];
    for (int l = 0; l < m; l++) out[x0 + l] = mid[l];
  }
}

// The field with r replicated rows and columns around it, rows [y0, y1) of the padded image.
void pad_rows(const float* u, int w, int h, int r, float* pad, int y0, int y1) {
  const int pw = w + 2 * r;
  for (int py = y0; py < y1; py++) {
    const int sy = std::clamp(py - r, 0, h - 1);
    float* row = pad + py * pw;
    const float* src = u + sy * w;
    for (int x = 0; x < r; x++) row[x] = src[0];
    std::memcpy(row + r, src, sizeof(float) * w);
    for (int x = 0; x < r; x++) row[r + w + x] = src[w - 1];
  }
}

// ---------------------------------------------------------------- resampling

// One axis of a bilinear resampling from n to m samples (bilinearAxis of the TypeScript): the two
// source samples of each output sample and the second one's weight.
struct Axis {
  std::vector<int> i0, i1;
  std::vector<double> f;
};

Axis bilinear_axis(int n, int m) {
  Axis a{std::vector<int>(m), std::vector<int>(m), std::vector<double>(m)};
  const double r = static_cast<double>(n) / m;
  for (int k = 0; k < m; k++) {
    double s = (k + 0.5) * r - 0.5;
    if (s < 0) s = 0;
    int i = static_cast<int>(std::floor(s));
    if (i > n - 1) i = n - 1;
    a.i0[k] = i;
    a.i1[k] = i < n - 1 ? i + 1 : n - 1;
    a.f[k] = s - i > 1 ? 1 : s - i;
  }
  return a;
}

void resize_bilinear_rows(const float* src, int w, int h, float* dst, int nw, int nh, double scale, int y0, int y1) {
  const Axis ax = bilinear_axis(w, nw), ay = bilinear_axis(h, nh);
  for (int y = y0; y < y1; y++) {
    const float* r0 = src + ay.i0[y] * w;
    const float* r1 = src + ay.i1[y] * w;
    const double fy = ay.f[y];
    for (int x = 0; x < nw; x++) {
      const int x0 = ax.i0[x], x1 = ax.i1[x];
      const double fx = ax.f[x];
      const double a = r0[x0] + fx * (static_cast<double>(r0[x1]) - r0[x0]);
      const double b = r1[x0] + fx * (static_cast<double>(r1[x1]) - r1[x0]);
      dst[y * nw + x] = static_cast<float>((a + fy * (b - a)) * scale);
    }
  }
}

void centred_gradient_rows(const float* src, int w, int h, float* dx, float* dy, int y0, int y1) {
  for (int y = y0; y < y1; y++) {
    const int up = y > 0 ? y - 1 : 0;
    const int down = y < h - 1 ? y + 1 : h - 1;
    for (int x = 0; x < w; x++) {
      const int left = x > 0 ? x - 1 : 0;
      const int right = x < w - 1 ? x + 1 : w - 1;
      dx[y * w + x] = static_cast<float>(0.5 * (static_cast<double>(src[y * w + right]) - src[y * w + left]));
      dy[y * w + x] = static_cast<float>(0.5 * (static_cast<double>(src[down * w + x]) - src[up * w + x]));
    }
  }
}

inline double cubic(double p0, double p1, double p2, double p3, double t) {
  return p1 + 0.5 * t * (p2 - p0 + t * (2 * p0 - 5 * p1 + 4 * p2 - p3 + t * (3 * (p1 - p2) + p3 - p0)));
}

struct Level {
  int w, h;
  const float* i0;
  const float* i1;
};

struct Fields {
  std::vector<float> u1, u2, p11, p12, p21, p22, i1x, i1y, i1c, i1wx, i1wy, grad, rho_c, pad1, pad2, up1, up2, zeros;
  std::vector<double> row_error;
};

typedef double v4d __attribute__((vector_size(4 * sizeof(double))));
typedef float v4f __attribute__((vector_size(4 * sizeof(float))));

// cubic() on four lanes at once: I1, its x and y derivatives (and a spare lane), same arithmetic per lane.
inline v4d cubic4(v4d p0, v4d p1, v4d p2, v4d p3, double t) {
  return p1 + 0.5 * t * (p2 - p0 + t * (2 * p0 - 5 * p1 + 4 * p2 - p3 + t * (3 * (p1 - p2) + p3 - p0)));
}

// I1, I1x, I1y of a level interleaved (four floats per pixel), so a warp reads each tap once.
void interleave_rows(const float* i1, const float* i1x, const float* i1y, int w, float* out, int y0, int y1) {
  for (int i = y0 * w; i < y1 * w; i++) {
    out[4 * i] = i1[i];
    out[4 * i + 1] = i1x[i];
    out[4 * i + 2] = i1y[i];
    out[4 * i + 3] = 0;
  }
}

void warp_rows(const Level& L, Fields& F, int y0, int y1) {
  const int w = L.w, h = L.h;
  const float* img = F.i1c.data();
  for (int y = y0; y < y1; y++) {
    for (int x = 0; x < w; x++) {
      const int i = y * w + x;
      const double px = x + static_cast<double>(F.u1[i]);
      const double py = y + static_cast<double>(F.u2[i]);
      const double fx0 = std::floor(px), fy0 = std::floor(py);
      const double tx = px - fx0, ty = py - fy0;
      int xi[4], yi[4];
      for (int k = 0; k < 4; k++) {
        const double cx = fx0 - 1 + k, cy = fy0 - 1 + k;
        xi[k] = 4 * (cx < 0 ? 0 : cx > w - 1 ? w - 1 : static_cast<int>(cx));
        yi[k] = 4 * w * (cy < 0 ? 0 : cy > h - 1 ? h - 1 : static_cast<int>(cy));
      }
      v4d r[4];
      for (int k = 0; k < 4; k++) {
        v4d t[4];
        for (int j = 0; j < 4; j++) {
          v4f f;
          std::memcpy(&f, img + yi[k] + xi[j], sizeof f);
          t[j] = __builtin_convertvector(f, v4d);
        }
        r[k] = cubic4(t[0], t[1], t[2], t[3], tx);
      }
      const v4f s = __builtin_convertvector(cubic4(r[0], r[1], r[2], r[3], ty), v4f);
      const double iw = s[0], ix = s[1], iy = s[2];
      F.i1wx[i] = s[1];
      F.i1wy[i] = s[2];
      F.grad[i] = static_cast<float>(ix * ix + iy * iy);
      F.rho_c[i] = static_cast<float>(iw - ix * F.u1[i] - iy * F.u2[i] - L.i0[i]);
    }
  }
}

// Thresholding step, then u = v + theta div p, for the pixels [x0, x1) of a row; the divergence is
// (p11 - p11l) + (p12 - p12u), with p11l the left neighbours (zeros at x = 0) and p12u the row above.
void primal_span(float* __restrict u1, float* __restrict u2, const float* __restrict ix_, const float* __restrict iy_,
                 const float* __restrict g_, const float* __restrict rc, const float* __restrict p11, const float* __restrict p11l,
                 const float* __restrict p12, const float* __restrict p12u, const float* __restrict p21, const float* __restrict p21l,
                 const float* __restrict p22, const float* __restrict p22u, int x0, int x1, double lt, double theta, double* __restrict e) {
  const double neg_lt = -lt;
  for (int x = x0; x < x1; x++) {
    const double a = u1[x], b = u2[x];
    const double ix = ix_[x], iy = iy_[x], g = g_[x];
    const double rho = rc[x] + (ix * a + iy * b);
    const double fi = -rho / g;
    const bool lo = rho < neg_lt * g;
    const bool hi = rho > lt * g;
    const bool mid = g > GRAD_IS_ZERO;
    const double d1 = lo ? lt * ix : hi ? neg_lt * ix : mid ? fi * ix : 0.0;
    const double d2 = lo ? lt * iy : hi ? neg_lt * iy : mid ? fi * iy : 0.0;
    const double div1 = (static_cast<double>(p11[x]) - p11l[x]) + (static_cast<double>(p12[x]) - p12u[x]);
    const double div2 = (static_cast<double>(p21[x]) - p21l[x]) + (static_cast<double>(p22[x]) - p22u[x]);
    const float n1 = static_cast<float>((a + d1) + theta * div1);
    const float n2 = static_cast<float>((b + d2) + theta * div2);
    u1[x] = n1;
    u2[x] = n2;
    e[x] = (n1 - a) * (n1 - a) + (n2 - b) * (n2 - b);
  }
}

// The primal step for row y; returns the row's sum of |u_new - u|^2.
double primal_row(Fields& F, int w, int y, double lt, double theta, double* e) {
  float* u1 = F.u1.data() + y * w;
  float* u2 = F.u2.data() + y * w;
  const float* ix_ = F.i1wx.data() + y * w;
  const float* iy_ = F.i1wy.data() + y * w;
  const float* g_ = F.grad.data() + y * w;
  const float* rc = F.rho_c.data() + y * w;
  const float* p11 = F.p11.data() + y * w;
  const float* p21 = F.p21.data() + y * w;
  const float* p12 = F.p12.data() + y * w;
  const float* p22 = F.p22.data() + y * w;
  const float* p12u = y > 0 ? p12 - w : F.zeros.data();
  const float* p22u = y > 0 ? p22 - w : F.zeros.data();
  const float* z = F.zeros.data();
  // x = 0 takes p11 and p21 as 0 left of the image (the zeros at z - 0)
  primal_span(u1, u2, ix_, iy_, g_, rc, p11, z, p12, p12u, p21, z, p22, p22u, 0, 1, lt, theta, e);
  primal_span(u1, u2, ix_, iy_, g_, rc, p11, p11 - 1, p12, p12u, p21, p21 - 1, p22, p22u, 1, w, lt, theta, e);
  double l0 = 0, l1 = 0, l2 = 0, l3 = 0;
  int x = 0;
  for (; x + 4 <= w; x += 4) {
    l0 += e[x];
    l1 += e[x + 1];
    l2 += e[x + 2];
    l3 += e[x + 3];
  }
  if (x < w) l0 += e[x];
  if (x + 1 < w) l1 += e[x + 1];
  if (x + 2 < w) l2 += e[x + 2];
  return (l0 + l1) + (l2 + l3);
}

// Chambolle's projection p = (p + tau/theta grad u) / (1 + tau/theta |grad u|) for the pixels
// [x0, x1) of a row, given u at x and x + 1 (ur) and on the next row (ud); ux is 0 where ur = u.
void dual_span(float* __restrict p1, float* __restrict p2, const float* __restrict u, const float* __restrict ur,
               const float* __restrict ud, int x0, int x1, double taut) {
  for (int x = x0; x < x1; x++) {
    const double ux = static_cast<double>(ur[x]) - u[x];
    const double uy = static_cast<double>(ud[x]) - u[x];
    const double ng = 1 + taut * std::sqrt(ux * ux + uy * uy);
    p1[x] = static_cast<float>((p1[x] + taut * ux) / ng);
    p2[x] = static_cast<float>((p2[x] + taut * uy) / ng);
  }
}

// The dual step for row y: forward differences of u, zero across the last column and row.
void dual_row(Fields& F, int w, int h, int y, double taut) {
  const float* u1 = F.u1.data() + y * w;
  const float* u2 = F.u2.data() + y * w;
  const bool last = y == h - 1;
  const float* d1 = last ? u1 : u1 + w;  // the last row's vertical difference is 0
  const float* d2 = last ? u2 : u2 + w;
  float* p11 = F.p11.data() + y * w;
  float* p12 = F.p12.data() + y * w;
  float* p21 = F.p21.data() + y * w;
  float* p22 = F.p22.data() + y * w;
  dual_span(p11, p12, u1, u1 + 1, d1, 0, w - 1, taut);
  dual_span(p21, p22, u2, u2 + 1, d2, 0, w - 1, taut);
  dual_span(p11, p12, u1, u1, d1, w - 1, w, taut);  // last column: ux = u - u = 0
  dual_span(p21, p22, u2, u2, d2, w - 1, w, taut);
}

std::vector<std::pair<int, int>> pyramid_sizes(int w, int h, const Params& p) {
  std::vector<std::pair<int, int>> s{{w, h}};
  for (int k = 1; k < p.scales; k++) {
    const int nw = static_cast<int>(std::floor(s.back().first * p.scale_step + 0.5));
    const int nh = static_cast<int>(std::floor(s.back().second * p.scale_step + 0.5));
    if (nw < MIN_LEVEL_SIDE || nh < MIN_LEVEL_SIDE) break;
    s.emplace_back(nw, nh);
  }
  return s;
}

struct Job {
  const Params& p;
  std::vector<std::pair<int, int>> sizes;
  std::vector<std::vector<float>> i0s, i1s;
  Fields F;
  std::vector<std::pair<int, int>> net;
  Barrier barrier;
  int threads;
  long iterations = 0;

  Job(const Params& params, int threads_) : p(params), barrier(threads_), threads(threads_) {}

  std::pair<int, int> band(int h, int t) const { return {static_cast<int>(static_cast<long>(h) * t / threads), static_cast<int>(static_cast<long>(h) * (t + 1) / threads)}; }

  void level(int s, int t, std::vector<mvec>& win, std::vector<double>& ebuf) {
    const int w = sizes[s].first, h = sizes[s].second, n = w * h;
    const Level L{w, h, i0s[s].data(), i1s[s].data()};
    const auto [y0, y1] = band(h, t);
    const double scaled_epsilon = p.epsilon * p.epsilon * n;
    const double lt = p.lambda * p.theta;
    const double taut = p.tau / p.theta;
    const int r = (p.median - 1) / 2;
    const int pw = w + 2 * r;
    centred_gradient_rows(L.i1, w, h, F.i1x.data(), F.i1y.data(), y0, y1);
    interleave_rows(L.i1, F.i1x.data(), F.i1y.data(), w, F.i1c.data(), y0, y1);
    for (auto* q : {&F.p11, &F.p12, &F.p21, &F.p22}) std::fill(q->begin() + y0 * w, q->begin() + y1 * w, 0.0f);
    barrier.wait();
    const auto [q0, q1] = band(h + 2 * r, t);
    for (int warp = 0; warp < p.warps; warp++) {
      warp_rows(L, F, y0, y1);
      barrier.wait();
      double error = std::numeric_limits<double>::infinity();
      for (int outer = 0; error > scaled_epsilon && outer < p.outer; outer++) {
        if (p.median > 1) {
          pad_rows(F.u1.data(), w, h, r, F.pad1.data(), q0, q1);
          pad_rows(F.u2.data(), w, h, r, F.pad2.data(), q0, q1);
          barrier.wait();
          for (int y = y0; y < y1; y++) {
            median_row(F.pad1.data(), pw, w, y, p.median, net, win.data(), F.u1.data() + y * w);
            median_row(F.pad2.data(), pw, w, y, p.median, net, win.data(), F.u2.data() + y * w);
          }
          barrier.wait();
        }
        for (int inner = 0; error > scaled_epsilon && inner < p.inner; inner++) {
          for (int y = y0; y < y1; y++) F.row_error[y] = primal_row(F, w, y, lt, p.theta, ebuf.data());
          barrier.wait();
          error = 0;
          for (int y = 0; y < h; y++) error += F.row_error[y];
          for (int y = y0; y < y1; y++) dual_row(F, w, h, y, taut);
          barrier.wait();
          if (t == 0) iterations++;
        }
      }
    }
  }

  void run(int t) {
    std::vector<mvec> win(static_cast<size_t>(p.median) * p.median);
    std::vector<double> ebuf(sizes[0].first);
    for (size_t s = 1; s < sizes.size(); s++) {
      const auto [pw, ph] = sizes[s - 1];
      const auto [nw, nh] = sizes[s];
      const auto [y0, y1] = band(nh, t);
      resize_bilinear_rows(i0s[s - 1].data(), pw, ph, i0s[s].data(), nw, nh, 1.0, y0, y1);
      resize_bilinear_rows(i1s[s - 1].data(), pw, ph, i1s[s].data(), nw, nh, 1.0, y0, y1);
      barrier.wait();
    }
    for (int s = static_cast<int>(sizes.size()) - 1; s >= 0; s--) {
      level(s, t, win, ebuf);
      if (s == 0) break;
      const auto [w, h] = sizes[s];
      const auto [fw, fh] = sizes[s - 1];
      const auto [y0, y1] = band(fh, t);
      resize_bilinear_rows(F.u1.data(), w, h, F.up1.data(), fw, fh, static_cast<double>(fw) / w, y0, y1);
      resize_bilinear_rows(F.u2.data(), w, h, F.up2.data(), fw, fh, static_cast<double>(fh) / h, y0, y1);
      barrier.wait();
      std::copy(F.up1.begin() + y0 * fw, F.up1.begin() + y1 * fw, F.u1.begin() + y0 * fw);
      std::copy(F.up2.begin() + y0 * fw, F.up2.begin() + y1 * fw, F.u2.begin() + y0 * fw);
      barrier.wait();
    }
  }
};

long tvl1(const float* i0, const float* i1, int w, int h, const Params& p, int threads, float* u_out, float* v_out) {
  // a band under 8 rows costs more in barriers than it saves
  threads = std::max(1, std::min(threads, h / 8));
  Job job(p, threads);
  job.sizes = pyramid_sizes(w, h, p);
  const size_t n = static_cast<size_t>(w) * h;
  for (const auto& [lw, lh] : job.sizes) {
    job.i0s.emplace_back(static_cast<size_t>(lw) * lh);
    job.i1s.emplace_back(static_cast<size_t>(lw) * lh);
  }
  std::copy(i0, i0 + n, job.i0s[0].begin());
  std::copy(i1, i1 + n, job.i1s[0].begin());
  Fields& F = job.F;
  for (auto* f : {&F.u1, &F.u2, &F.p11, &F.p12, &F.p21, &F.p22, &F.i1x, &F.i1y, &F.i1wx, &F.i1wy, &F.grad, &F.rho_c, &F.up1, &F.up2, &F.zeros}) f->assign(n, 0.0f);
  const size_t padded = static_cast<size_t>(w + p.median - 1) * (h + p.median - 1);
  F.i1c.assign(4 * n, 0.0f);
  F.pad1.assign(padded, 0.0f);
  F.pad2.assign(padded, 0.0f);
  F.row_error.assign(h, 0.0);
  if (p.median > 1) job.net = median_network(p.median * p.median);
  std::vector<std::thread> team;
  for (int t = 1; t < threads; t++) team.emplace_back([&job, t] { job.run(t); });
  job.run(0);
  for (auto& th : team) th.join();
  std::copy(F.u1.begin(), F.u1.begin() + n, u_out);
  std::copy(F.u2.begin(), F.u2.begin() + n, v_out);
  return job.iterations;
}

bool typed(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* len, const char* what) {
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &t, len, data, &ab, &off) != napi_ok || t != want) {
    napi_throw_type_error(env, nullptr, what);
    return false;
  }
  return true;
}

}  // namespace

// tvl1Flow(i0, i1, width, height, params: Float64Array(10), threads, u, v) -> iterations.
// params: tau, lambda, theta, scales, warps, epsilon, innerIterations, outerIterations, scaleStep,
// medianFiltering, already checked by resolveTvl1Params (src/motion/tvl1.ts).
napi_value mimanet_tvl1_flow_entry(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value a[8];
  if (napi_get_cb_info(env, info, &argc, a, nullptr, nullptr) != napi_ok || argc != 8) {
    napi_throw_type_error(env, nullptr, "mimanet_native: tvl1Flow expects (i0, i1, width, height, params, threads, u, v)");
    return nullptr;
  }
  void *pi0, *pi1, *pp, *pu, *pv;
  size_t n0, n1, np, nu, nv;
  if (!typed(env, a[0], napi_float32_array, &pi0, &n0, "mimanet_native: tvl1Flow i0 must be a Float32Array") ||
      !typed(env, a[1], napi_float32_array, &pi1, &n1, "mimanet_native: tvl1Flow i1 must be a Float32Array") ||
      !typed(env, a[4], napi_float64_array, &pp, &np, "mimanet_native: tvl1Flow params must be a Float64Array") ||
      !typed(env, a[6], napi_float32_array, &pu, &nu, "mimanet_native: tvl1Flow u must be a Float32Array") ||
      !typed(env, a[7], napi_float32_array, &pv, &nv, "mimanet_native: tvl1Flow v must be a Float32Array"))
    return nullptr;
  int32_t w = 0, h = 0, threads = 1;
  if (napi_get_value_int32(env, a[2], &w) != napi_ok || napi_get_value_int32(env, a[3], &h) != napi_ok || napi_get_value_int32(env, a[5], &threads) != napi_ok) {
    napi_throw_type_error(env, nullptr, "mimanet_native: tvl1Flow width, height and threads must be integers");
    return nullptr;
  }
  const size_t n = static_cast<size_t>(w) * static_cast<size_t>(h);
  if (w < 3 || h < 3 || n0 != n || n1 != n || nu != n || nv != n || np != 10) {
    napi_throw_range_error(env, nullptr, "mimanet_native: tvl1Flow needs images and outputs of width x height (at least 3 x 3) and 10 params");
    return nullptr;
  }
  const double* q = static_cast<const double*>(pp);
  const Params p{q[0], q[1], q[2], static_cast<int>(q[3]), static_cast<int>(q[4]), q[5], static_cast<int>(q[6]), static_cast<int>(q[7]), q[8], static_cast<int>(q[9])};
  if (!(p.theta > 0) || p.scales < 1 || p.warps < 1 || p.inner < 1 || p.outer < 1 || !(p.scale_step > 0 && p.scale_step <= 1) || p.median < 1 || p.median % 2 == 0 || p.median > 15) {
    napi_throw_range_error(env, nullptr, "mimanet_native: tvl1Flow params out of range");
    return nullptr;
  }
  const long its = tvl1(static_cast<const float*>(pi0), static_cast<const float*>(pi1), w, h, p, std::max(1, static_cast<int>(threads)), static_cast<float*>(pu), static_cast<float*>(pv));
  napi_value r;
  napi_create_double(env, static_cast<double>(its), &r);
  return r;
}
