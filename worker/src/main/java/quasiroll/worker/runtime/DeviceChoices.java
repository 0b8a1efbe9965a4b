package quasiroll.worker.runtime;

/**
 * Tokens chosen on the device for rows 0..n-1 of one step, with each token's CDF bucket [lo, lo +
 * width) in units of 2^-32 (for {@code SampleNoise.advance}) and its raw and processed logprobs
 * (natural log), as {@code CoupledTokenSampler} would report them.
 */
public record DeviceChoices(
    int[] tokens, long[] lo, long[] width, float[] rawLogprob, float[] processedLogprob) {
  public static DeviceChoices allocate(int n) {
    return new DeviceChoices(new int[n], new long[n], new long[n], new float[n], new float[n]);
  }

  public int capacity() {
    return tokens.length;
  }
}
