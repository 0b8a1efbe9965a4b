package quasiroll.common.coupling;

import quasiroll.common.noise.KeyedHash;

/**
 * Independent codes: position t of sample i reads hash(promptSeed, DOMAIN, i, t). Exactly uniform
 * (modelling the keyed hash as a random function) and independent across samples and positions. The
 * baseline every coupling is compared with.
 */
public final class IidNoise extends PositionedNoise {
  public static final long DOMAIN = 0x4949_4443_4f44_0001L; // "IIDCOD\0\1"

  private final int index;

  public IidNoise(long promptSeed, int index) {
    super(promptSeed);
    this.index = index;
  }

  @Override
  public long code() {
    return KeyedHash.hash(promptSeed(), DOMAIN, index, position());
  }

  @Override
  public void advance(long lo, long width) {
    nextPosition();
  }
}
