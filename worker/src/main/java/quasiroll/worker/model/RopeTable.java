package quasiroll.worker.model;

/**
 * Rotary-embedding angles of a model, as HF computes them ({@code rotary_emb.inv_freq}):
 * inv_freq_i = theta^(-2i/headDim) for i < headDim/2, optionally rescaled Llama-3 style,
 * and angle(p, i) = p * inv_freq_i. Layout is HF's half-split one: dimension i is rotated
 * together with dimension i + headDim/2. Computed in double, rounded once to float, so every
 * backend that uses this table rotates by the same angles.
 */
public final class RopeTable {
  private final int positions;
  private final int half;
  private final float[] cos;
  private final float[] sin;

  private RopeTable(int positions, int half, float[] cos, float[] sin) {
    this.positions = positions;
    this.half = half;
    this.cos = cos;
    this.sin = sin;
  }

  /** Cos/sin tables for positions [0, positions). */
  public static RopeTable of(ModelConfig config, int positions) {
    double[] invFreq = inverseFrequencies(config);
    int half = invFreq.length;
    float[] cos = new float[positions * half];
    float[] sin = new float[positions * half];
    for (int p = 0; p < positions; p++) {
      for (int i = 0; i < half; i++) {
        // HF multiplies in float32: position (as float) times inv_freq (float32).
        float angle = (float) p * (float) invFreq[i];
        cos[p * half + i] = (float) Math.cos(angle);
        sin[p * half + i] = (float) Math.sin(angle);
      }
    }
    return new RopeTable(positions, half, cos, sin);
  }

  /** inv_freq_i, with Llama-3 scaling applied when the config has it. */
  public static double[] inverseFrequencies(ModelConfig config) {
    int half = config.headDim() / 2;
    double[] f = new double[half];
    for (int i = 0; i < half; i++) {
      f[i] = 1.0 / Math.pow(config.ropeTheta(), (2.0 * i) / config.headDim());
    }
    ModelConfig.RopeScaling s = config.ropeScaling();
    if (s != null) {
      // transformers' _compute_llama3_parameters.
      double lowWavelen = s.originalContextLength() / s.lowFreqFactor();
      double highWavelen = s.originalContextLength() / s.highFreqFactor();
      for (int i = 0; i < half; i++) {
        double wavelen = 2 * Math.PI / f[i];
        if (wavelen > lowWavelen) {
          f[i] = f[i] / s.factor();
        } else if (wavelen >= highWavelen) {
          double smooth = (s.originalContextLength() / wavelen - s.lowFreqFactor())
              / (s.highFreqFactor() - s.lowFreqFactor());
          f[i] = (1 - smooth) * f[i] / s.factor() + smooth * f[i];
        }
      }
    }
    return f;
  }

  public int positions() {
    return positions;
  }

  /** headDim / 2: the number of rotated pairs. */
  public int half() {
    return half;
  }

  /** Row-major [positions][half]; shared, do not modify. */
  public float[] cos() {
    return cos;
  }

  /** Row-major [positions][half]; shared, do not modify. */
  public float[] sin() {
    return sin;
  }
}
