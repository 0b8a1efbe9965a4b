package quasiroll.common.coupling;

import quasiroll.common.sampler.SampleNoise;

/**
 * The bookkeeping every {@link SampleNoise} shares: the prompt seed it derives from and the
 * generated-token position it is at. Subclasses supply {@link #code()} and {@link #advance(long,
 * long)}, calling {@link #nextPosition()} once per advance; they override {@link #note()} when they
 * have something to report.
 *
 * <p>The accessors are final so the JIT can inline them in the per-token loop.
 */
public abstract class PositionedNoise implements SampleNoise {
  private final long promptSeed;
  private int position;

  protected PositionedNoise(long promptSeed) {
    this.promptSeed = promptSeed;
  }

  /** Moves {@link #position()} to the next generated token. */
  protected final void nextPosition() {
    position++;
  }

  @Override
  public final int position() {
    return position;
  }

  @Override
  public final long promptSeed() {
    return promptSeed;
  }

  /** Nothing to report by default. */
  @Override
  public String note() {
    return "";
  }
}
