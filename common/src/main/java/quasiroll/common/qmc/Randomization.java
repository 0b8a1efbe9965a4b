package quasiroll.common.qmc;

/**
 * A randomization of a point set (SSJ's {@code PointSetRandomization}): a random map of each
 * coordinate, drawn per (seed, dimension), applied the same way to every point so the point set's
 * structure survives. A pure function of its arguments: the "random" parameters are keyed hashes
 * ({@link quasiroll.common.noise.KeyedHash}) of the seed under a domain constant owned by each
 * implementation, so any worker recomputes them without communication.
 *
 * <p>Every randomization except {@link NoRandomization} makes each coordinate of each point exactly
 * uniform on the 2^64 fixed-point grid (up to the quality of the hash as a source of random bits),
 * whatever the point's value and however few significant bits it has.
 */
public interface Randomization {
  /** Short name used in options and notes: shift, xor, lms, owen, none. */
  String name();

  /**
   * The randomized value of coordinate {@code x} (unsigned fixed point) in dimension {@code dim}.
   */
  long apply(long seed, int dim, long x);

  /** Whether this randomization preserves the structure of {@code points}. */
  boolean fits(PointSet points);

  /** Accepted names, for messages. */
  String ACCEPTED = "none, shift, xor, lms, owen";

  /** The randomization named {@code name}; null if unknown (callers build the error message). */
  static Randomization byName(String name) {
    return switch (name) {
      case "none" -> NoRandomization.INSTANCE;
      case "shift" -> RandomShift.INSTANCE;
      case "xor" -> DigitalShift.INSTANCE;
      case "lms" -> LeftMatrixScramble.INSTANCE;
      case "owen" -> NestedUniformScramble.INSTANCE;
      default -> null;
    };
  }
}
