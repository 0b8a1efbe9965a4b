package quasiroll.common.qmc;

/**
 * The identity: the deterministic point set as constructed. For inspection and reference values
 * only; its coordinates are not uniform, so it is refused for sampling.
 */
public final class NoRandomization implements Randomization {
  public static final NoRandomization INSTANCE = new NoRandomization();

  private NoRandomization() {}

  @Override
  public String name() {
    return "none";
  }

  @Override
  public long apply(long seed, int dim, long x) {
    return x;
  }

  @Override
  public boolean fits(PointSet points) {
    return true;
  }
}
