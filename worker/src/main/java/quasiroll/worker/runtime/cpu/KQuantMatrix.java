package quasiroll.worker.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import quasiroll.worker.model.DTypeCodec;
import quasiroll.worker.model.TensorData;

/**
 * Weights in ggml K-quant super-blocks of 256 (Q4_K, Q6_K), multiplied with the input quantized to
 * Q8_K ({@link Q8Activations#quantizeK}) straight from the mapped file ({@link #seg}; nothing is
 * copied). Per (row, input) the result is the sum over super-blocks, in order, of the exact integer
 * dot of the block (accumulated lane-wise in float: every partial sum is an integer below 2^24)
 * times d_w * d_x, then the lanes summed left to right; for Q4_K minus the min term (see {@link
 * Q4KMatrix}). Nothing depends on the batch, the row group or the thread.
 */
abstract class KQuantMatrix extends WeightMatrix {
  static final int QK = 256;

  final quasiroll.worker.model.DType dtype;
  final int blockBytes;
  final int blocksPerRow;

  KQuantMatrix(TensorData t) {
    super(t);
    this.dtype = t.dtype();
    this.blockBytes = t.dtype().blockBytes();
    this.blocksPerRow = cols / QK;
    if (16 % VectorKernels.L != 0) {
      throw new IllegalStateException("vector length " + VectorKernels.L + " does not divide 16");
    }
  }

  @Override
  void decodeRows(int row, int n, float[] dst, int dstOff) {
    long rowBytes = (long) blocksPerRow * blockBytes;
    float[] v = DTypeCodec.decode(dtype, seg.asSlice(row * rowBytes, n * rowBytes), n * cols);
    System.arraycopy(v, 0, dst, dstOff, n * cols);
  }

  @Override
  int inputBlock() {
    return Q8Activations.BLOCK_K;
  }

  /** Row r of this matrix times input block range: the value of out for (r, b). */
  abstract float row(long off, Q8Activations xq, int b, WorkerScratch s);

  /**
   * From this many inputs on (prompt prefill, large batches), a row group is unpacked once into
   * per-thread scratch and multiplied from there with every input ({@link #multiplyUnpacked});
   * below, each (row, input) reads the packed blocks from the mapped file ({@link #row}). Both
   * compute the same exact integers in the same lanes and the same float operations in the same
   * order, so the results are bit-identical (tested).
   */
  static final int UNPACK_BATCH = 3;

  @Override
  void multiplyRows(
      int row0,
      int n,
      float[] x,
      Q8Activations xq,
      int batch,
      float[] out,
      int outStride,
      WorkerScratch s) {
    if (batch >= UNPACK_BATCH) {
      multiplyUnpacked(row0, n, xq, batch, out, outStride, s);
      return;
    }
    long rowBytes = (long) blocksPerRow * blockBytes;
    for (int b = 0; b < batch; b++) {
      for (int r = 0; r < n; r++) {
        out[b * outStride + row0 + r] = row((row0 + r) * rowBytes, xq, b, s);
      }
    }
  }

  /**
   * Unpacks rows [row0, row0 + n) into w (value t of row r at r * cols + t: the integer that
   * multiplies the super-block scale d, i.e. the 16-value group's scale times q - 32 for Q6_K or
   * times the nibble for Q4_K, as an exact float), d (the block scale d of each super-block) and,
   * for Q4_K, the inputs of {@link #minTerm}.
   */
  abstract void unpack(int row0, int n, float[] w, float[] d, WorkerScratch s);

  /** Q4_K: the min term msum of row r (of the group) for input b, as in {@link #row}; else 0. */
  float minTerm(int r, int b, Q8Activations xq, WorkerScratch s) {
    return 0f;
  }

