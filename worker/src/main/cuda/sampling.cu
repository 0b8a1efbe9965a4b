// The coupled sampling step on the GPU: one block of 1024 threads per sequence turns a row
// of logits and the sequence's 64-bit code into a token, so that only token ids, the
// chosen CDF bucket and logprobs cross to the host each step.
//
// It reproduces quasiroll.common.sampler.CoupledTokenSampler (vocabulary order = token id):
//   z_j = logit_j / temperature (double); w_j = exp(z_j - z_max)
//   top-k: keep the k largest logits; equal logits are ordered by token id (lower first)
//   top-p: over the top-k set, sorted by (probability desc, id asc), keep the shortest
//          prefix whose mass reaches top_p
//   min-p: keep w_j >= min_p (= p_j >= min_p * p_max)
//   q_j = w_j / S (S = sum of kept w, double); f_j = floor(q_j * 2^32) for kept tokens;
//   the remainder 2^32 - sum f_j goes to the most probable token (lowest id on ties);
//   token j is chosen iff C_j <= (code >>> 32) < C_j + f_j with C_j = sum_{i<j} f_i.
// The bucket sums are exact integer arithmetic. Where the GPU and the CPU can differ is only
// where a value lands within double rounding of a boundary: q_j * 2^32 within an ulp of an
// integer (then f_j differs by one unit and the codes at that unit's edge move to the
// neighbouring token), or a cumulative top-p / min-p comparison within an ulp of its
// threshold. Both come from the GPU's tree-ordered sums and its exp differing from Java's
// StrictMath/Math in the last bit. See README section "gpu".
//
// Every sum has a fixed order (contiguous per-thread chunks in id order, then a fixed
// shuffle tree), integer scans are exact: the result is a pure function of the row.

#include <stdint.h>

#define ST 1024
#define NWARP (ST / 32)

typedef unsigned long long u64;

// Monotone key of a float (larger float -> larger key); -0 is folded to +0 by the caller.
__device__ __forceinline__ unsigned fkey(float f) {
  unsigned b = __float_as_uint(f);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

struct Shared {
  double d[NWARP + 1];
  u64 u[NWARP + 1];
  float f[NWARP + 1];
  int i[NWARP + 1];
  int found[4];
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
    s.u[l] = xi - x;  // exclusive prefix of warp totals
  }
  __syncthreads();
  u64 r = s.u[w] + inc - v;
  __syncthreads();
  return r;
}

__device__ __forceinline__ float logit_at(const float* row, int j) { return row[j] + 0.0f; }

// The id of the need-th (1-based) token in id order among those where tie(j) holds, found
// by an exact scan over the per-thread id chunks.
template <typename Pred>
__device__ int nth_id(int need, int lo, int hi, Pred tie, Shared& s) {
  u64 c = 0;
  for (int j = lo; j < hi; j++) c += tie(j) ? 1 : 0;
  u64 base = bscan_u(c, s);
  if (threadIdx.x == 0) s.found[0] = 0x7fffffff;
  __syncthreads();
  if ((u64)need > base && (u64)need <= base + c) {
    u64 k = base;
    for (int j = lo; j < hi; j++) {
      if (tie(j) && ++k == (u64)need) {
        s.found[0] = j;
        break;
      }
    }
  }
  __syncthreads();
  int r = s.found[0];
  __syncthreads();
  return r;
}

