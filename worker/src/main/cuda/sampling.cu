// The coupled sampling step on the GPU: one block of 1024 threads per sequence turns a row
// of logits and the sequence's 64-bit code into a token, so that only the token id, its CDF
// bucket and two doubles for the logprobs cross to the host each step.
//
// It implements the rule of quasiroll.common.sampler.CoupledTokenSampler (vocabulary order =
// id) step by step with the same IEEE operations, so token, bucket and logprobs are the same
// bits (docs/samplers.md, "What every sample is drawn from"):
//  * a_j = (x_j - m) * invT in binary32 (invT = (float) min(1/T, FLT_MAX)); weights
//    v_j = 2^40 E(a_j) with the SAME float exp (WeightExp: fma, add, multiply and bit
//    operations only, ported below with explicit _rn intrinsics so nvcc cannot contract or
//    reorder), 0 when a_j < -22.25; W_j = rint(v_j) (__float2ll_rn, ties to even);
//  * S = the sum of the kept W_j: exact 64-bit integers, so the reduction order (warp
//    shuffles, threads) cannot change it;
//  * top-k (k largest logits, lowest id first on ties), top-p (shortest (W desc, id asc) prefix
//    whose integer mass reaches ceil(top_p * S)), min-p (v_j >= min_p * 2^40): bitwise searches
//    over exact integer counts and masses, the same kept set as the CPU's sort;
//  * the CDF quantised exactly in id order, C(P) = floor(P 2^32 / S), the token whose
//    [C(P_j), C(P_{j+1})) holds code >>> 32 -> exact integer arithmetic, identical.
// Rows containing NaN: the CPU refuses them; here fmaxf skips NaN and a NaN logit gets weight 0.
// Logprobs are finished on the host from (x_t - m) and S_raw / 2^40, with the CPU's formulas.

#include <stdint.h>
#include <float.h>

#define ST 1024
#define NWARP (ST / 32)

typedef unsigned long long u64;

// ---- WeightExp (quasiroll.common.sampler), bit-identical port ----
#define W_CUT 22.25f
// The float constants of WeightExp, written as exact hex literals.
#define W_LOG2E 0x1.715476p0f
#define W_LN2_HI 0x1.63p-1f
#define W_LN2_LO (-0x1.bd0106p-13f)
#define W_ROUNDER (12582912.0f + 40.0f) /* 1.5 * 2^23 + 40 */

__device__ __forceinline__ float wexp_scaled(float a) {
  if (!(a >= -W_CUT)) return 0.0f;
  float t = __fmaf_rn(a, W_LOG2E, W_ROUNDER);
  float n = __fsub_rn(t, W_ROUNDER);
  float r = __fmaf_rn(n, -W_LN2_HI, a);
  r = __fmaf_rn(n, -W_LN2_LO, r);
  float p = __fmaf_rn(0x1.a01a02p-13f, r, 0x1.6c16c2p-10f);  // 1/5040, 1/720
  p = __fmaf_rn(p, r, 0x1.111112p-7f);                       // 1/120
  p = __fmaf_rn(p, r, 0x1.555556p-5f);                       // 1/24
  p = __fmaf_rn(p, r, 0x1.555556p-3f);                       // 1/6
  p = __fmaf_rn(p, r, 0.5f);
  p = __fmaf_rn(p, r, 1.0f);
  p = __fmaf_rn(p, r, 1.0f);
  return __int_as_float(__float_as_int(p) + (int)((unsigned)__float_as_int(t) << 23));
}

// W = rint(v): nearest integer, ties to even (Java: (long) Math.rint(v)).
__device__ __forceinline__ u64 wint(float v) { return (u64)__float2ll_rn(v); }

// C(p) = floor(p 2^32 / s) exactly for 0 <= p <= s < 2^61 (CoupledTokenSampler.cdf): a double
// estimate, corrected by the exact remainder in [-s, 2s), computed in wrapping 64-bit arithmetic.
__device__ __forceinline__ u64 cdf(u64 p, u64 s, double r) {
  long long q = (long long)__dmul_rn(__ull2double_rn(p), r);
  long long rem = (long long)((p << 32) - (u64)q * s);
  while (rem < 0) { q--; rem += (long long)s; }
  while (rem >= (long long)s) { q++; rem -= (long long)s; }
  return (u64)q;
}

// ceil(a s / 2^32) exactly for a <= 2^32, s < 2^61 (CoupledTokenSampler.ceilScaled).
__device__ __forceinline__ u64 ceil_scaled(u64 a, u64 s) {
  u64 hi = __umul64hi(a, s), lo = a * s;
  u64 q = (hi << 32) | (lo >> 32);
  return (lo & 0xFFFFFFFFull) != 0 ? q + 1 : q;
}

