package quasiroll.worker.runtime.transformer;

import quasiroll.worker.model.ModelConfig;

/**
 * Inverse frequencies of rotary position embeddings, theta^(-2i/headDim) for i < headDim/2,
 * with Llama 3.1 style frequency scaling when the config has it. Angle of pair i at position
 * p is {@code p * inverseFrequency[i]}; every backend computes cos/sin from these.
 */
public final class RotaryFrequencies {
  private RotaryFrequencies() {}

  /** Per-pair inverse frequencies (length headDim/2), in double precision. */
  public static double[] inverse(ModelConfig config) {
    int half = config.headDim() / 2;
    double[] inv = new double[half];
    for (int i = 0; i < half; i++) {
      inv[i] = 1.0 / Math.pow(config.ropeTheta(), (2.0 * i) / config.headDim());
    }
    ModelConfig.RopeScaling scaling = config.ropeScaling();
    if (scaling != null) {
      applyLlama3Scaling(inv, scaling);
    }
    return inv;
  }

  /**
   * Llama 3.1 rule (HF {@code _compute_llama3_parameters}): wavelengths shorter than
   * original/highFreqFactor are kept, longer than original/lowFreqFactor are divided by
   * factor, and the band between is interpolated linearly in original/wavelength.
   */
  static void applyLlama3Scaling(double[] inv, ModelConfig.RopeScaling s) {
    double lowFreqWavelen = s.originalContextLength() / s.lowFreqFactor();
    double highFreqWavelen = s.originalContextLength() / s.highFreqFactor();
    for (int i = 0; i < inv.length; i++) {
      double wavelen = 2 * Math.PI / inv[i];
      if (wavelen < highFreqWavelen) {
        continue;
      }
      if (wavelen > lowFreqWavelen) {
        inv[i] = inv[i] / s.factor();
      } else {
        double smooth =
            (s.originalContextLength() / wavelen - s.lowFreqFactor())
                / (s.highFreqFactor() - s.lowFreqFactor());
        inv[i] = (1 - smooth) * inv[i] / s.factor() + smooth * inv[i];
      }
    }
  }

  /** cos and sin of every pair's angle at {@code position}, as floats, into cos/sin. */
  public static void angles(double[] inverse, int position, float[] cos, float[] sin) {
    for (int i = 0; i < inverse.length; i++) {
      double a = position * inverse[i];
      cos[i] = (float) Math.cos(a);
      sin[i] = (float) Math.sin(a);
    }
  }
}
