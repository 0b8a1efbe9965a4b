package quasiroll.worker.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
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
  final MemorySegment seg;

  KQuantMatrix(TensorData t) {
    super(t);
    this.dtype = t.dtype();
    this.blockBytes = t.dtype().blockBytes();
    this.blocksPerRow = cols / QK;
    this.seg = MemorySegment.ofBuffer(data);
    if (16 % VectorKernels.L != 0) {
      throw new IllegalStateException("vector length " + VectorKernels.L + " does not divide 16");
    }
  }

  @Override
  void decodeRows(int row, int n, float[] dst, int dstOff) {
    int rowBytes = blocksPerRow * blockBytes;
    float[] v =
        DTypeCodec.decode(
            dtype,
            data.slice(row * rowBytes, n * rowBytes).order(java.nio.ByteOrder.LITTLE_ENDIAN),
            n * cols);
    System.arraycopy(v, 0, dst, dstOff, n * cols);
  }

  @Override
  int inputBlock() {
    return Q8Activations.BLOCK_K;
  }

  /** Row r of this matrix times input block range: the value of out for (r, b). */
  abstract float row(long off, Q8Activations xq, int b, float[] lanes);

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
        out[b * outStride + row0 + r] = row((row0 + r) * rowBytes, xq, b, s.lanes);
      }
    }
  }

  /**
   * Unpacks rows [row0, row0 + n) into q (value t of row r at r * cols + t: the signed integer that
   * multiplies the scale, for Q6_K q - 32, for Q4_K the nibble), sc (the integer scale of each 16
   * values, as a float), d (the block scale d of each super-block) and, for Q4_K, minTerm(r, k, b)
   * inputs (see {@link #minTerm}).
   */
  abstract void unpack(int row0, int n, short[] q, float[] sc, float[] d, WorkerScratch s);

  /** Q4_K: the min term msum of row r (of the group) for input b, as in {@link #row}; else 0. */
  float minTerm(int r, int b, Q8Activations xq, WorkerScratch s) {
    return 0f;
  }

  private void multiplyUnpacked(
      int row0, int n, Q8Activations xq, int batch, float[] out, int outStride, WorkerScratch s) {
    int blocks = blocksPerRow;
    short[] q = s.shorts(GROUP * cols);
    float[] sc = s.scales(GROUP * cols / 16);
    float[] d = s.rows(GROUP * blocks);
    unpack(row0, n, q, sc, d, s);
    var F = VectorKernels.F;
    float[] blk = s.blk;
    for (int r = 0; r < n; r++) {
      for (int b = 0; b < batch; b++) {
        FloatVector acc = FloatVector.zero(F);
        int xo = b * cols;
        for (int k = 0; k < blocks; k++) {
          superBlock(q, r * cols + k * QK, sc, (r * cols + k * QK) / 16, xq.qs, xo + k * QK, blk);
          acc =
              FloatVector.fromArray(F, blk, 0)
                  .fma(FloatVector.broadcast(F, d[r * blocks + k] * xq.d[b * blocks + k]), acc);
        }
        out[b * outStride + row0 + r] = VectorKernels.sumLanes(acc, s.lanes) - minTerm(r, b, xq, s);
      }
    }
  }

  /**
   * blk = sum over the 16-value groups j of one super-block of sc[j] * (q . x over group j),
   * lane-wise: value t goes to lane t mod L, as in the packed kernels; products in 16-bit lanes
   * (exact), sums of exact integers below 2^24 in float.
   */
  private static void superBlock(
      short[] q, int qo, float[] sc, int so, short[] x, int xo, float[] blk) {
    var F = VectorKernels.F;
    var S = Q6KMatrix.S;
    var I = QuantizedMatrix.I;
    int L = VectorKernels.L;
    FloatVector acc = FloatVector.zero(F);
    for (int t = 0; t < QK; t += L) {
      ShortVector p = ShortVector.fromArray(S, q, qo + t).mul(ShortVector.fromArray(S, x, xo + t));
      acc =
          ((FloatVector) p.castShape(I, 0).castShape(F, 0))
              .fma(FloatVector.broadcast(F, sc[so + t / 16]), acc);
    }
    acc.intoArray(blk, 0);
  }

  static int u8(MemorySegment m, long off) {
    return m.get(ValueLayout.JAVA_BYTE, off) & 0xff;
  }
}
