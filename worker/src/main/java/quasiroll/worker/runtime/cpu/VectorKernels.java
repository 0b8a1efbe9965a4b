package quasiroll.worker.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float kernels on heap arrays with a FIXED summation order, so a result never depends on which
 * other rows or sequences were computed alongside, nor on the thread that ran it: a dot product
 * accumulates lane j with fused multiply-adds over elements j, j+L, j+2L, ... (L = vector length),
 * sums the L lanes left to right, then adds the tail elements in order. ({@code reduceLanes} is
 * avoided: its order is unspecified and differs between the interpreter and compiled code.)
 */
final class VectorKernels {
  static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  static final int L = F.length();

  private VectorKernels() {}

  /** Lane sum, left to right. */
  static float sumLanes(FloatVector v, float[] lanes) {
    v.intoArray(lanes, 0);
    float s = 0f;
    for (int i = 0; i < L; i++) {
      s += lanes[i];
    }
    return s;
  }

  static float dot(float[] a, int ao, float[] b, int bo, int n, float[] lanes) {
    int upper = n - n % L;
    FloatVector acc = FloatVector.zero(F);
    for (int i = 0; i < upper; i += L) {
      acc = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc);
    }
    float s = sumLanes(acc, lanes);
    for (int i = upper; i < n; i++) {
      s = Math.fma(a[ao + i], b[bo + i], s);
    }
    return s;
  }

  /**
   * Four dot products of rows w0..w3 with x, loading x once per chunk. Each result is bit-identical
   * to {@link #dot} of that row with x.
   */
  static void dot4(
      float[] w,
      int w0,
      int w1,
      int w2,
      int w3,
      float[] x,
      int xo,
      int n,
      float[] lanes,
      float[] out,
      int oo,
      int ostride) {
    int upper = n - n % L;
    FloatVector a0 = FloatVector.zero(F);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    for (int i = 0; i < upper; i += L) {
      FloatVector xv = FloatVector.fromArray(F, x, xo + i);
      a0 = FloatVector.fromArray(F, w, w0 + i).fma(xv, a0);
      a1 = FloatVector.fromArray(F, w, w1 + i).fma(xv, a1);
      a2 = FloatVector.fromArray(F, w, w2 + i).fma(xv, a2);
      a3 = FloatVector.fromArray(F, w, w3 + i).fma(xv, a3);
    }
    out[oo] = tail(sumLanes(a0, lanes), w, w0, x, xo, upper, n);
    out[oo + ostride] = tail(sumLanes(a1, lanes), w, w1, x, xo, upper, n);
    out[oo + 2 * ostride] = tail(sumLanes(a2, lanes), w, w2, x, xo, upper, n);
    out[oo + 3 * ostride] = tail(sumLanes(a3, lanes), w, w3, x, xo, upper, n);
  }

  /**
   * dot4 of the same four rows with two inputs x0 = x[xo0..] and x1 = x[xo1..] at once (each weight
   * vector loaded once for both); results go to out[oo0 + k * ostride] and out[oo1 + k * ostride].
   * Each result is bit-identical to {@link #dot} of that row and input.
   */
  static void dot4x2(
      float[] w,
      int w0,
      int w1,
      int w2,
      int w3,
      float[] x,
      int xo0,
      int xo1,
      int n,
      float[] lanes,
      float[] out,
      int oo0,
      int oo1,
      int ostride) {
    int upper = n - n % L;
    FloatVector a0 = FloatVector.zero(F);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    FloatVector b0 = a0;
    FloatVector b1 = a0;
    FloatVector b2 = a0;
    FloatVector b3 = a0;
    for (int i = 0; i < upper; i += L) {
      FloatVector x0 = FloatVector.fromArray(F, x, xo0 + i);
      FloatVector x1 = FloatVector.fromArray(F, x, xo1 + i);
      FloatVector v = FloatVector.fromArray(F, w, w0 + i);
      a0 = v.fma(x0, a0);
      b0 = v.fma(x1, b0);
      v = FloatVector.fromArray(F, w, w1 + i);
      a1 = v.fma(x0, a1);
      b1 = v.fma(x1, b1);
      v = FloatVector.fromArray(F, w, w2 + i);
      a2 = v.fma(x0, a2);
      b2 = v.fma(x1, b2);
      v = FloatVector.fromArray(F, w, w3 + i);
      a3 = v.fma(x0, a3);
      b3 = v.fma(x1, b3);
    }
    out[oo0] = tail(sumLanes(a0, lanes), w, w0, x, xo0, upper, n);
    out[oo0 + ostride] = tail(sumLanes(a1, lanes), w, w1, x, xo0, upper, n);
    out[oo0 + 2 * ostride] = tail(sumLanes(a2, lanes), w, w2, x, xo0, upper, n);
    out[oo0 + 3 * ostride] = tail(sumLanes(a3, lanes), w, w3, x, xo0, upper, n);
    out[oo1] = tail(sumLanes(b0, lanes), w, w0, x, xo1, upper, n);
    out[oo1 + ostride] = tail(sumLanes(b1, lanes), w, w1, x, xo1, upper, n);
    out[oo1 + 2 * ostride] = tail(sumLanes(b2, lanes), w, w2, x, xo1, upper, n);
    out[oo1 + 3 * ostride] = tail(sumLanes(b3, lanes), w, w3, x, xo1, upper, n);
  }

  static float tail(float s, float[] w, int wo, float[] x, int xo, int from, int n) {
    for (int i = from; i < n; i++) {
      s = Math.fma(w[wo + i], x[xo + i], s);
    }
    return s;
  }

  /** y[yo..yo+n) += a * x[xo..xo+n), elementwise fused multiply-add. */
  static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
    int upper = n - n % L;
    FloatVector av = FloatVector.broadcast(F, a);
    for (int i = 0; i < upper; i += L) {
      FloatVector.fromArray(F, x, xo + i)
          .fma(av, FloatVector.fromArray(F, y, yo + i))
          .intoArray(y, yo + i);
    }
    for (int i = upper; i < n; i++) {
      y[yo + i] = Math.fma(x[xo + i], a, y[yo + i]);
    }
  }

  /** Scales x[xo..xo+n) by a. */
  static void scale(float[] x, int xo, int n, float a) {
    int upper = n - n % L;
    for (int i = 0; i < upper; i += L) {
      FloatVector.fromArray(F, x, xo + i).mul(a).intoArray(x, xo + i);
    }
    for (int i = upper; i < n; i++) {
      x[xo + i] *= a;
    }
  }
}
