// Transformer layer kernels for the quasiroll CUDA backend (Llama/Qwen2 family).
//
// Numerics: the residual stream, norms, rotary embeddings, attention and the KV cache are
// f32; only weights are 16-bit. Every reduction has a fixed order (per-thread strided
// partial sums, then a fixed shuffle/shared-memory tree): no floating-point atomics, so a
// row's result is a pure function of its inputs, independent of the other rows in the batch
// and of the run. Compiled to PTX by worker/src/main/cuda/build-ptx.sh; loaded with cuModuleLoadData.
//
// Row conventions: a "row" is one token of one sequence. pos[r] is its position in the
// sequence; seq[r] is its sequence slot, or -1 for a prompt-prefix row (prefill).
// KV cache per layer: the prompt prefix once, [P][nkv][hd], shared by every sequence, and
// per sequence the generated part, [S][T][nkv][hd] where T = max new tokens; position
// p >= P of sequence s lives at index (s * T + p - P).

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

__device__ __forceinline__ float to_f32(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_f32(__half v) { return __half2float(v); }

// Fixed-order block sum for blockDim.x a multiple of 32 (<= 1024); result to all threads.
__device__ float block_sum(float v, float* scratch) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, nw = blockDim.x >> 5;
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    float w = lane < nw ? scratch[lane] : 0.0f;
    for (int o = 16; o > 0; o >>= 1) w += __shfl_xor_sync(0xffffffffu, w, o);
    if (lane == 0) scratch[32] = w;
  }
  __syncthreads();
  float r = scratch[32];
  __syncthreads();
  return r;
}

// out[r][i] = table[tokens[r]][i] as f32. grid (rows), block 256.
template <typename T>
__device__ void embed(const int* tokens, const T* table, float* out, int hidden) {
  const T* src = table + (long)tokens[blockIdx.x] * hidden;
  float* dst = out + (long)blockIdx.x * hidden;
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) dst[i] = to_f32(src[i]);
}
extern "C" __global__ void embed_bf16(const int* t, const __nv_bfloat16* w, float* o, int h) { embed(t, w, o, h); }
extern "C" __global__ void embed_f16(const int* t, const __half* w, float* o, int h) { embed(t, w, o, h); }
extern "C" __global__ void embed_f32(const int* tokens, const float* table, float* out, int hidden) {
  const float* src = table + (long)tokens[blockIdx.x] * hidden;
  float* dst = out + (long)blockIdx.x * hidden;
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) dst[i] = src[i];
}

// HF LlamaRMSNorm / Qwen2RMSNorm in f32: y = x / sqrt(mean(x^2) + eps) * w.
// grid (rows), block 256.
extern "C" __global__ void rmsnorm(const float* x, const float* w, float* y, int n, float eps) {
  __shared__ float scratch[33];
  const float* xr = x + (long)blockIdx.x * n;
  float* yr = y + (long)blockIdx.x * n;
  float ss = 0.0f;
  for (int i = threadIdx.x; i < n; i += blockDim.x) ss += xr[i] * xr[i];
  ss = block_sum(ss, scratch);
  float inv = 1.0f / sqrtf(ss / (float)n + eps);
  for (int i = threadIdx.x; i < n; i += blockDim.x) yr[i] = (xr[i] * inv) * w[i];
}

// Rotary embeddings (HF half-split layout: dim i pairs with i + hd/2) applied in place to the
// q and k heads of the fused qkv rows, then k and v stored into the KV cache.
// qkv row layout: [nh*hd q | nkv*hd k | nkv*hd v]. cos/sin tables: [ctx][hd/2].
// grid (rows, nh + nkv), block hd/2.
extern "C" __global__ void rope_store_kv(
    float* qkv, const int* pos, const int* seq, const float* cosT, const float* sinT,
    int nh, int nkv, int hd, float* kPrefix, float* vPrefix, float* kSeq, float* vSeq,
    int prefixLen, int maxNew) {
  int r = blockIdx.x, head = blockIdx.y, i = threadIdx.x, half = hd >> 1;
  int width = (nh + 2 * nkv) * hd;
  float* row = qkv + (long)r * width;
  int p = pos[r];
  float* x = row + head * hd;  // q heads then k heads, contiguous
  float c = cosT[(long)p * half + i], s = sinT[(long)p * half + i];
  float x1 = x[i], x2 = x[i + half];
  float o1 = x1 * c - x2 * s;
  float o2 = x2 * c + x1 * s;
  x[i] = o1;
  x[i + half] = o2;
  if (head >= nh) {
    int kvh = head - nh;
    int sq = seq[r];
    long slot = sq < 0 ? (long)p : (long)sq * maxNew + (p - prefixLen);
    float* kc = (sq < 0 ? kPrefix : kSeq) + (slot * nkv + kvh) * hd;
    float* vc = (sq < 0 ? vPrefix : vSeq) + (slot * nkv + kvh) * hd;
    const float* v = row + (nh + nkv) * hd + kvh * hd;
    kc[i] = o1;
    kc[i + half] = o2;
    vc[i] = v[i];
    vc[i + half] = v[i + half];
  }
}

