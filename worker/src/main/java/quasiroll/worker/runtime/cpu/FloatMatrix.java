package quasiroll.worker.runtime.cpu;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import quasiroll.worker.model.TensorData;

/**
 * Float weights (F32, F16, BF16). For small batches (at most {@link #DIRECT_BATCH} inputs) the
 * products read the rows straight from the mapped file ({@link #seg}, a {@link MemorySegment};
 * nothing is copied), converting F16/BF16 to f32 in the vector registers; for larger batches a row
 * group is decoded once into per-thread scratch and multiplied from there with every input. Both
 * paths perform, per (row, input), the operations of {@link VectorKernels#dot} on the same f32
 * values in the same order, so results are bit-identical whichever is taken.
 */
abstract class FloatMatrix extends WeightMatrix {
  /** Up to this many inputs, rows are read from the mapped file per input pair. */
  static final int DIRECT_BATCH = 2;

  static final VectorSpecies<Float> F = VectorKernels.F;
  static final int L = VectorKernels.L;

  /** Ints with as many lanes as a float vector. */
  static final VectorSpecies<Integer> I =
      VectorSpecies.of(int.class, VectorShape.forBitSize(L * 32));

  /** Bytes per stored value. */
  final int valueBytes;

  FloatMatrix(TensorData t, int valueBytes) {
    super(t);
    this.valueBytes = valueBytes;
  }

  /**
   * Whether a single input's products take one row per loop ({@link #dot1}) rather than four
   * ({@link #dot4}): faster from memory for the types converted in the registers (BF16: 7.8 vs 9.6
   * ms, F16: 9.5 vs 15.4 ms per 100M weights), slower for F32 (19.5 vs 16.5 ms). Either gives the
   * same bits.
   */
  boolean rowAtATime() {
    return false;
  }

  /** Up to this many inputs the products read rows straight from the mapped file. */
  int directBatch() {
    return DIRECT_BATCH;
  }

  /** Four dot products of rows at byte offsets o, o + rb, o + 2rb, o + 3rb with x[xo..]. */
  abstract void dot4(long o, long rb, float[] x, int xo, float[] out, int oo, float[] lanes);

  /** dot4 with two inputs, x[xo0..] into out[oo0..] and x[xo1..] into out[oo1..]. */
  abstract void dot4x2(
      long o, long rb, float[] x, int xo0, int xo1, float[] out, int oo0, int oo1, float[] lanes);

  /** One dot product of the row at byte offset o with x[xo..]. */
  abstract float dot1(long o, float[] x, int xo, float[] lanes);

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
    if (batch > directBatch()) {
      super.multiplyRows(row0, n, x, xq, batch, out, outStride, s);
      return;
    }
    long rb = (long) cols * valueBytes;
    long o = row0 * rb;
    if (n == GROUP && !(batch == 1 && rowAtATime())) {
      if (batch == 2) {
        dot4x2(o, rb, x, 0, cols, out, row0, outStride + row0, s.lanes);
      } else {
        dot4(o, rb, x, 0, out, row0, s.lanes);
      }
      return;
    }
    for (int b = 0; b < batch; b++) {
      for (int r = 0; r < n; r++) {
        out[b * outStride + row0 + r] = dot1(o + r * rb, x, b * cols, s.lanes);
      }
    }
  }

  /** Sums the lanes left to right, then adds the tail w[i] * x[i] for i in [from, n) in order. */
  final float finish(FloatVector acc, float[] lanes, long o, float[] x, int xo, int from) {
    float s = VectorKernels.sumLanes(acc, lanes);
    for (int i = from; i < cols; i++) {
      s = Math.fma(scalar(o + (long) i * valueBytes), x[xo + i], s);
    }
    return s;
  }

  /** The stored value at byte offset o as a float. */
  abstract float scalar(long o);
}
