package quasiroll.common.sampler;

/** Test noise: a given code at every position; records the last bucket it was advanced with. */
final class FixedCode implements SampleNoise {
  long code;
  long lastLo = -1;
  long lastWidth = -1;
  int position;

  FixedCode(long code) {
    this.code = code;
  }

  @Override
  public long code() {
    return code;
  }

  @Override
  public void advance(long lo, long width) {
    lastLo = lo;
    lastWidth = width;
    position++;
  }

  @Override
  public int position() {
    return position;
  }

  @Override
  public long promptSeed() {
    return 42;
  }

  @Override
  public String note() {
    return "";
  }
}