// grid (rows), block 1024. rowStride = vocab, or 0 to sample every row from one row (the
// prompt's logits). temperature == 0 means greedy (argmax, lowest id on ties).
extern "C" __global__ void __launch_bounds__(ST) coupled_sample(
    const float* logits, long rowStride, int vocab, double temperature, int topK, double topP,
    double minP, const u64* codes, int* outToken, long long* outLo, long long* outWidth,
    float* outRawLogprob, float* outProcessedLogprob) {
  __shared__ Shared s;
  const int r = blockIdx.x;
  const float* row = logits + (long)r * rowStride;
  const int chunk = (vocab + ST - 1) / ST;
  const int lo = min(vocab, (int)threadIdx.x * chunk), hi = min(vocab, lo + chunk);

  // Raw distribution (temperature 1, no truncation) for the raw logprob, and the argmax.
  float mx = -INFINITY;
  for (int j = lo; j < hi; j++) mx = fmaxf(mx, logit_at(row, j));
  const float rawMax = bmax_f(mx, s);
  int am = 0x7fffffff;
  for (int j = lo; j < hi; j++) if (logit_at(row, j) == rawMax) { am = j; break; }
  const int argmax = bmin_i(am, s);
  double rs = 0.0;
  for (int j = lo; j < hi; j++) rs += exp((double)logit_at(row, j) - (double)rawMax);
  const double rawLogZ = (double)rawMax + log(bsum_d(rs, s));

  if (temperature == 0.0) {
    if (threadIdx.x == 0) {
      outToken[r] = argmax;
      outLo[r] = 0;
      outWidth[r] = 1LL << 32;
      outRawLogprob[r] = (float)((double)rawMax - rawLogZ);
      outProcessedLogprob[r] = 0.0f;
    }
    return;
  }

  const double zmax = (double)rawMax / temperature;
  auto weight = [&](int j) { return exp((double)logit_at(row, j) / temperature - zmax); };

  // top-k: the k-th largest key by bitwise search, ties at it cut by id.
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

  // top-p over the top-k set: the largest key whose upper mass reaches top_p, ties by id.
  unsigned pKey = 0;
  int pCut = vocab;
  if (topP < 1.0) {
    double s1 = 0.0;
    for (int j = lo; j < hi; j++) if (inTopK(j)) s1 += weight(j);
    const double target = topP * bsum_d(s1, s);
    unsigned prefix = 0;
    for (int b = 31; b >= 0; b--) {
      unsigned cand = prefix | (1u << b);
      double m = 0.0;
      for (int j = lo; j < hi; j++) {
        if (inTopK(j) && fkey(logit_at(row, j)) >= cand) m += weight(j);
      }
      if (bsum_d(m, s) >= target) prefix = cand;
    }
    pKey = prefix;
    double g = 0.0, wt = 0.0;
    u64 ties = 0;
    for (int j = lo; j < hi; j++) {
      if (!inTopK(j)) continue;
      unsigned k = fkey(logit_at(row, j));
      if (k > pKey) g += weight(j);
      if (k == pKey) {
        ties++;
        wt = weight(j);
      }
    }
    const double above = bsum_d(g, s);
    const u64 nties = bsum_u(ties, s);
    // Every tied token has the same weight; one thread holding a tie publishes it.
    if (threadIdx.x == 0) s.d[NWARP] = 0.0;
    __syncthreads();
    if (wt > 0.0) s.d[NWARP] = wt;
    __syncthreads();
    const double tieW = s.d[NWARP];
    __syncthreads();
    long long need = tieW > 0.0 ? (long long)ceil((target - above) / tieW) : 1;
    need = max(1LL, min((long long)nties, need));
    pCut = nth_id((int)need, lo, hi,
                  [&](int j) { return inTopK(j) && fkey(logit_at(row, j)) == pKey; }, s);
  }
  auto kept = [&](int j) {
    if (!inTopK(j)) return false;
    unsigned k = fkey(logit_at(row, j));
    if (!(k > pKey || (k == pKey && j <= pCut))) return false;
    return minP <= 0.0 || weight(j) >= minP;
  };

  // Quantised CDF in id order; the remainder goes to the argmax.
  double sw = 0.0;
  for (int j = lo; j < hi; j++) if (kept(j)) sw += weight(j);
  const double S = bsum_d(sw, s);
  const double two32 = 4294967296.0;
  auto width = [&](int j) -> u64 { return kept(j) ? (u64)floor(weight(j) / S * two32) : 0ULL; };
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
        s.found[1] = j;
        s.foundLo = c;
        s.foundWidth = f;
        break;
      }
      c += f;
    }
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    int t = s.found[1];
    float lt = logit_at(row, t);
    outToken[r] = t;
    outLo[r] = (long long)s.foundLo;
    outWidth[r] = (long long)s.foundWidth;
    outRawLogprob[r] = (float)((double)lt - rawLogZ);
    outProcessedLogprob[r] = (float)(((double)lt / temperature - zmax) - log(S));
  }
}
