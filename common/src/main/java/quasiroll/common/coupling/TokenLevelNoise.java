package quasiroll.common.coupling;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import quasiroll.common.error.BadInputException;
import quasiroll.common.noise.ExtensibleOrder;
import quasiroll.common.noise.KeyedHash;
import quasiroll.common.qmc.CbcConstruction;
import quasiroll.common.qmc.LatinHypercube;
import quasiroll.common.qmc.NoRandomization;
import quasiroll.common.qmc.PointSet;
import quasiroll.common.qmc.RandomShift;
import quasiroll.common.qmc.Randomization;
import quasiroll.common.qmc.Rank1Lattice;
import quasiroll.common.qmc.SobolSequence;
import quasiroll.common.sampler.SampleNoise;
import quasiroll.common.sampler.SamplerSpec;

/**
 * Token-level QMC noise: sample {@code index} of a group of k at generated-token position t uses
 * coordinate t of point {@code index} of a k-point set, randomized per prompt.
 *
 * <ul>
 *   <li>{@code sobol}: the first k Sobol' points in {@value SobolSequence#MAX_DIMENSION}
 *       dimensions, option {@code scramble} = {@code lms} (default; left-matrix scramble plus
 *       digital shift), {@code owen} (nested uniform scrambling) or {@code xor} (digital shift
 *       only). {@code none} is refused: unscrambled points are not uniform.
 *   <li>{@code rank1}: the CBC rank-1 lattice with k points in {@link
 *       CbcConstruction#defaultDimension(int)} dimensions (256 for k <= 4096), randomly shifted mod
 *       1. No options.
 *   <li>{@code lhs}: a Latin hypercube with one keyed permutation per position, so it has no
 *       dimension limit and never pads. No options.
 * </ul>
 *
 * <p>Positions past a point set's dimension count D fall back to padding: position t uses dimension
 * t mod D of the same point, randomized with the seed of block b = t / D, which is the prompt seed
 * for b = 0 and hash(prompt seed, DOMAIN_PAD_BLOCK "QMCPADBK", b) after. The blocks are independent
 * randomizations, so every code stays exactly uniform and positions in different blocks are
 * independent; within a block the k samples are still a QMC point set in D dimensions. {@link
 * SampleNoise#note()} reports the fallback once a sample reaches it.
 *
 * <p>Cost per position: sobol one coordinate (popcount(gray(index)) xors) plus the scramble (lms:
 * one mix per set digit, up to 32; owen: 64 mixes); rank1 a multiply, a 128/32 division and a hash;
 * lhs a keyed permutation (about 6 hashes, a few more when cycle walking), a rejection-sampled
 * rotation and a jitter hash.
 */
public final class TokenLevelNoise {
  /** Domain constant "QMCPADBK" for the seeds of padding blocks. */
  public static final long DOMAIN_PAD_BLOCK = 0x514d43504144424bL;

  private static final Set<String> SOBOL_SCRAMBLES = new TreeSet<>(Set.of("lms", "owen", "xor"));

  private TokenLevelNoise() {}

  /**
   * Opens the noise of sample {@code index} of {@code k} for the token-level couplings SOBOL, RANK1
   * and LHS.
   *
   * @throws IllegalArgumentException for any other coupling, or index outside [0, k)
   * @throws BadInputException for unknown or unsupported options
   */
  public static SampleNoise open(SamplerSpec spec, long promptSeed, int index, int k) {
    return open(spec, promptSeed, index, k, k);
  }

  /**
   * As {@link #open(SamplerSpec, long, int, int)} for a group of base size k that may grow to
   * {@code extent} = k·2^G ({@link ExtensibleOrder}): sobol takes Sobol' point {@code index} (a
   * prefix property), rank1 the embedded lattice (the CBC vector for {@code extent} points, visited
   * in {@link ExtensibleOrder}). With extent = k it is the plain construction.
   */
  public static SampleNoise open(SamplerSpec spec, long promptSeed, int index, int k, int extent) {
    if (k < 1 || extent < k || index < 0 || index >= extent) {
      throw new IllegalArgumentException("sample index " + index + " outside [0, " + extent + ")");
    }
    return switch (spec.coupling()) {
      case SOBOL -> {
        Randomization scramble = sobolScramble(spec.options());
        yield new Stream(
            new SobolSequence(extent, SobolSequence.MAX_DIMENSION),
            scramble,
            promptSeed,
            index,
            "sobol (" + scramble.name() + ")");
      }
      case RANK1 -> {
        checkOptions("rank1", spec.options(), Set.of());
        CbcConstruction.checkSupported(extent);
        if (extent == k) {
          yield new Stream(
              Rank1Lattice.cbc(k, CbcConstruction.defaultDimension(k)),
              RandomShift.INSTANCE,
              promptSeed,
              index,
              "rank1 (shift)");
        }
        long[] f = ExtensibleOrder.fraction(index, k);
        int at = (int) (f[0] * (extent / f[1]));
        yield new Stream(
            Rank1Lattice.cbc(extent, CbcConstruction.defaultDimension(extent)),
            RandomShift.INSTANCE,
            promptSeed,
            at,
            "rank1 embedded (shift, extent " + extent + ")");
      }
      case LHS -> {
        checkOptions("lhs", spec.options(), Set.of());
        yield new Stream(
            new LatinHypercube(k, Integer.MAX_VALUE, promptSeed),
            NoRandomization.INSTANCE,
            promptSeed,
            index,
            "lhs");
      }
      default ->
          throw new IllegalArgumentException(
              "coupling "
                  + spec.coupling().shortName()
                  + " is not token-level: expected sobol, rank1 or lhs");
    };
  }

