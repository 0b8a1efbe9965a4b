package quasiroll.common.sampler;

import quasiroll.common.coupling.PositionedNoise;

/**
 * A deliberately WRONG carried code for test power checks: the textbook arithmetic-sampling code
 * held in a double, c <- (c - lo) / width. It has 53 bits; once a sequence's surprisal exceeds them
 * the "uniform" is exhausted (exactly 0 for dyadic buckets) and later tokens are no longer drawn
 * from the model. The exactness tests must reject it.
 */
final class DoubleCarriedCode extends PositionedNoise {
  private double c;

  DoubleCarriedCode(long initialCode) {
    super(0);
    this.c = (initialCode >>> 11) * 0x1p-53;
  }

  @Override
  public long code() {
    return ((long) (c * 0x1p53)) << 11;
  }

  @Override
  public void advance(long lo, long width) {
    c = (c - lo * 0x1p-32) / (width * 0x1p-32);
    c = Math.min(Math.max(c, 0.0), Math.nextDown(1.0));
    nextPosition();
  }
}
