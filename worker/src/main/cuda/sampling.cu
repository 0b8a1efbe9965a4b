// The coupled sampling step on the GPU: one block of 1024 threads per sequence turns a row
// of logits and the sequence's 64-bit code into a token, so that only the token id, its CDF
// bucket and two doubles for the logprobs cross to the host each step.
//
// It reproduces quasiroll.common.sampler.CoupledTokenSampler (vocabulary order = id) bit for
// bit wherever that is cheap, and documents where it is not:
//  * weights w_j = exp(((double) x_j - m) * invT) with the SAME exp (DeterministicExp: fma,
//    add, multiply and bit operations only, ported below with explicit _rn intrinsics so
//    nvcc cannot contract or reorder) -> identical bits;
//  * the sums S of the weights in the SAME fixed order (four chains over j mod 4 in id order,
//    combined (s0 + s1) + (s2 + s3), then the tail) -> identical bits; run here by four
//    threads over shared-memory chunks the whole block fills;
//  * top-k (k largest logits, lowest id first on ties) and min-p (w_j >= min_p) -> identical;
//  * f_j = floor(w_j / S * 2^32), the remainder to the argmax (lowest id), selection
//    C_j <= (code >>> 32) < C_j + f_j -> exact integer arithmetic, identical;
//  * top-p: the CPU sorts by (weight desc, id asc) and stops where a sequential running sum
//    first reaches top_p * S'. Here the cut is found by a bitwise search over the logit keys
//    with tree-ordered sums, and the tokens tied at the cut logit are kept in id order until
//    the mass is reached. The kept set is the same unless the running sum passes the target
//    within double rounding of it (relative ~1e-16), or two different logits round to the
//    same weight at the cut. That is the only place the GPU and CPU choices can differ.
// Logprobs are finished on the host from (x_t - m) and the raw sum, with the CPU's formulas.

#include <stdint.h>

#define ST 1024
#define NWARP (ST / 32)
#define CHUNK 4096

typedef unsigned long long u64;

// ---- DeterministicExp (quasiroll.common.sampler), bit-identical port ----
#define EXP_MIN_ARG (-708.0)
#define EXP_LOG2E 1.4426950408889634
#define EXP_LN2_HI 6.93147180369123816490e-01
#define EXP_LN2_LO 1.90821492927058770002e-10
#define EXP_ROUNDER 6755399441055744.0 /* 0x1.8p52 */

__device__ __forceinline__ double dexp(double x, const double* taylor) {
  x = fmax(x, EXP_MIN_ARG);
  double t = __fma_rn(x, EXP_LOG2E, EXP_ROUNDER);
  double n = __dsub_rn(t, EXP_ROUNDER);
  double r = __fma_rn(n, -EXP_LN2_HI, x);
  r = __fma_rn(n, -EXP_LN2_LO, r);
  double p = taylor[13];
  for (int i = 12; i >= 0; i--) p = __fma_rn(p, r, taylor[i]);
  long long bits = (__double_as_longlong(t) - __double_as_longlong(EXP_ROUNDER) + 1023) << 52;
  return __dmul_rn(p, __longlong_as_double(bits));
}

// Monotone key of a float (larger float -> larger key); callers fold -0 into +0 first.
__device__ __forceinline__ unsigned fkey(float f) {
  unsigned b = __float_as_uint(f);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

struct Shared {
  double chunk[CHUNK];
  double taylor[14];
  double d[NWARP + 1];
  u64 u[NWARP + 1];
  float f[NWARP + 1];
  int i[NWARP + 1];
  int found;
  u64 foundLo, foundWidth;
};

__device__ double bsum_d(double v, Shared& s) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  int w = threadIdx.x >> 5, l = threadIdx.x & 31;
  if (l == 0) s.d[w] = v;
  __syncthreads();
  if (w == 0) {
    double x = s.d[l];
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    if (l == 0) s.d[NWARP] = x;
  }
  __syncthreads();
  double r = s.d[NWARP];
  __syncthreads();
  return r;
}

