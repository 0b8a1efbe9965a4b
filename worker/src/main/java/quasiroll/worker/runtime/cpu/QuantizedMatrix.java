package quasiroll.worker.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.TensorData;

/**
 * Weights in 32-value blocks of small integers with one scale per block (Q8_0, Q4_0). A
 * product decodes a row group once into integer-valued floats and block scales, then for
 * each input of the batch (quantized by {@link Q8Activations}) accumulates, lane by lane,
 * (exact block integer dot) * d_w * d_x, and sums the lanes left to right: a fixed order.
 */
abstract class QuantizedMatrix extends WeightMatrix {
  static final int BLOCK = DType.Q8_0.blockSize(); // the same 32 for Q4_0

  private final int blockBytes;

  QuantizedMatrix(TensorData t, int blockBytes) {
    super(t);
    this.blockBytes = blockBytes;
    if (BLOCK % VectorKernels.L != 0) {
      throw new IllegalStateException("vector length " + VectorKernels.L + " does not divide 32");
    }
  }

  /** The f16 little-endian scale d that starts a Q8_0/Q4_0 block at raw[off]. */
  static float blockScale(byte[] raw, int off) {
    return Half.toFloat((short) ((raw[off] & 0xff) | (raw[off + 1] << 8)));
  }

  /**
   * The first {@code blocks} blocks of {@code raw} (stored bytes) as integer values into
   * q[qOff..] and block scales into d[dOff..].
   */
  abstract void decodeBlocks(byte[] raw, int blocks, float[] q, int qOff, float[] d, int dOff);

  /**
   * Rows [row, row+n) decoded via {@code raw}. The stored bytes are bulk-copied to a heap
   * array first: on JDK 17, widening int8 vectors to floats is not compiled to vector
   * instructions and scalar reads from the mapped buffer are slower than from an array.
   */
  private void decodeBlocks(int row, int n, byte[] raw, float[] q, int qOff, float[] d,
      int dOff) {
    int blocks = n * cols / BLOCK;
    data.get(row * (cols / BLOCK) * blockBytes, raw, 0, blocks * blockBytes);
    decodeBlocks(raw, blocks, q, qOff, d, dOff);
  }

  @Override
  void decodeRows(int row, int n, float[] dst, int dstOff) {
    float[] d = new float[n * cols / BLOCK];
    decodeBlocks(row, n, new byte[n * cols / BLOCK * blockBytes], dst, dstOff, d, 0);
    for (int i = 0; i < n * cols; i++) {
      dst[dstOff + i] *= d[i / BLOCK];
    }
  }

  @Override
  boolean quantizesInput() {
    return true;
  }

  @Override
  void multiplyRows(int row0, int n, float[] x, Q8Activations xq, int batch, float[] out,
      int outStride, WorkerScratch s) {
    int blocks = cols / BLOCK;
    float[] wq = s.rows(GROUP * cols);
    float[] wd = s.scales(GROUP * blocks);
    decodeBlocks(row0, n, s.bytes(GROUP * blocks * blockBytes), wq, 0, wd, 0);
    var F = VectorKernels.F;
    int L = VectorKernels.L;
    for (int r = 0; r < n; r++) {
      for (int b = 0; b < batch; b++) {
        FloatVector acc = FloatVector.zero(F);
        int wo = r * cols;
        int xo = b * cols;
        for (int k = 0; k < blocks; k++) {
          FloatVector sum = FloatVector.zero(F);
          for (int p = 0; p < BLOCK; p += L) {
            sum = FloatVector.fromArray(F, wq, wo + k * BLOCK + p)
                .fma(FloatVector.fromArray(F, xq.q, xo + k * BLOCK + p), sum);
          }
          acc = sum.fma(FloatVector.broadcast(F, wd[r * blocks + k] * xq.d[b * blocks + k]), acc);
        }
        out[b * outStride + row0 + r] = VectorKernels.sumLanes(acc, s.lanes);
      }
    }
  }
}
