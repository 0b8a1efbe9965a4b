package quasiroll.worker.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
    long rowBytes = (long) blocksPerRow * blockBytes;
    for (int b = 0; b < batch; b++) {
      for (int r = 0; r < n; r++) {
        out[b * outStride + row0 + r] = row((row0 + r) * rowBytes, xq, b, s.lanes);
      }
    }
  }

  static int u8(MemorySegment m, long off) {
    return m.get(ValueLayout.JAVA_BYTE, off) & 0xff;
  }
}
