package quasiroll.worker.runtime.cpu;

import java.util.Map;
import quasiroll.worker.model.HalfFloats;
import quasiroll.worker.model.ModelConfig;

/**
 * A deliberately plain double-precision Llama/Qwen2 forward pass (no cache, no batching, no
 * vectors): the specification the CPU backend is tested against. Follows HF modeling_llama /
 * modeling_qwen2 step by step.
 */
final class ReferenceLlama {
  private final ModelConfig c;
  private final Map<String, float[]> w;

  private final boolean quantizedInputs;

  /**
   * @param quantizedInputs the matrices are Q8_0/Q4_0, whose products take their input quantized to
   *     Q8_0 blocks first (as ggml does)
   */
  ReferenceLlama(ModelConfig c, Map<String, float[]> values, boolean quantizedInputs) {
    this.c = c;
    this.w = values;
    this.quantizedInputs = quantizedInputs;
  }

  /** Next-token logits after {@code tokens}. */
  double[] logits(int[] tokens) {
    int n = tokens.length;
    int h = c.hiddenSize();
    int hd = c.headDim();
    double[][] x = new double[n][];
    for (int t = 0; t < n; t++) {
      x[t] = row(w.get("model.embed_tokens.weight"), tokens[t], h);
    }
    for (int l = 0; l < c.numLayers(); l++) {
      String p = "model.layers." + l + ".";
      double[][] q = new double[n][];
      double[][] k = new double[n][];
      double[][] v = new double[n][];
      for (int t = 0; t < n; t++) {
        double[] xn = rmsNorm(x[t], w.get(p + "input_layernorm.weight"));
        q[t] = linear(p + "self_attn.q_proj", xn);
        k[t] = linear(p + "self_attn.k_proj", xn);
        v[t] = linear(p + "self_attn.v_proj", xn);
        rope(q[t], t);
        rope(k[t], t);
      }
      int group = c.numHeads() / c.numKvHeads();
      for (int t = 0; t < n; t++) {
        double[] att = new double[c.numHeads() * hd];
        for (int head = 0; head < c.numHeads(); head++) {
          int kvh = head / group;
          double[] s = new double[t + 1];
          double max = Double.NEGATIVE_INFINITY;
          for (int j = 0; j <= t; j++) {
            double d = 0;
            for (int i = 0; i < hd; i++) {
              d += q[t][head * hd + i] * k[j][kvh * hd + i];
            }
            s[j] = d / Math.sqrt(hd);
            max = Math.max(max, s[j]);
          }
          double sum = 0;
          for (int j = 0; j <= t; j++) {
            s[j] = Math.exp(s[j] - max);
            sum += s[j];
          }
          for (int j = 0; j <= t; j++) {
            for (int i = 0; i < hd; i++) {
              att[head * hd + i] += s[j] / sum * v[j][kvh * hd + i];
            }
          }
        }
        double[] o = linear(p + "self_attn.o_proj", att);
        for (int i = 0; i < h; i++) {
          x[t][i] += o[i];
        }
        double[] xn = rmsNorm(x[t], w.get(p + "post_attention_layernorm.weight"));
        double[] g = linear(p + "mlp.gate_proj", xn);
        double[] u = linear(p + "mlp.up_proj", xn);
        for (int i = 0; i < g.length; i++) {
          g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
        }
        double[] d = linear(p + "mlp.down_proj", g);
        for (int i = 0; i < h; i++) {
          x[t][i] += d[i];
        }
      }
    }
    double[] xn = rmsNorm(x[n - 1], w.get("model.norm.weight"));
    float[] head =
        w.containsKey("lm_head.weight")
            ? w.get("lm_head.weight")
            : w.get("model.embed_tokens.weight");
    return product(head, xn, null);
  }

  private double[] linear(String prefix, double[] in) {
    return product(w.get(prefix + ".weight"), in, w.get(prefix + ".bias"));
  }

