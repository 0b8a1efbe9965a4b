package quasiroll.common.sampler;

/**
 * Turns one row of logits plus one sample's noise into a token, exactly and deterministically.
 * Implementations document the quantised CDF they build and its resolution.
 */
public interface TokenSampler {
  /**
   * Selects a token from {@code logits[offset .. offset + vocab)} and advances the noise by one
   * position.
   */
  TokenChoice select(float[] logits, int offset, int vocab, DecodeParams params, SampleNoise noise);
}