// Monotone key of a float (larger float -> larger key); callers fold -0 into +0 first.
__device__ __forceinline__ unsigned fkey(float f) {
  unsigned b = __float_as_uint(f);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

struct Shared {
  u64 u[NWARP + 1];
  float f[NWARP + 1];
  int i[NWARP + 1];
  int found;
  u64 foundLo, foundWidth;
};

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
// invT = 1 / temperature as the host computed it (double). Outputs per row: token, bucket lo
// and width (units of 2^-32), x_token - m and S_raw / 2^40 (the raw weight sum), in double.
extern "C" __global__ void __launch_bounds__(ST) coupled_sample(
    const float* logits, long long rowStride, int vocab, int greedy, double invT, int topK,
    double topP, double minP, const u64* codes, int* outToken, long long* outLo,
    long long* outWidth, double* outRawDelta, double* outRawSum) {
  __shared__ Shared s;
  const int r = blockIdx.x;
  const float* row = logits + (long long)r * rowStride;
  const int per = (vocab + ST - 1) / ST;
  const int lo = min(vocab, (int)threadIdx.x * per), hi = min(vocab, lo + per);

  float mx = -INFINITY;
  for (int j = lo; j < hi; j++) mx = fmaxf(mx, logit_at(row, j));
  const float m = bmax_f(mx, s);
  int am = 0x7fffffff;
  for (int j = lo; j < hi; j++) if (logit_at(row, j) == m) { am = j; break; }
  const int argmax = bmin_i(am, s);

  // WeightExp.arg, then the scaled weight: (x - m) * invT in binary32.
  const float invTf = __double2float_rn(fmin(invT, (double)FLT_MAX));
  auto rawScaled = [&](int j) { return wexp_scaled(__fsub_rn(logit_at(row, j), m)); };
  auto scaled = [&](int j) {
    return wexp_scaled(__fmul_rn(__fsub_rn(logit_at(row, j), m), invTf));
  };
  u64 raw = 0;
  for (int j = lo; j < hi; j++) raw += wint(rawScaled(j));
  const u64 rawSum = bsum_u(raw, s);
  const double rawSumD = __dmul_rn(__ull2double_rn(rawSum), 0x1p-40);
  if (greedy) {
    if (threadIdx.x == 0) {
      outToken[r] = argmax;
      outLo[r] = 0;
      outWidth[r] = 1LL << 32;
      outRawDelta[r] = 0.0;
      outRawSum[r] = rawSumD;
    }
    return;
  }

  // top-k: the k-th largest key by a bitwise search; the ties at it are kept lowest id first.
  unsigned kKey = 0;
  int kCut = vocab;
  const bool useTopK = topK > 0 && topK < vocab;
  if (useTopK) {
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
    if (!useTopK) return true;
    unsigned k = fkey(logit_at(row, j));
    return k > kKey || (k == kKey && j <= kCut);
  };
  auto topKWeight = [&](int j) -> u64 { return inTopK(j) ? wint(scaled(j)) : 0ull; };

  // top-p: the shortest (W desc, id asc) prefix whose integer mass reaches
  // target = max(1, min(S, ceil(top_p * S))): pKey = the largest W value whose tokens with
  // W >= pKey reach the target (bitwise search over W < 2^42), then the ties at pKey in id order.
  u64 pKey = 0;
  int pCut = vocab;
  const bool useTopP = topP < 1.0;
  if (useTopP) {
    u64 cur = 0;
    for (int j = lo; j < hi; j++) cur += topKWeight(j);
    const u64 current = bsum_u(cur, s);
    double t = ceil(__dmul_rn(topP, __ull2double_rn(current)));
    u64 target = (u64)(long long)t;
    if (target > current) target = current;
    if (target < 1) target = 1;
    u64 prefix = 0;
    for (int b = 41; b >= 0; b--) {
      u64 cand = prefix | (1ull << b);
      u64 mass = 0;
      for (int j = lo; j < hi; j++) {
        u64 w = topKWeight(j);
        if (w >= cand) mass += w;
      }
      if (bsum_u(mass, s) >= target) prefix = cand;
    }
    pKey = prefix;
    u64 above = 0, ties = 0;
    for (int j = lo; j < hi; j++) {
      u64 w = topKWeight(j);
      if (w > pKey) above += w;
      if (w == pKey) ties++;
    }
    above = bsum_u(above, s);
    const u64 nties = bsum_u(ties, s);
    // every tied token weighs exactly pKey (> 0): need = ceil((target - above) / pKey)
    u64 need = target > above ? (target - above + pKey - 1) / pKey : 1;
    if (need < 1) need = 1;
    if (need > nties) need = nties;
    pCut = nth_id((int)need, lo, hi, [&](int j) { return topKWeight(j) == pKey; }, s);
  }
  const double minFloor = __dmul_rn(minP, 0x1p40);
  auto keptWeight = [&](int j) -> u64 {
    if (!inTopK(j)) return 0ull;
    float v = scaled(j);
    u64 w = wint(v);
    if (useTopP && !(w > pKey || (w == pKey && j <= pCut))) return 0ull;
    if (minP > 0.0 && (double)v < minFloor) return 0ull;
    return w;
  };

  // S, then the id-order CDF: the token j with P_j < ceil((u + 1) S / 2^32) <= P_{j+1}.
  u64 mine = 0;
  for (int j = lo; j < hi; j++) mine += keptWeight(j);
  const u64 S = bsum_u(mine, s);
  const u64 base = bscan_u(mine, s);
  const u64 u = codes[r] >> 32;
  const u64 target = ceil_scaled(u + 1, S);
  if (base < target && target <= base + mine) {
    const double rr = __ddiv_rn(4294967296.0, __ull2double_rn(S));
    u64 p = base;
    for (int j = lo; j < hi; j++) {
      u64 w = keptWeight(j);
      if (p + w >= target) {
        u64 c0 = cdf(p, S, rr);
        s.found = j;
        s.foundLo = c0;
        s.foundWidth = cdf(p + w, S, rr) - c0;
        break;
      }
      p += w;
    }
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    int t = s.found;
    outToken[r] = t;
    outLo[r] = (long long)s.foundLo;
    outWidth[r] = (long long)s.foundWidth;
    outRawDelta[r] = __dsub_rn((double)logit_at(row, t), (double)m);
    outRawSum[r] = rawSumD;
  }
}
