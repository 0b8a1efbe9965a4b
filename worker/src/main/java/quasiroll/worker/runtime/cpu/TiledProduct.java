package quasiroll.worker.runtime.cpu;

import jdk.incubator.vector.FloatVector;

/**
 * The float matrix product for large batches (continuous batching, prompt prefill), with the batch
 * in the vector lanes: each vector lane is one input row, so a dot product's lane sum becomes
 * vector additions across outputs instead of a scalar chain per output, and every weight value is
 * loaded once for a whole tile of inputs.
 *
 * <p>Bit-identical to {@link VectorKernels#dot} per (weight row, input row), whatever the batch or
 * tile: that kernel keeps L partial sums (L = {@link VectorKernels#L}), partial j accumulating
 * {@code w[i] * x[i]} by fused multiply-add for i = j, j + L, j + 2L, ... below the last whole
 * vector, then adds the partials 0..L-1 left to right to 0, then the tail elements in order by
 * fused multiply-add. Here, for each j in 0..L-1, one accumulator vector (lane = input row)
 * performs partial j's fused multiply-adds in the same order, and is then added to the running sum
 * vector; the tail is fused into the sum in order. Each lane thus performs exactly the operations
 * of the per-row kernel, on the same values, in the same order: IEEE arithmetic is lane-wise, so
 * its result does not depend on the other lanes.
 *
 * <p>Inputs are first transposed ({@link #transpose}) into blocks of L rows: {@code xt[(blk * cols
 * + i) * L + lane] = x[(blk * L + lane) * cols + i]}, zero beyond the batch (those lanes are
 * computed and dropped).
 */
final class TiledProduct {
  static final int L = VectorKernels.L;

  /** From this many inputs on, float products take this kernel. */
  static final int MIN_BATCH = 8;

  private TiledProduct() {}

  /** Blocks of L input rows for a batch. */
  static int blocks(int batch) {
    return (batch + L - 1) / L;
  }

  /** x (batch rows of cols floats) transposed into blocks of L rows, zero-padded. */
  static float[] transpose(float[] x, int batch, int cols) {
    float[] xt = new float[blocks(batch) * cols * L];
    transposeRows(x, cols, 0, batch, 0, cols, xt);
    return xt;
  }

  /**
   * Columns [c0, c1) of rows [r0, r1) of x (rows of cols floats) into their places in xt, the
   * transposed layout of {@link #transpose}; rows of different blocks may be written concurrently.
   */
  static void transposeRows(float[] x, int cols, int r0, int r1, int c0, int c1, float[] xt) {
    for (int b = r0; b < r1; b++) {
      int base = (b / L) * cols * L + b % L;
      int xo = b * cols;
      for (int i = c0; i < c1; i++) {
        xt[base + i * L] = x[xo + i];
      }
    }
  }

  /**
   * out[b * outStride + row0 + r] = w row r . x row b, for r < n (rows of cols floats in w[0 ..])
   * and b < batch; {@code xt} is x transposed ({@link #transpose}).
   */
  static void multiply(
      float[] w,
      int n,
      int cols,
      float[] xt,
      int batch,
      float[] out,
      int outStride,
      int row0,
      float[] lanes) {
    int blocks = blocks(batch);
    int r = 0;
    for (; r + 4 <= n; r += 4) {
      int bk = 0;
      for (; bk + 2 <= blocks; bk += 2) {
        tile4x2(w, r * cols, cols, xt, bk * cols * L, out, outStride, row0 + r, bk, batch, lanes);
      }
      for (; bk < blocks; bk++) {
        for (int rr = r; rr < r + 4; rr++) {
          tile1x1(
              w, rr * cols, cols, xt, bk * cols * L, out, outStride, row0 + rr, bk, batch, lanes);
        }
      }
    }
    for (; r < n; r++) {
      for (int bk = 0; bk < blocks; bk++) {
        tile1x1(w, r * cols, cols, xt, bk * cols * L, out, outStride, row0 + r, bk, batch, lanes);
      }
    }
  }

