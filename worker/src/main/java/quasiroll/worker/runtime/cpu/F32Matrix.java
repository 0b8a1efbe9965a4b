package quasiroll.worker.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import quasiroll.worker.model.TensorData;

/**
 * F32 weights: small batches load the rows straight from the mapped file; larger ones bulk-copy a
 * row group to scratch (a native-order memory copy) and multiply it from cache with every input.
 */
final class F32Matrix extends FloatMatrix {
  private static final ValueLayout.OfFloat LE =
      ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ByteOrder O = ByteOrder.LITTLE_ENDIAN;

  F32Matrix(TensorData t) {
    super(t, 4);
  }

  @Override
  void decodeRows(int row, int n, float[] dst, int dstOff) {
    MemorySegment.copy(seg, LE, (long) row * cols * 4, dst, dstOff, n * cols);
  }

  @Override
  float scalar(long o) {
    return seg.get(LE, o);
  }

  @Override
  float dot1(long o, float[] x, int xo, float[] lanes) {
    int upper = cols - cols % L;
    FloatVector a = FloatVector.zero(F);
    for (int i = 0; i < upper; i += L) {
      a =
          FloatVector.fromMemorySegment(F, seg, o + 4L * i, O)
              .fma(FloatVector.fromArray(F, x, xo + i), a);
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
      long d = 4L * i;
      a0 = FloatVector.fromMemorySegment(F, m, o + d, O).fma(xv, a0);
      a1 = FloatVector.fromMemorySegment(F, m, o1 + d, O).fma(xv, a1);
      a2 = FloatVector.fromMemorySegment(F, m, o2 + d, O).fma(xv, a2);
      a3 = FloatVector.fromMemorySegment(F, m, o3 + d, O).fma(xv, a3);
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
      long d = 4L * i;
      FloatVector v = FloatVector.fromMemorySegment(F, m, o + d, O);
      a0 = v.fma(x0, a0);
      b0 = v.fma(x1, b0);
      v = FloatVector.fromMemorySegment(F, m, o1 + d, O);
      a1 = v.fma(x0, a1);
      b1 = v.fma(x1, b1);
      v = FloatVector.fromMemorySegment(F, m, o2 + d, O);
      a2 = v.fma(x0, a2);
      b2 = v.fma(x1, b2);
      v = FloatVector.fromMemorySegment(F, m, o3 + d, O);
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