  private double[] product(float[] m, double[] in, float[] bias) {
    double[] x = quantizedInputs ? quantizeQ8(in) : in;
    int rows = m.length / in.length;
    double[] out = new double[rows];
    for (int r = 0; r < rows; r++) {
      double s = bias == null ? 0 : bias[r];
      for (int i = 0; i < in.length; i++) {
        s += m[r * in.length + i] * x[i];
      }
      out[r] = s;
    }
    return out;
  }

  /**
   * ggml's quantize_row_q8_0 (AVX2 path) on the f32 activation, returned dequantized: per block of
   * 32, d = f16(amax / 127), q = rint(x * 127 / amax), value q * d.
   */
  static double[] quantizeQ8(double[] in) {
    double[] out = new double[in.length];
    for (int b = 0; b < in.length; b += 32) {
      float amax = 0;
      for (int i = 0; i < 32; i++) {
        amax = Math.max(amax, Math.abs((float) in[b + i]));
      }
      float d = HalfFloats.f16ToFloat(HalfFloats.floatToF16(amax / 127f));
      float id = amax == 0 ? 0 : 127f / amax;
      for (int i = 0; i < 32; i++) {
        out[b + i] = Math.rint((float) in[b + i] * id) * d;
      }
    }
    return out;
  }

  /**
   * ggml's quantize_row_q8_K_ref on the f32 activation, returned dequantized: per block of 256, m =
   * the value of largest magnitude, iscale = -127 / m, q = min(127, rint(iscale * x)), value q * (1
   * / iscale) in f32.
   */
  static double[] quantizeQ8K(double[] in) {
    double[] out = new double[in.length];
    for (int b = 0; b < in.length; b += 256) {
      float amax = 0;
      float max = 0;
      for (int i = 0; i < 256; i++) {
        float ax = Math.abs((float) in[b + i]);
        if (ax > amax) {
          amax = ax;
          max = (float) in[b + i];
        }
      }
      if (amax == 0) {
        continue;
      }
      float iscale = -127f / max;
      float d = 1 / iscale;
      for (int i = 0; i < 256; i++) {
        out[b + i] = Math.min(127, Math.rint(iscale * (float) in[b + i])) * d;
      }
    }
    return out;
  }

  private void rope(double[] vec, int pos) {
    int hd = c.headDim();
    int half = hd / 2;
    double[] inv = new double[half];
    for (int i = 0; i < half; i++) {
      inv[i] = Math.pow(c.ropeTheta(), -2.0 * i / hd);
      ModelConfig.RopeScaling s = c.ropeScaling();
      if (s != null) {
        double wavelen = 2 * Math.PI / inv[i];
        double lowWavelen = s.originalContextLength() / s.lowFreqFactor();
        double highWavelen = s.originalContextLength() / s.highFreqFactor();
        if (wavelen > lowWavelen) {
          inv[i] /= s.factor();
        } else if (wavelen >= highWavelen) {
          double smooth =
              (s.originalContextLength() / wavelen - s.lowFreqFactor())
                  / (s.highFreqFactor() - s.lowFreqFactor());
          inv[i] = (1 - smooth) * inv[i] / s.factor() + smooth * inv[i];
        }
      }
    }
    for (int head = 0; head < vec.length / hd; head++) {
      int o = head * hd;
      for (int i = 0; i < half; i++) {
        int a = o + i;
        int b = o + i + half;
        double cs = Math.cos(pos * inv[i]);
        double sn = Math.sin(pos * inv[i]);
        double va = vec[a];
        double vb = vec[b];
        vec[a] = va * cs - vb * sn;
        vec[b] = vb * cs + va * sn;
      }
    }
  }

  private double[] rmsNorm(double[] x, float[] weight) {
    double ss = 0;
    for (double v : x) {
      ss += v * v;
    }
    double inv = 1 / Math.sqrt(ss / x.length + c.rmsNormEps());
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = weight[i] * x[i] * inv;
    }
    return out;
  }

  private static double[] row(float[] m, int r, int cols) {
    double[] out = new double[cols];
    for (int i = 0; i < cols; i++) {
      out[i] = m[r * cols + i];
    }
    return out;
  }
}
