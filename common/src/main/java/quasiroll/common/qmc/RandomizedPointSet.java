package quasiroll.common.qmc;

/**
 * A point set seen through a randomization drawn from {@code seed}: coordinate (i, j) is {@code
 * randomization.apply(seed, j, points.coordinate(i, j))}. A view: nothing is stored.
 */
public final class RandomizedPointSet implements PointSet {
  private final PointSet points;
  private final Randomization randomization;
  private final long seed;

  public RandomizedPointSet(PointSet points, Randomization randomization, long seed) {
    if (!randomization.fits(points)) {
      throw new IllegalArgumentException(
          "randomization " + randomization.name() + " does not fit " + points.describe());
    }
    this.points = points;
    this.randomization = randomization;
    this.seed = seed;
  }

  @Override
  public int numPoints() {
    return points.numPoints();
  }

  @Override
  public int dimension() {
    return points.dimension();
  }

  @Override
  public long coordinate(int i, int j) {
    return randomization.apply(seed, j, points.coordinate(i, j));
  }

  @Override
  public double coordinateDouble(int i, int j) {
    if (randomization instanceof NoRandomization) {
      return points.coordinateDouble(i, j);
    }
    return FixedPoint.toDouble(coordinate(i, j));
  }

  @Override
  public boolean isDigitalNetBase2() {
    return points.isDigitalNetBase2() && !(randomization instanceof RandomShift);
  }

  @Override
  public String describe() {
    return points.describe() + " randomized by " + randomization.name();
  }
}