  private void multiplyUnpacked(
      int row0, int n, Q8Activations xq, int batch, float[] out, int outStride, WorkerScratch s) {
    int blocks = blocksPerRow;
    float[] w = s.weights(GROUP * cols);
    float[] d = s.rows(GROUP * blocks);
    unpack(row0, n, w, d, s);
    float[] res = s.pair;
    for (int r = 0; r < n; r++) {
      for (int b = 0; b < batch; b += 2) {
        int b2 = Math.min(b + 1, batch - 1);
        rowTimes2(
            w,
            r * cols,
            d,
            r * blocks,
            blocks,
            xq.q,
            b * cols,
            b2 * cols,
            xq.d,
            b * blocks,
            b2 * blocks,
            res,
            s.lanes);
        out[b * outStride + row0 + r] = res[0] - minTerm(r, b, xq, s);
        if (b2 != b) {
          out[b2 * outStride + row0 + r] = res[1] - minTerm(r, b2, xq, s);
        }
      }
    }
  }

  /**
   * One unpacked row (w: value times scale, d: super-block scales) times inputs A and B (x: the
   * integer-valued floats of {@link Q8Activations#q}) at once, each weight vector loaded once for
   * both: res[0], res[1] (before the Q4_K min term). Per super-block and input the lane sums (value
   * t in lane t mod L) are accumulated in four vectors, every partial sum an exact integer below
   * 2^24 (at most 16 * 32 * 127 * 127 per lane), so their total is the same exact integer as in the
   * packed kernels ({@link #row}); then acc = fma(total, d_w * d_x, acc) in super-block order and
   * the lanes of acc are summed left to right: bit-identical to {@link #row}.
   */
  private static void rowTimes2(
      float[] w,
      int wo,
      float[] d,
      int dOff,
      int blocks,
      float[] x,
      int xoA,
      int xoB,
      float[] xd,
      int xdA,
      int xdB,
      float[] res,
      float[] lanes) {
    var F = VectorKernels.F;
    int L = VectorKernels.L;
    FloatVector accA = FloatVector.zero(F);
    FloatVector accB = FloatVector.zero(F);
    for (int k = 0; k < blocks; k++) {
      FloatVector a0 = FloatVector.zero(F);
      FloatVector a1 = a0;
      FloatVector a2 = a0;
      FloatVector a3 = a0;
      FloatVector b0 = a0;
      FloatVector b1 = a0;
      FloatVector b2 = a0;
      FloatVector b3 = a0;
      int wb = wo + k * QK;
      int xa = xoA + k * QK;
      int xb = xoB + k * QK;
      for (int t = 0; t < QK; t += 4 * L) {
        FloatVector w0 = FloatVector.fromArray(F, w, wb + t);
        FloatVector w1 = FloatVector.fromArray(F, w, wb + t + L);
        FloatVector w2 = FloatVector.fromArray(F, w, wb + t + 2 * L);
        FloatVector w3 = FloatVector.fromArray(F, w, wb + t + 3 * L);
        a0 = w0.fma(FloatVector.fromArray(F, x, xa + t), a0);
        a1 = w1.fma(FloatVector.fromArray(F, x, xa + t + L), a1);
        a2 = w2.fma(FloatVector.fromArray(F, x, xa + t + 2 * L), a2);
        a3 = w3.fma(FloatVector.fromArray(F, x, xa + t + 3 * L), a3);
        b0 = w0.fma(FloatVector.fromArray(F, x, xb + t), b0);
        b1 = w1.fma(FloatVector.fromArray(F, x, xb + t + L), b1);
        b2 = w2.fma(FloatVector.fromArray(F, x, xb + t + 2 * L), b2);
        b3 = w3.fma(FloatVector.fromArray(F, x, xb + t + 3 * L), b3);
      }
      float dw = d[dOff + k];
      accA = a0.add(a1).add(a2.add(a3)).fma(FloatVector.broadcast(F, dw * xd[xdA + k]), accA);
      accB = b0.add(b1).add(b2.add(b3)).fma(FloatVector.broadcast(F, dw * xd[xdB + k]), accB);
    }
    accA.intoArray(lanes, 0);
    float sum = 0f;
    for (int i = 0; i < L; i++) {
      sum += lanes[i];
    }
    res[0] = sum;
    accB.intoArray(lanes, 0);
    sum = 0f;
    for (int i = 0; i < L; i++) {
      sum += lanes[i];
    }
    res[1] = sum;
  }

  static int u8(MemorySegment m, long off) {
    return m.get(ValueLayout.JAVA_BYTE, off) & 0xff;
  }
}
