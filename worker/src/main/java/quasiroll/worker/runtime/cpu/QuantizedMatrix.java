package quasiroll.worker.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.TensorData;

/**
 * Weights in 32-value blocks of small integers with one f16 scale per block (Q8_0, Q4_0). Products
 * read the stored blocks straight from the mapped file ({@link #seg}, a {@link MemorySegment};
 * nothing is copied): each L-byte group of weights is loaded as a {@link ByteVector} and widened to
 * L floats (exact: small integers), multiplied with the input quantized by {@link Q8Activations}
 * (integer-valued floats) and accumulated lane by lane; per block, acc = fma(block lane sums, d_w *
 * d_x, acc); finally the lanes are summed left to right. A block's lane sums are exact integers
 * (|sum| < 2^24), so the order of the multiply-adds inside a block does not matter; everything else
 * has a fixed order, the same for every row, input, batch composition and thread.
 */
abstract class QuantizedMatrix extends WeightMatrix {
  static final int BLOCK = DType.Q8_0.blockSize(); // the same 32 for Q4_0

  /** Bytes with as many lanes as a float vector (16 bytes with AVX-512, 8 with AVX2). */
  static final VectorSpecies<Byte> B =
      VectorSpecies.of(byte.class, VectorShape.forBitSize(VectorKernels.L * 8));

  static final ValueLayout.OfShort F16 =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  final int blockBytes;
  final int blocksPerRow;

  QuantizedMatrix(TensorData t, int blockBytes) {
    super(t);
    this.blockBytes = blockBytes;
    this.blocksPerRow = cols / BLOCK;
    if (BLOCK % VectorKernels.L != 0 || VectorKernels.L < 8) {
      throw new IllegalStateException("vector length " + VectorKernels.L + " does not divide 32");
    }
  }

  /** The f16 little-endian scale d that starts a Q8_0/Q4_0 block at raw[off]. */
  static float blockScale(byte[] raw, int off) {
    return Half.toFloat((short) ((raw[off] & 0xff) | (raw[off + 1] << 8)));
  }

  /** The f16 scale of the block at byte offset off of the segment. */
  final float scaleAt(long off) {
    return Float.float16ToFloat(seg.get(F16, off));
  }

  /**
   * The first {@code blocks} blocks of {@code raw} (stored bytes) as integer values into q[qOff..]
   * and block scales into d[dOff..].
   */
  abstract void decodeBlocks(byte[] raw, int blocks, float[] q, int qOff, float[] d, int dOff);

  @Override
  void decodeRows(int row, int n, float[] dst, int dstOff) {
    int blocks = n * blocksPerRow;
    byte[] raw = new byte[blocks * blockBytes];
    float[] d = new float[blocks];
    MemorySegment.copy(
        seg, ValueLayout.JAVA_BYTE, (long) row * blocksPerRow * blockBytes, raw, 0, raw.length);
    decodeBlocks(raw, blocks, dst, dstOff, d, 0);
    for (int i = 0; i < n * cols; i++) {
      dst[dstOff + i] *= d[i / BLOCK];
    }
  }

  @Override
  int inputBlock() {
    return Q8Activations.BLOCK;
  }

  /**
   * The lane sums of the block at byte offset off times the input block x[xo ..] (32 integer
   * values): the exact integer dot of the block, spread over the lanes (generic path).
   */
  abstract FloatVector blockDot(long off, float[] xq, int xo);

  /**
   * Rows [row0, row0 + n) times input b: out[oo + r]. Every block is visited in order; the
   * arithmetic per (row, input) is that of {@link #blockDot} then the fixed fma/lane-sum order,
   * however n is chosen.
   */
  abstract void dotRows(
      int row0, int n, float[] xq, int xo, float[] xd, int xdo, float[] out, int oo, float[] lanes);

  /**
   * From this many inputs on, a row group is decoded once into integer-valued floats and block
   * scales in scratch and multiplied from there with every input; below, blocks are widened
   * straight from the mapped file per input. Both perform the same operations on the same values in
   * the same order (bit-identical results).
   */
  static final int DECODE_BATCH = 3;

  @Override
  final void multiplyRows(
      int row0,
      int n,
      float[] x,
      Q8Activations xq,
      int batch,
      float[] out,
      int outStride,
      WorkerScratch s) {
    if (batch >= DECODE_BATCH) {
      multiplyDecodedBlocks(row0, n, xq, batch, out, outStride, s);
      return;
    }
    for (int b = 0; b < batch; b++) {
      dotRows(row0, n, xq.q, b * cols, xq.d, b * blocksPerRow, out, b * outStride + row0, s.lanes);
    }
  }

  private void multiplyDecodedBlocks(
      int row0, int n, Q8Activations xq, int batch, float[] out, int outStride, WorkerScratch s) {
    int blocks = blocksPerRow;
    float[] wq = s.rows(GROUP * cols);
    float[] wd = s.scales(GROUP * blocks);
    byte[] raw = s.bytes(GROUP * blocks * blockBytes);
    MemorySegment.copy(
        seg,
        ValueLayout.JAVA_BYTE,
        (long) row0 * blocks * blockBytes,
        raw,
        0,
        n * blocks * blockBytes);
    decodeBlocks(raw, n * blocks, wq, 0, wd, 0);
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
            sum =
                FloatVector.fromArray(F, wq, wo + k * BLOCK + p)
                    .fma(FloatVector.fromArray(F, xq.q, xo + k * BLOCK + p), sum);
          }
          acc = sum.fma(FloatVector.broadcast(F, wd[r * blocks + k] * xq.d[b * blocks + k]), acc);
        }
        out[b * outStride + row0 + r] = VectorKernels.sumLanes(acc, s.lanes);
      }
    }
  }

  /** Species of ints with as many lanes as a float vector. */
  static final VectorSpecies<Integer> I =
      VectorSpecies.of(int.class, VectorShape.forBitSize(VectorKernels.L * 32));

  /**
   * L int8 values as floats (exact). Widened through ints: {@code convertShape(B2F)} measured 2.5x
   * slower on JDK 25 (not compiled to vpmovsxbd + vcvtdq2ps).
   */
  static FloatVector widen(ByteVector v) {
    return (FloatVector) v.castShape(I, 0).castShape(VectorKernels.F, 0);
  }

  /**
   * L int8 values sign-extended to ints. Bit fields are extracted after widening: shifts of byte
   * lanes measured several times slower (x86 has no byte shifts).
   */
  static IntVector ints(ByteVector v) {
    return (IntVector) v.castShape(I, 0);
  }

  static FloatVector floats(IntVector v) {
    return (FloatVector) v.castShape(VectorKernels.F, 0);
  }
}
