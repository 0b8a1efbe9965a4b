package quasiroll.worker.runtime.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorised SiLU and softmax exponentials that return exactly the floats of the scalar code they
 * replace ({@code (float) (g / (1.0 + Math.exp(-g)))} and {@code (float) Math.exp(x)}), so a
 * sample's bytes do not change.
 *
 * <p>Why it is exact: the scalar code computes a double with {@link Math#exp} (within 1 ulp of the
 * exact result), then rounds it to float. Here the same double expression is computed in vector
 * lanes with the Vector API's EXP, whose accuracy specification is Math.exp's (within 1 ulp). The
 * other operations (negation, widening, 1.0 +, division, narrowing) are exactly rounded IEEE
 * operations in both. So the two doubles differ by a relative 2^-49 at most (two exp results within
 * 1 ulp of the same value, propagated through one addition and one division); the vector result q
 * is used only when q (1 - 2^-40) and q (1 + 2^-40) round to the same float — then every double in
 * between, the scalar one included, rounds to that float too (rounding is monotonic). Otherwise (a
 * double within 2^-40 of a float rounding boundary, about one value in 2^16; NaN) the lanes are
 * computed by the scalar code itself.
 */
final class ExactExp {
  static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;

  /** Floats with as many lanes as D. */
  static final VectorSpecies<Float> FD =
      VectorSpecies.of(float.class, VectorShape.forBitSize(D.length() * 32));

  private static final int N = D.length();
  private static final double LOW = 1 - 0x1p-40;
  private static final double HIGH = 1 + 0x1p-40;

  private ExactExp() {}

  /** The scalar SiLU-times-up of the transformer: silu(g) * u, with silu in double. */
  static float siluTimes(float g, float u) {
    return (float) (g / (1.0 + Math.exp(-g))) * u;
  }

  /** gate[i] = siluTimes(gate[i], up[i]) for i in [from, to), bit for bit. */
  static void siluTimes(float[] gate, float[] up, int from, int to) {
    int i = from;
    for (; i + N <= to; i += N) {
      DoubleVector g = (DoubleVector) FloatVector.fromArray(FD, gate, i).castShape(D, 0);
      DoubleVector q = g.div(g.neg().lanewise(VectorOperators.EXP).add(1.0));
      FloatVector lo = (FloatVector) q.mul(LOW).castShape(FD, 0);
      FloatVector hi = (FloatVector) q.mul(HIGH).castShape(FD, 0);
      if (lo.compare(VectorOperators.EQ, hi).allTrue()) {
        ((FloatVector) q.castShape(FD, 0)).mul(FloatVector.fromArray(FD, up, i)).intoArray(gate, i);
      } else {
        for (int k = i; k < i + N; k++) {
          gate[k] = siluTimes(gate[k], up[k]);
        }
      }
    }
    for (; i < to; i++) {
      gate[i] = siluTimes(gate[i], up[i]);
    }
  }

  /** x[i] = (float) Math.exp(x[i] - shift) for i in [from, to), bit for bit. */
  static void expShifted(float[] x, int from, int to, float shift) {
    int i = from;
    FloatVector s = FloatVector.broadcast(FD, shift);
    for (; i + N <= to; i += N) {
      DoubleVector e =
          ((DoubleVector) FloatVector.fromArray(FD, x, i).sub(s).castShape(D, 0))
              .lanewise(VectorOperators.EXP);
      FloatVector lo = (FloatVector) e.mul(LOW).castShape(FD, 0);
      FloatVector hi = (FloatVector) e.mul(HIGH).castShape(FD, 0);
      if (lo.compare(VectorOperators.EQ, hi).allTrue()) {
        ((FloatVector) e.castShape(FD, 0)).intoArray(x, i);
      } else {
        for (int k = i; k < i + N; k++) {
          x[k] = (float) Math.exp(x[k] - shift);
        }
      }
    }
    for (; i < to; i++) {
      x[i] = (float) Math.exp(x[i] - shift);
    }
  }
}