// Causal attention of one row's query head over the cached keys 0..pos (prefix rows see
// only the prefix; sequence rows see the shared prefix then their own generated part).
// Each of the 4 warps runs an online softmax over positions t = warp, warp + 4, ...; the
// warps are merged in warp order. hd must be a multiple of 32, at most 256.
// grid (rows, nh), block 128. out row layout: [nh*hd].
#define ATT_WARPS 4
extern "C" __global__ void attention(
    const float* qkv, const int* pos, const int* seq, const float* kPrefix, const float* vPrefix,
    const float* kSeq, const float* vSeq, float* out, int nh, int nkv, int hd, int prefixLen,
    int maxNew, float scale) {
  __shared__ float sm[ATT_WARPS], sl[ATT_WARPS];
  __shared__ float sacc[ATT_WARPS][256];
  int r = blockIdx.x, h = blockIdx.y;
  int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  int kvh = h / (nh / nkv);
  int per = hd >> 5;  // dims per lane, <= 8
  const float* q = qkv + (long)r * (nh + 2 * nkv) * hd + h * hd;
  float qv[8], acc[8];
  for (int j = 0; j < 8; j++) {
    qv[j] = j < per ? q[lane + 32 * j] * scale : 0.0f;
    acc[j] = 0.0f;
  }
  int p = pos[r], sq = seq[r];
  float m = -INFINITY, l = 0.0f;
  for (int t = warp; t <= p; t += ATT_WARPS) {
    const float* k;
    const float* v;
    if (t < prefixLen || sq < 0) {
      k = kPrefix + ((long)t * nkv + kvh) * hd;
      v = vPrefix + ((long)t * nkv + kvh) * hd;
    } else {
      long slot = (long)sq * maxNew + (t - prefixLen);
      k = kSeq + (slot * nkv + kvh) * hd;
      v = vSeq + (slot * nkv + kvh) * hd;
    }
    float d = 0.0f;
    for (int j = 0; j < 8; j++) if (j < per) d += qv[j] * k[lane + 32 * j];
    for (int o = 16; o > 0; o >>= 1) d += __shfl_xor_sync(0xffffffffu, d, o);
    float mNew = fmaxf(m, d);
    float corr = expf(m - mNew);
    float e = expf(d - mNew);
    l = l * corr + e;
    for (int j = 0; j < 8; j++) if (j < per) acc[j] = acc[j] * corr + e * v[lane + 32 * j];
    m = mNew;
  }
  if (lane == 0) {
    sm[warp] = m;
    sl[warp] = l;
  }
  for (int j = 0; j < 8; j++) if (j < per) sacc[warp][lane + 32 * j] = acc[j];
  __syncthreads();
  float M = sm[0];
  for (int w = 1; w < ATT_WARPS; w++) M = fmaxf(M, sm[w]);
  float L = 0.0f;
  for (int w = 0; w < ATT_WARPS; w++) if (sl[w] > 0.0f) L += sl[w] * expf(sm[w] - M);
  float* o = out + (long)r * nh * hd + h * hd;
  for (int d = threadIdx.x; d < hd; d += blockDim.x) {
    float a = 0.0f;
    for (int w = 0; w < ATT_WARPS; w++) if (sl[w] > 0.0f) a += sacc[w][d] * expf(sm[w] - M);
    o[d] = a / L;
  }
}

// SwiGLU: out[r][i] = silu(gate) * up, from fused rows [I gate | I up]. grid-stride.
extern "C" __global__ void swiglu(const float* gateUp, float* out, int rows, int inter) {
  long total = (long)rows * inter;
  for (long idx = blockIdx.x * (long)blockDim.x + threadIdx.x; idx < total;
       idx += (long)gridDim.x * blockDim.x) {
    long r = idx / inter;
    int i = (int)(idx - r * inter);
    float g = gateUp[r * 2 * inter + i];
    float u = gateUp[r * 2 * inter + inter + i];
    out[idx] = g / (1.0f + expf(-g)) * u;
  }
}

// Split-K epilogue: y[r][n] = sum_z part[z][r][n] (z ascending) + bias[n] (+ y[r][n] when
// accumulate, i.e. the residual add). grid-stride.
extern "C" __global__ void splitk_reduce(
    const float* part, float* y, const float* bias, int rows, int n, int splits, int accumulate) {
  long total = (long)rows * n;
  for (long idx = blockIdx.x * (long)blockDim.x + threadIdx.x; idx < total;
       idx += (long)gridDim.x * blockDim.x) {
    float s = 0.0f;
    for (int z = 0; z < splits; z++) s += part[z * total + idx];
    if (bias != nullptr) s += bias[idx % n];
    y[idx] = accumulate ? y[idx] + s : s;
  }
}
