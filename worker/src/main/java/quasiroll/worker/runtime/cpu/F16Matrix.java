package quasiroll.worker.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import quasiroll.worker.model.TensorData;

/**
 * IEEE half-precision weights. Batch-1 and batch-2 products read the rows straight from the mapped
 * file and convert them in the vector registers ({@link #load}: 10 integer/float operations per L
 * values, exact for every finite half); larger batches decode a row group into per-thread scratch
 * with a plain loop of {@link Float#float16ToFloat}, which C2 compiles into hardware conversions
 * (vcvtph2ps), and multiply it from cache with every input. Both give the same f32 values, so the
 * results are bit-identical. The register conversion is wrong for Inf and NaN, so a tensor holding
 * any (checked once when the matrix is built) always takes the decode path.
 */
final class F16Matrix extends FloatMatrix {
  static final VectorSpecies<Short> S =
      VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
  private static final ValueLayout.OfShort LE =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ByteOrder O = ByteOrder.LITTLE_ENDIAN;

  /** Whether every value is finite, so that the products may convert with {@link #load}. */
  private final boolean finite;

  F16Matrix(TensorData t) {
    super(t, 2);
    this.finite = allFinite(seg, (long) rows * cols);
  }

  /** Whether none of the n halves of m is Inf or NaN (exponent bits all ones). */
  static boolean allFinite(MemorySegment m, long n) {
    long upper = n - n % S.length();
    for (long i = 0; i < upper; i += S.length()) {
      ShortVector v = ShortVector.fromMemorySegment(S, m, 2 * i, O);
      if (v.and((short) 0x7c00).compare(VectorOperators.EQ, (short) 0x7c00).anyTrue()) {
        return false;
      }
    }
    for (long i = upper; i < n; i++) {
      if ((m.get(LE, 2 * i) & 0x7c00) == 0x7c00) {
        return false;
      }
    }
    return true;
  }

  @Override
  int directBatch() {
    return finite ? DIRECT_BATCH : 0;
  }

  /**
   * L finite halves at byte offset o of m as floats, exact, and without f32 subnormals on the way
   * (each costs a microcode assist: a version that scaled by 2^112 through them streamed at half
   * the speed). With mag = the half's 15 low bits: a normal half (exponent e in 1..30) is mag << 13
   * plus 112 in the f32 exponent (exponent e + 112 = e - 15 + 127, same mantissa), which is at
   * least 2^-14; a zero or subnormal half is mag * 2^-24 (int to float and the product exact); the
   * first is below 2^-14 exactly for those, which selects the second. Then the sign bit is OR-ed
   * in. Inf and NaN (e = 31) would come out as finite values.
   */
  static FloatVector load(MemorySegment m, long o) {
    IntVector h = (IntVector) ShortVector.fromMemorySegment(S, m, o, O).castShape(I, 0);
    IntVector mag = h.and(0x7fff);
    FloatVector normal =
        mag.lanewise(VectorOperators.LSHL, 13).add(112 << 23).reinterpretAsFloats();
    FloatVector small = ((FloatVector) mag.castShape(F, 0)).mul(0x1p-24f);
    FloatVector f = normal.blend(small, normal.compare(VectorOperators.LT, 0x1p-14f));
    return f.reinterpretAsInts().or(h.and(0x80000000)).reinterpretAsFloats();
  }

  @Override
  float scalar(long o) {
    return Float.float16ToFloat(seg.get(LE, o));
  }

  @Override
  void decodeRows(int row, int n, float[] dst, int dstOff) {
    decode(seg, (long) row * cols * 2, n * cols, dst, dstOff);
  }

  /** count halves at byte offset o of m into dst[dstOff ..] (exact). */
  static void decode(MemorySegment m, long o, int count, float[] dst, int dstOff) {
    for (int i = 0; i < count; i++) {
      dst[dstOff + i] = Float.float16ToFloat(m.get(LE, o + 2L * i));
    }
  }

  @Override
  float dot1(long o, float[] x, int xo, float[] lanes) {
    int upper = cols - cols % L;
    FloatVector a = FloatVector.zero(F);
    for (int i = 0; i < upper; i += L) {
      a = load(seg, o + 2L * i).fma(FloatVector.fromArray(F, x, xo + i), a);
    }
    return finish(a, lanes, o, x, xo, upper);
  }

  /*
   * C2 hits its inlining node limit (NodeCountInliningCutoff) with four calls of load in one loop
   * and boxes the vectors, so dot4 and dot4x2 go row by row (the same arithmetic per row).
   */

  @Override
  boolean rowAtATime() {
    return true;
  }

  @Override
  void dot4(long o, long rb, float[] x, int xo, float[] out, int oo, float[] lanes) {
    for (int r = 0; r < GROUP; r++) {
      out[oo + r] = dot1(o + r * rb, x, xo, lanes);
    }
  }

  @Override
  void dot4x2(
      long o, long rb, float[] x, int xo0, int xo1, float[] out, int oo0, int oo1, float[] lanes) {
    for (int r = 0; r < GROUP; r++) {
      dot1x2(o + r * rb, x, xo0, xo1, out, oo0 + r, oo1 + r, lanes);
    }
  }

  private void dot1x2(
      long o, float[] x, int xo0, int xo1, float[] out, int oo0, int oo1, float[] lanes) {
    int upper = cols - cols % L;
    var m = seg;
    FloatVector a = FloatVector.zero(F);
    FloatVector b = a;
    for (int i = 0; i < upper; i += L) {
      FloatVector v = load(m, o + 2L * i);
      a = v.fma(FloatVector.fromArray(F, x, xo0 + i), a);
      b = v.fma(FloatVector.fromArray(F, x, xo1 + i), b);
    }
    out[oo0] = finish(a, lanes, o, x, xo0, upper);
    out[oo1] = finish(b, lanes, o, x, xo1, upper);
  }
}
