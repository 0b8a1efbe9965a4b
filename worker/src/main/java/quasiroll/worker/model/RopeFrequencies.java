package quasiroll.worker.model;

/**
 * RoPE inverse frequencies {@code inv[i] = theta^(-2i/headDim)}, i < headDim/2, with Llama 3.1
 * scaling applied when configured (HF {@code _compute_llama3_parameters}): wavelengths shorter than
 * {@code original/high_freq_factor} are kept, longer than {@code original/low_freq_factor} divided
 * by {@code factor}, and those between interpolated smoothly.
 */
public final class RopeFrequencies {
  private RopeFrequencies() {}

  public static double[] inverse(ModelConfig c) {
    int half = c.headDim() / 2;
    double[] inv = new double[half];
    for (int i = 0; i < half; i++) {
      inv[i] = Math.pow(c.ropeTheta(), -2.0 * i / c.headDim());
    }
    ModelConfig.RopeScaling s = c.ropeScaling();
    if (s == null) {
      return inv;
    }
    double lowWavelen = s.originalContextLength() / s.lowFreqFactor();
    double highWavelen = s.originalContextLength() / s.highFreqFactor();
    for (int i = 0; i < half; i++) {
      double wavelen = 2 * Math.PI / inv[i];
      if (wavelen < highWavelen) {
        continue;
      }
      if (wavelen > lowWavelen) {
        inv[i] /= s.factor();
      } else {
        double smooth =
            (s.originalContextLength() / wavelen - s.lowFreqFactor())
                / (s.highFreqFactor() - s.lowFreqFactor());
        inv[i] = (1 - smooth) * inv[i] / s.factor() + smooth * inv[i];
      }
    }
    return inv;
  }

  /**
   * The per-frequency divisors llama.cpp stores as the {@code rope_freqs.weight} tensor for Llama
   * 3.1 scaling: {@code unscaled_inv[i] / scaled_inv[i]}.
   */
  public static float[] llamaCppFactors(ModelConfig c) {
    double[] scaled = inverse(c);
    int half = c.headDim() / 2;
    float[] f = new float[half];
    for (int i = 0; i < half; i++) {
      f[i] = (float) (Math.pow(c.ropeTheta(), -2.0 * i / c.headDim()) / scaled[i]);
    }
    return f;
  }
}