  /**
   * Checks a token-level spec's options (and k where the construction limits it) without building
   * any point set: the same rules {@link #open} applies, so a spec that passes here opens on every
   * worker.
   *
   * @throws BadInputException naming the bad option or k
   */
  public static void check(SamplerSpec spec, int k) {
    switch (spec.coupling()) {
      case SOBOL -> sobolScramble(spec.options());
      case RANK1 -> {
        checkOptions("rank1", spec.options(), Set.of());
        CbcConstruction.checkSupported(k);
      }
      case LHS -> checkOptions("lhs", spec.options(), Set.of());
      default ->
          throw new IllegalArgumentException(
              "coupling "
                  + spec.coupling().shortName()
                  + " is not token-level: expected sobol, rank1 or lhs");
    }
  }

  /** The randomization selected by a sobol spec's {@code scramble} option (default lms). */
  public static Randomization sobolScramble(Map<String, String> options) {
    checkOptions("sobol", options, Set.of("scramble"));
    String name = options.getOrDefault("scramble", "lms");
    if (name.equals("none")) {
      throw new BadInputException(
          "sobol option scramble=none is not allowed for sampling: unscrambled Sobol' points are"
              + " not uniform (the first sample would always be the all-zero point); expected one"
              + " of "
              + SOBOL_SCRAMBLES);
    }
    if (!SOBOL_SCRAMBLES.contains(name)) {
      throw new BadInputException(
          "sobol option scramble=" + name + " is unknown: expected one of " + SOBOL_SCRAMBLES);
    }
    return Randomization.byName(name);
  }

  private static void checkOptions(
      String sampler, Map<String, String> options, Set<String> specific) {
    Set<String> accepted = new TreeSet<>(specific);
    accepted.addAll(CouplingNoiseFactory.COMMON_OPTIONS);
    for (String key : options.keySet()) {
      if (!accepted.contains(key)) {
        throw new BadInputException(
            sampler + " option '" + key + "' is unknown: accepted options are " + accepted);
      }
    }
  }

  /** Seed of padding block b (block 0 is the prompt seed itself). */
  public static long blockSeed(long promptSeed, int block) {
    return block == 0 ? promptSeed : KeyedHash.hash(promptSeed, DOMAIN_PAD_BLOCK, block);
  }

  /** One sample's stream of codes over a (possibly padded) randomized point set. */
  private static final class Stream extends PositionedNoise {
    private final PointSet points;
    private final Randomization randomization;
    private final int index;
    private final String label;
    private final int dims;
    private boolean codeValid;
    private long code;
    private boolean padded;

    Stream(PointSet points, Randomization randomization, long promptSeed, int index, String label) {
      super(promptSeed);
      this.points = points;
      this.randomization = randomization;
      this.index = index;
      this.label = label;
      this.dims = points.dimension();
    }

    @Override
    public long code() {
      if (!codeValid) {
        int position = position();
        int block = position / dims;
        int dim = position - block * dims;
        if (block > 0) {
          padded = true;
        }
        code =
            randomization.apply(blockSeed(promptSeed(), block), dim, points.coordinate(index, dim));
        codeValid = true;
      }
      return code;
    }

    @Override
    public void advance(long lo, long width) {
      if (position() == Integer.MAX_VALUE) {
        throw new IllegalStateException("token position overflow");
      }
      nextPosition();
      codeValid = false;
    }

    @Override
    public String note() {
      if (!padded) {
        return "";
      }
      return label
          + " dims 0.."
          + (dims - 1)
          + ", positions >= "
          + dims
          + " padded with independently randomized copies";
    }
  }
}
