// Tensor-core matrix multiplication for the quasiroll CUDA backend:
//   Y[m][n] = sum_k X[m][k] * W[n][k]   (+ bias[n]) (+ Y[m][n] when accumulating)
// X is f32 activations (M = batch rows), W a 16-bit weight matrix stored [N][K] as in
// HF/PyTorch Linear weights, Y f32.
//
// Precision: each f32 activation x is split into hi = T(x) and lo = T(x - hi) and both are
// multiplied on the tensor cores (wmma 16x16x16, f32 accumulation), so the product carries
// ~16 mantissa bits of x instead of 8 (bf16): the GPU matches the CPU backend's f32
// activations closely enough for identical greedy tokens, at twice the tensor-core work
// (decode is weight-bandwidth bound, so this is nearly free below batch ~128).
//
// Determinism: a block owns a BM x 64 tile of Y for one K range; the K range is walked in
// ascending 32-wide steps. With split-K (gridDim.z > 1) each split writes its partial sum
// to part[z][M][N] and splitk_reduce adds them in z order. The split count is chosen from
// (N, K) only (MatmulPlan.java), so a row's result never depends on the batch size M.
// Requires K % 8 == 0 (16-byte weight loads); rows and columns beyond M and N are masked.

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <mma.h>
#include <stdint.h>

using namespace nvcuda;

#define BN 64
#define BK 32
#define LDS (BK + 8)
#define LDC (BN + 4)

template <typename T> __device__ __forceinline__ T from_f32(float x);
template <> __device__ __forceinline__ __nv_bfloat16 from_f32(float x) { return __float2bfloat16_rn(x); }
template <> __device__ __forceinline__ __half from_f32(float x) { return __float2half_rn(x); }
template <typename T> __device__ __forceinline__ float back_f32(T x);
template <> __device__ __forceinline__ float back_f32(__nv_bfloat16 x) { return __bfloat162float(x); }
template <> __device__ __forceinline__ float back_f32(__half x) { return __half2float(x); }

// WM: 16-row fragments per warp, BM = 16 * WM rows per block; 4 warps each own 16 columns.
template <typename T, int WM>
__device__ void matmul_tc(const float* __restrict__ X, const T* __restrict__ W, float* Y,
                          const float* __restrict__ bias, float* part, int M, int N, int K,
                          int kPerSplit, int accumulate) {
  constexpr int BM = 16 * WM;
  __shared__ __align__(32) T xsHi[BM * LDS];
  __shared__ __align__(32) T xsLo[BM * LDS];
  __shared__ __align__(32) T ws[BN * LDS];
  __shared__ __align__(32) float cs[BM * LDC];

  const int tid = threadIdx.x, warp = tid >> 5;
  const int n0 = blockIdx.x * BN, m0 = blockIdx.y * BM;
  const int kBegin = blockIdx.z * kPerSplit;
  const int kEnd = min(K, kBegin + kPerSplit);

  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[WM];
  for (int i = 0; i < WM; i++) wmma::fill_fragment(acc[i], 0.0f);

  uint4 wreg[2];
  float4 xreg[WM];
  auto load = [&](int k) {
    for (int i = 0; i < 2; i++) {
      int idx = tid + 128 * i, row = idx >> 2, c = (idx & 3) * 8;
      int n = n0 + row, kk = k + c;
      wreg[i] = (n < N && kk < kEnd) ? *reinterpret_cast<const uint4*>(W + (long)n * K + kk)
                                     : make_uint4(0, 0, 0, 0);
    }
    for (int i = 0; i < WM; i++) {
      int idx = tid + 128 * i, row = idx >> 3, c = (idx & 7) * 4;
      int m = m0 + row, kk = k + c;
      xreg[i] = (m < M && kk < kEnd) ? *reinterpret_cast<const float4*>(X + (long)m * K + kk)
                                     : make_float4(0.f, 0.f, 0.f, 0.f);
    }
  };

  if (kBegin < kEnd) load(kBegin);
  for (int k = kBegin; k < kEnd; k += BK) {
    for (int i = 0; i < 2; i++) {
      int idx = tid + 128 * i, row = idx >> 2, c = (idx & 3) * 8;
      *reinterpret_cast<uint4*>(ws + row * LDS + c) = wreg[i];
    }
    for (int i = 0; i < WM; i++) {
      int idx = tid + 128 * i, row = idx >> 3, c = (idx & 7) * 4;
      float v[4] = {xreg[i].x, xreg[i].y, xreg[i].z, xreg[i].w};
      for (int j = 0; j < 4; j++) {
        T hi = from_f32<T>(v[j]);
        xsHi[row * LDS + c + j] = hi;
        xsLo[row * LDS + c + j] = from_f32<T>(v[j] - back_f32(hi));
      }
    }
    __syncthreads();
    if (k + BK < kEnd) load(k + BK);  // next tile's loads are in flight during the MMAs
    for (int kk = 0; kk < BK; kk += 16) {
      wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> b;
      wmma::load_matrix_sync(b, ws + (warp * 16) * LDS + kk, LDS);
      for (int i = 0; i < WM; i++) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
        wmma::load_matrix_sync(a, xsHi + (i * 16) * LDS + kk, LDS);
        wmma::mma_sync(acc[i], a, b, acc[i]);
        wmma::load_matrix_sync(a, xsLo + (i * 16) * LDS + kk, LDS);
        wmma::mma_sync(acc[i], a, b, acc[i]);
      }
    }
    __syncthreads();
  }

  for (int i = 0; i < WM; i++) {
    wmma::store_matrix_sync(cs + (i * 16) * LDC + warp * 16, acc[i], LDC, wmma::mem_row_major);
  }
  __syncthreads();
  for (int idx = tid; idx < BM * BN; idx += 128) {
    int row = idx / BN, col = idx % BN;
    int m = m0 + row, n = n0 + col;
    if (m >= M || n >= N) continue;
    float v = cs[row * LDC + col];
    if (part != nullptr) {
      part[((long)blockIdx.z * M + m) * N + n] = v;
    } else {
      if (bias != nullptr) v += bias[n];
      long o = (long)m * N + n;
      Y[o] = accumulate ? Y[o] + v : v;
    }
  }
}

#define MATMUL_ENTRY(NAME, T, WM)                                                             \
  extern "C" __global__ void __launch_bounds__(128) NAME(                                    \
      const float* X, const T* W, float* Y, const float* bias, float* part, int M, int N,   \
      int K, int kPerSplit, int accumulate) {                                                \
    matmul_tc<T, WM>(X, W, Y, bias, part, M, N, K, kPerSplit, accumulate);                 \
  }

MATMUL_ENTRY(matmul_bf16_m16, __nv_bfloat16, 1)
MATMUL_ENTRY(matmul_bf16_m32, __nv_bfloat16, 2)
MATMUL_ENTRY(matmul_bf16_m64, __nv_bfloat16, 4)
MATMUL_ENTRY(matmul_f16_m16, __half, 1)
MATMUL_ENTRY(matmul_f16_m32, __half, 2)
MATMUL_ENTRY(matmul_f16_m64, __half, 4)
