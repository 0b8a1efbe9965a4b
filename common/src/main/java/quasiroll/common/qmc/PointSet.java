package quasiroll.common.qmc;

/**
 * A deterministic set of {@link #numPoints()} points in [0,1)^{@link #dimension()}, in the style of
 * SSJ's {@code umontreal.ssj.hups.PointSet}: the construction only; randomizations ({@link
 * Randomization}) are separate and applied with {@link RandomizedPointSet}.
 *
 * <p>Coordinates are unsigned 64-bit fixed point ({@link FixedPoint}): value = x / 2^64.
 * Implementations are immutable and safe to share between threads.
 */
public interface PointSet {
  int numPoints();

  int dimension();

  /** Coordinate {@code j} of point {@code i} as unsigned fixed point; 0 <= i < n, 0 <= j < d. */
  long coordinate(int i, int j);

  /**
   * The same coordinate as a double in [0,1). Lattices override this to return the correctly
   * rounded rational (e.g. exactly the double nearest i/n) instead of the truncated fixed point.
   */
  default double coordinateDouble(int i, int j) {
    return FixedPoint.toDouble(coordinate(i, j));
  }

  /**
   * True for digital nets in base 2 (Sobol', van der Corput): digital randomizations (xor shift,
   * left-matrix scrambling, Owen scrambling) preserve their net structure.
   */
  default boolean isDigitalNetBase2() {
    return false;
  }

  /** Short description for notes and logs, e.g. "sobol n=64 d=1000". */
  String describe();

  /** Checks 0 <= i < n and 0 <= j < d with a message naming the bad index. */
  default void checkIndex(int i, int j) {
    if (i < 0 || i >= numPoints()) {
      throw new IndexOutOfBoundsException(
          "point " + i + " outside [0, " + numPoints() + ") of " + describe());
    }
    if (j < 0 || j >= dimension()) {
      throw new IndexOutOfBoundsException(
          "dimension " + j + " outside [0, " + dimension() + ") of " + describe());
    }
  }
}
