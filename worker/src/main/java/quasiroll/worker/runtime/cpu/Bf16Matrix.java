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
 * bfloat16 weights: the upper 16 bits of an f32, so decoding is a shift, done in the vector
 * registers on values loaded straight from the mapped file (L halves widened to L ints, shifted
 * left by 16, reinterpreted as floats: exact).
 */
final class Bf16Matrix extends FloatMatrix {
  static final VectorSpecies<Short> S =
      VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
  private static final ValueLayout.OfShort LE =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ByteOrder O = ByteOrder.LITTLE_ENDIAN;

  Bf16Matrix(TensorData t) {
    super(t, 2);
  }

  /** L bfloat16 values at byte offset o of m as floats (exact). */
  static FloatVector load(MemorySegment m, long o) {
    IntVector i = (IntVector) ShortVector.fromMemorySegment(S, m, o, O).castShape(I, 0);
    return i.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
  }

  static float toFloat(short h) {
    return Float.intBitsToFloat((h & 0xffff) << 16);
  }

  @Override
  float scalar(long o) {
    return toFloat(seg.get(LE, o));
  }

  @Override
  void decodeRows(int row, int n, float[] dst, int dstOff) {
    long o = (long) row * cols * 2;
    int count = n * cols;
    int upper = count - count % L;
    for (int i = 0; i < upper; i += L) {
      load(seg, o + 2L * i).intoArray(dst, dstOff + i);
    }
    for (int i = upper; i < count; i++) {
      dst[dstOff + i] = scalar(o + 2L * i);
    }
  }

  @Override
  boolean rowAtATime() {
    return true;
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

  @Override
  void dot4(long o, long rb, float[] x, int xo, float[] out, int oo, float[] lanes) {
    int upper = cols - cols % L;
    var m = seg;
    FloatVector a0 = FloatVector.zero(F);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    long o1 = o + rb;
    long o2 = o1 + rb;
    long o3 = o2 + rb;
    for (int i = 0; i < upper; i += L) {
      FloatVector xv = FloatVector.fromArray(F, x, xo + i);
      long d = 2L * i;
      a0 = load(m, o + d).fma(xv, a0);
      a1 = load(m, o1 + d).fma(xv, a1);
      a2 = load(m, o2 + d).fma(xv, a2);
      a3 = load(m, o3 + d).fma(xv, a3);
    }
    out[oo] = finish(a0, lanes, o, x, xo, upper);
    out[oo + 1] = finish(a1, lanes, o1, x, xo, upper);
    out[oo + 2] = finish(a2, lanes, o2, x, xo, upper);
    out[oo + 3] = finish(a3, lanes, o3, x, xo, upper);
  }

  @Override
  void dot4x2(
      long o, long rb, float[] x, int xo0, int xo1, float[] out, int oo0, int oo1, float[] lanes) {
    int upper = cols - cols % L;
    var m = seg;
    FloatVector a0 = FloatVector.zero(F);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    FloatVector b0 = a0;
    FloatVector b1 = a0;
    FloatVector b2 = a0;
    FloatVector b3 = a0;
    long o1 = o + rb;
    long o2 = o1 + rb;
    long o3 = o2 + rb;
    for (int i = 0; i < upper; i += L) {
      FloatVector x0 = FloatVector.fromArray(F, x, xo0 + i);
      FloatVector x1 = FloatVector.fromArray(F, x, xo1 + i);
      long d = 2L * i;
      FloatVector v = load(m, o + d);
      a0 = v.fma(x0, a0);
      b0 = v.fma(x1, b0);
      v = load(m, o1 + d);
      a1 = v.fma(x0, a1);
      b1 = v.fma(x1, b1);
      v = load(m, o2 + d);
      a2 = v.fma(x0, a2);
      b2 = v.fma(x1, b2);
      v = load(m, o3 + d);
      a3 = v.fma(x0, a3);
      b3 = v.fma(x1, b3);
    }
    out[oo0] = finish(a0, lanes, o, x, xo0, upper);
    out[oo0 + 1] = finish(a1, lanes, o1, x, xo0, upper);
    out[oo0 + 2] = finish(a2, lanes, o2, x, xo0, upper);
    out[oo0 + 3] = finish(a3, lanes, o3, x, xo0, upper);
    out[oo1] = finish(b0, lanes, o, x, xo1, upper);
    out[oo1 + 1] = finish(b1, lanes, o1, x, xo1, upper);
    out[oo1 + 2] = finish(b2, lanes, o2, x, xo1, upper);
    out[oo1 + 3] = finish(b3, lanes, o3, x, xo1, upper);
  }
}