  /** Four weight rows at w[wo ..] (stride cols) times two input blocks at xt[xo ..]. */
  private static void tile4x2(
      float[] w,
      int wo,
      int cols,
      float[] xt,
      int xo,
      float[] out,
      int outStride,
      int orow,
      int block,
      int batch,
      float[] lanes) {
    var f = VectorKernels.F;
    int upper = cols - cols % L;
    int w0 = wo;
    int w1 = wo + cols;
    int w2 = w1 + cols;
    int w3 = w2 + cols;
    int x1o = xo + cols * L;
    FloatVector s00 = FloatVector.zero(f);
    FloatVector s10 = s00;
    FloatVector s20 = s00;
    FloatVector s30 = s00;
    FloatVector s01 = s00;
    FloatVector s11 = s00;
    FloatVector s21 = s00;
    FloatVector s31 = s00;
    for (int j = 0; j < L; j++) {
      FloatVector a00 = FloatVector.zero(f);
      FloatVector a10 = a00;
      FloatVector a20 = a00;
      FloatVector a30 = a00;
      FloatVector a01 = a00;
      FloatVector a11 = a00;
      FloatVector a21 = a00;
      FloatVector a31 = a00;
      for (int i = j; i < upper; i += L) {
        FloatVector x0 = FloatVector.fromArray(f, xt, xo + i * L);
        FloatVector x1 = FloatVector.fromArray(f, xt, x1o + i * L);
        FloatVector v = FloatVector.broadcast(f, w[w0 + i]);
        a00 = v.fma(x0, a00);
        a01 = v.fma(x1, a01);
        v = FloatVector.broadcast(f, w[w1 + i]);
        a10 = v.fma(x0, a10);
        a11 = v.fma(x1, a11);
        v = FloatVector.broadcast(f, w[w2 + i]);
        a20 = v.fma(x0, a20);
        a21 = v.fma(x1, a21);
        v = FloatVector.broadcast(f, w[w3 + i]);
        a30 = v.fma(x0, a30);
        a31 = v.fma(x1, a31);
      }
      s00 = s00.add(a00);
      s10 = s10.add(a10);
      s20 = s20.add(a20);
      s30 = s30.add(a30);
      s01 = s01.add(a01);
      s11 = s11.add(a11);
      s21 = s21.add(a21);
      s31 = s31.add(a31);
    }
    for (int i = upper; i < cols; i++) {
      FloatVector x0 = FloatVector.fromArray(f, xt, xo + i * L);
      FloatVector x1 = FloatVector.fromArray(f, xt, x1o + i * L);
      FloatVector v = FloatVector.broadcast(f, w[w0 + i]);
      s00 = v.fma(x0, s00);
      s01 = v.fma(x1, s01);
      v = FloatVector.broadcast(f, w[w1 + i]);
      s10 = v.fma(x0, s10);
      s11 = v.fma(x1, s11);
      v = FloatVector.broadcast(f, w[w2 + i]);
      s20 = v.fma(x0, s20);
      s21 = v.fma(x1, s21);
      v = FloatVector.broadcast(f, w[w3 + i]);
      s30 = v.fma(x0, s30);
      s31 = v.fma(x1, s31);
    }
    int b0 = block * L;
    int b1 = b0 + L;
    store(s00, lanes, out, outStride, orow, b0, batch);
    store(s10, lanes, out, outStride, orow + 1, b0, batch);
    store(s20, lanes, out, outStride, orow + 2, b0, batch);
    store(s30, lanes, out, outStride, orow + 3, b0, batch);
    store(s01, lanes, out, outStride, orow, b1, batch);
    store(s11, lanes, out, outStride, orow + 1, b1, batch);
    store(s21, lanes, out, outStride, orow + 2, b1, batch);
    store(s31, lanes, out, outStride, orow + 3, b1, batch);
  }

  /** One weight row at w[wo ..] times one input block at xt[xo ..]. */
  private static void tile1x1(
      float[] w,
      int wo,
      int cols,
      float[] xt,
      int xo,
      float[] out,
      int outStride,
      int orow,
      int block,
      int batch,
      float[] lanes) {
    var f = VectorKernels.F;
    int upper = cols - cols % L;
    FloatVector s = FloatVector.zero(f);
    for (int j = 0; j < L; j++) {
      FloatVector a = FloatVector.zero(f);
      for (int i = j; i < upper; i += L) {
        a = FloatVector.broadcast(f, w[wo + i]).fma(FloatVector.fromArray(f, xt, xo + i * L), a);
      }
      s = s.add(a);
    }
    for (int i = upper; i < cols; i++) {
      s = FloatVector.broadcast(f, w[wo + i]).fma(FloatVector.fromArray(f, xt, xo + i * L), s);
    }
    store(s, lanes, out, outStride, orow, block * L, batch);
  }

  /** Lane k of v to out[(b0 + k) * outStride + orow] for b0 + k < batch. */
  private static void store(
      FloatVector v, float[] lanes, float[] out, int outStride, int orow, int b0, int batch) {
    v.intoArray(lanes, 0);
    int m = Math.min(L, batch - b0);
    for (int k = 0; k < m; k++) {
      out[(b0 + k) * outStride + orow] = lanes[k];
    }
  }
}