__device__ u64 bsum_u(u64 v, Shared& s) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  int w = threadIdx.x >> 5, l = threadIdx.x & 31;
  if (l == 0) s.u[w] = v;
  __syncthreads();
  if (w == 0) {
    u64 x = s.u[l];
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    if (l == 0) s.u[NWARP] = x;
  }
  __syncthreads();
  u64 r = s.u[NWARP];
  __syncthreads();
  return r;
}

__device__ float bmax_f(float v, Shared& s) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  int w = threadIdx.x >> 5, l = threadIdx.x & 31;
  if (l == 0) s.f[w] = v;
  __syncthreads();
  if (w == 0) {
    float x = s.f[l];
    for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
    if (l == 0) s.f[NWARP] = x;
  }
  __syncthreads();
  float r = s.f[NWARP];
  __syncthreads();
  return r;
}

__device__ int bmin_i(int v, Shared& s) {
  for (int o = 16; o > 0; o >>= 1) v = min(v, __shfl_xor_sync(0xffffffffu, v, o));
  int w = threadIdx.x >> 5, l = threadIdx.x & 31;
  if (l == 0) s.i[w] = v;
  __syncthreads();
  if (w == 0) {
    int x = s.i[l];
    for (int o = 16; o > 0; o >>= 1) x = min(x, __shfl_xor_sync(0xffffffffu, x, o));
    if (l == 0) s.i[NWARP] = x;
  }
  __syncthreads();
  int r = s.i[NWARP];
  __syncthreads();
  return r;
}

// Exclusive prefix sum over threads in thread order (exact: integers).
__device__ u64 bscan_u(u64 v, Shared& s) {
  int w = threadIdx.x >> 5, l = threadIdx.x & 31;
  u64 inc = v;
  for (int o = 1; o < 32; o <<= 1) {
    u64 y = __shfl_up_sync(0xffffffffu, inc, o);
    if (l >= o) inc += y;
  }
  if (l == 31) s.u[w] = inc;
  __syncthreads();
  if (w == 0) {
    u64 x = s.u[l], xi = x;
    for (int o = 1; o < 32; o <<= 1) {
      u64 y = __shfl_up_sync(0xffffffffu, xi, o);
      if (l >= o) xi += y;
    }
    s.u[l] = xi - x;
  }
  __syncthreads();
  u64 r = s.u[w] + inc - v;
  __syncthreads();
  return r;
}

// CoupledTokenSampler's fixed-order sum of weight(j) over j < n: lanes c = 0..3 sum
// j = c, c + 4, ... below n - n % 4 sequentially, then (s0 + s1) + (s2 + s3), then the tail
// in id order. The block fills a shared chunk with weights; four threads run the chains.
template <typename W>
__device__ double fixed_order_sum(int n, W weight, Shared& s) {
  const int bound = n - n % 4;
  double a = 0.0;
  for (int start = 0; start < n; start += CHUNK) {
    int len = min(CHUNK, n - start);
    for (int j = threadIdx.x; j < len; j += ST) s.chunk[j] = weight(start + j);
    __syncthreads();
    if (threadIdx.x < 4) {
      int end = min(len, bound - start);
      for (int j = threadIdx.x; j < end; j += 4) a = __dadd_rn(a, s.chunk[j]);
    }
    if (start + len == n) {
      // Last chunk: combine the chains, then the tail (it lies in this chunk: CHUNK % 4 == 0).
      if (threadIdx.x < 4) s.d[threadIdx.x] = a;
      __syncthreads();
      if (threadIdx.x == 0) {
        double t = __dadd_rn(__dadd_rn(s.d[0], s.d[1]), __dadd_rn(s.d[2], s.d[3]));
        for (int j = bound; j < n; j++) t = __dadd_rn(t, s.chunk[j - start]);
        s.d[NWARP] = t;
      }
    }
    __syncthreads();
  }
  double r = s.d[NWARP];
  __syncthreads();
  return r;
}

__device__ __forceinline__ float logit_at(const float* row, int j) { return row[j] + 0.0f; }

// The id of the need-th (1-based) token in id order among those where pred(j) holds.
template <typename Pred>
__device__ int nth_id(int need, int lo, int hi, Pred pred, Shared& s) {
  u64 c = 0;
  for (int j = lo; j < hi; j++) c += pred(j) ? 1 : 0;
  u64 base = bscan_u(c, s);
  if (threadIdx.x == 0) s.found = 0x7fffffff;
  __syncthreads();
  if ((u64)need > base && (u64)need <= base + c) {
    u64 k = base;
    for (int j = lo; j < hi; j++) {
      if (pred(j) && ++k == (u64)need) {
        s.found = j;
        break;
      }
    }
  }
  __syncthreads();
  int r = s.found;
  __syncthreads();
  return r;
}

// grid (rows), block 1024. rowStride = vocab, or 0 to sample every row from one row (the
// prompt's logits). greedy != 0: the argmax (lowest id on ties) with the whole interval.
// invT = 1 / temperature as the host computed it. Outputs per row: token, bucket lo and
// width (units of 2^-32), x_token - m and the raw (temperature 1) weight sum, in double.
extern "C" __global__ void __launch_bounds__(ST) coupled_sample(
    const float* logits, long long rowStride, int vocab, int greedy, double invT, int topK,
    double topP, double minP, const u64* codes, int* outToken, long long* outLo,
    long long* outWidth, double* outRawDelta, double* outRawSum) {
  __shared__ Shared s;
  const int r = blockIdx.x;
  const float* row = logits + (long long)r * rowStride;
  const int per = (vocab + ST - 1) / ST;
  const int lo = min(vocab, (int)threadIdx.x * per), hi = min(vocab, lo + per);
  if (threadIdx.x == 0) {
    double f = 1.0;
    for (int i = 0; i <= 13; i++) {
      if (i > 0) f = __dmul_rn(f, (double)i);
      s.taylor[i] = __ddiv_rn(1.0, f);
    }
  }

  float mx = -INFINITY;
  for (int j = lo; j < hi; j++) mx = fmaxf(mx, logit_at(row, j));
  const float m = bmax_f(mx, s);
  int am = 0x7fffffff;
  for (int j = lo; j < hi; j++) if (logit_at(row, j) == m) { am = j; break; }
  const int argmax = bmin_i(am, s);
  const double md = (double)m;

  auto rawWeight = [&](int j) { return dexp(__dsub_rn((double)logit_at(row, j), md), s.taylor); };
  const double rawSum = fixed_order_sum(vocab, rawWeight, s);
  if (greedy) {
    if (threadIdx.x == 0) {
      outToken[r] = argmax;
      outLo[r] = 0;
      outWidth[r] = 1LL << 32;
      outRawDelta[r] = 0.0;
      outRawSum[r] = rawSum;
    }
    return;
  }
  auto weight = [&](int j) {
    return dexp(__dmul_rn(__dsub_rn((double)logit_at(row, j), md), invT), s.taylor);
  };
  const double sumAll = invT == 1.0 ? rawSum : fixed_order_sum(vocab, weight, s);

  // top-k: the k-th largest key by a bitwise search; the ties at it are kept lowest id first.
  unsigned kKey = 0;
  int kCut = vocab;
  if (topK > 0 && topK < vocab) {
    unsigned prefix = 0;
    for (int b = 31; b >= 0; b--) {
      unsigned cand = prefix | (1u << b);
      u64 c = 0;
      for (int j = lo; j < hi; j++) c += fkey(logit_at(row, j)) >= cand ? 1 : 0;
      if (bsum_u(c, s) >= (u64)topK) prefix = cand;
    }
    kKey = prefix;
    u64 g = 0;
    for (int j = lo; j < hi; j++) g += fkey(logit_at(row, j)) > kKey ? 1 : 0;
    int need = topK - (int)bsum_u(g, s);
    kCut = nth_id(need, lo, hi, [&](int j) { return fkey(logit_at(row, j)) == kKey; }, s);
  }
  auto inTopK = [&](int j) {
    unsigned k = fkey(logit_at(row, j));
    return k > kKey || (k == kKey && j <= kCut);
  };

  // top-p over the top-k set (see the header for where this can differ from the CPU).
  unsigned pKey = 0;
  int pCut = vocab;
  if (topP < 1.0) {
    const double current = (topK > 0 && topK < vocab)
        ? fixed_order_sum(vocab, [&](int j) { return inTopK(j) ? weight(j) : 0.0; }, s)
        : sumAll;
    const double target = __dmul_rn(topP, current);
    unsigned prefix = 0;
    for (int b = 31; b >= 0; b--) {
      unsigned cand = prefix | (1u << b);
      double mass = 0.0;
      for (int j = lo; j < hi; j++) {
        if (inTopK(j) && fkey(logit_at(row, j)) >= cand) mass += weight(j);
      }
      if (bsum_d(mass, s) >= target) prefix = cand;
    }
    pKey = prefix;
    double above = 0.0, tieWeight = 0.0;
    u64 ties = 0;
    for (int j = lo; j < hi; j++) {
      if (!inTopK(j)) continue;
      unsigned k = fkey(logit_at(row, j));
      if (k > pKey) above += weight(j);
      if (k == pKey) {
        ties++;
        tieWeight = weight(j);
      }
    }
    above = bsum_d(above, s);
    const u64 nties = bsum_u(ties, s);
    if (threadIdx.x == 0) s.d[NWARP] = 0.0;
    __syncthreads();
    if (tieWeight > 0.0) s.d[NWARP] = tieWeight;  // every tied token has the same weight
    __syncthreads();
    const double tw = s.d[NWARP];
    __syncthreads();
    long long need = tw > 0.0 ? (long long)ceil((target - above) / tw) : 1;
    need = max(1LL, min((long long)nties, need));
    pCut = nth_id((int)need, lo, hi,
                  [&](int j) { return inTopK(j) && fkey(logit_at(row, j)) == pKey; }, s);
  }
  const bool truncated = (topK > 0 && topK < vocab) || topP < 1.0 || minP > 0.0;
  auto keptWeight = [&](int j) {
    if (!inTopK(j)) return 0.0;
    unsigned k = fkey(logit_at(row, j));
    if (!(k > pKey || (k == pKey && j <= pCut))) return 0.0;
    double w = weight(j);
    return (minP > 0.0 && w < minP) ? 0.0 : w;
  };
  const double S = truncated ? fixed_order_sum(vocab, keptWeight, s) : sumAll;

  // Quantised CDF in id order; the remainder goes to the argmax.
  const double two32 = 4294967296.0;
  auto width = [&](int j) -> u64 {
    return (u64)floor(__dmul_rn(__ddiv_rn(keptWeight(j), S), two32));
  };
  u64 fsum = 0;
  for (int j = lo; j < hi; j++) fsum += width(j);
  const u64 remainder = (1ULL << 32) - bsum_u(fsum, s);
  if (argmax >= lo && argmax < hi) fsum += remainder;
  const u64 base = bscan_u(fsum, s);
  const u64 u = codes[r] >> 32;
  if (u >= base && u < base + fsum) {
    u64 c = base;
    for (int j = lo; j < hi; j++) {
      u64 f = width(j) + (j == argmax ? remainder : 0ULL);
      if (u < c + f) {
        s.found = j;
        s.foundLo = c;
        s.foundWidth = f;
        break;
      }
      c += f;
    }
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    int t = s.found;
    outToken[r] = t;
    outLo[r] = (long long)s.foundLo;
    outWidth[r] = (long long)s.foundWidth;
    outRawDelta[r] = __dsub_rn((double)logit_at(row, t), md);
    outRawSum[r] = rawSum;
  }
}
