package quasiroll.worker.runtime.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.ModelConfig;
import quasiroll.worker.model.TensorData;

/**
 * Random tiny Llama/Qwen2 models for tests: the encoded tensors a loader would hand over, and
 * the values a straightforward reference decodes from them (decoded here with plain scalar
 * code that shares nothing with the backend's kernels).
 */
final class TinyModel {
  final ModelConfig config;
  final Map<String, TensorData> tensors = new HashMap<>();
  /** Decoded values of every tensor, row-major. */
  final Map<String, float[]> values = new HashMap<>();

  static ModelConfig config(boolean qwen, boolean llama3Scaling) {
    return new ModelConfig(qwen ? "qwen2" : "llama", 80, 64, 96, 2, 4, 2, 16, 128,
        qwen ? 1_000_000.0 : 10_000.0,
        llama3Scaling ? new ModelConfig.RopeScaling(8.0, 1.0, 4.0, 16) : null,
        1e-5, qwen, qwen, 1, Set.of(2));
  }

  /** Matrices in {@code dtype}; norms and biases in F32 (as GGUF stores them). */
  TinyModel(ModelConfig c, DType dtype, long seed) {
    this.config = c;
    Random rnd = new Random(seed);
    int h = c.hiddenSize();
    int qDim = c.numHeads() * c.headDim();
    int kvDim = c.numKvHeads() * c.headDim();
    matrix("model.embed_tokens.weight", c.vocabSize(), h, dtype, rnd, 1.0f);
    for (int i = 0; i < c.numLayers(); i++) {
      String p = "model.layers." + i + ".";
      norm(p + "input_layernorm.weight", h, rnd);
      matrix(p + "self_attn.q_proj.weight", qDim, h, dtype, rnd, 2.0f);
      matrix(p + "self_attn.k_proj.weight", kvDim, h, dtype, rnd, 2.0f);
      matrix(p + "self_attn.v_proj.weight", kvDim, h, dtype, rnd, 1.0f);
      if (c.qkvBias()) {
        matrix(p + "self_attn.q_proj.bias", 0, qDim, DType.F32, rnd, 0.5f);
        matrix(p + "self_attn.k_proj.bias", 0, kvDim, DType.F32, rnd, 0.5f);
        matrix(p + "self_attn.v_proj.bias", 0, kvDim, DType.F32, rnd, 0.5f);
      }
      matrix(p + "self_attn.o_proj.weight", h, qDim, dtype, rnd, 1.0f);
      norm(p + "post_attention_layernorm.weight", h, rnd);
      matrix(p + "mlp.gate_proj.weight", c.intermediateSize(), h, dtype, rnd, 1.0f);
      matrix(p + "mlp.up_proj.weight", c.intermediateSize(), h, dtype, rnd, 1.0f);
      matrix(p + "mlp.down_proj.weight", h, c.intermediateSize(), dtype, rnd, 1.0f);
    }
    norm("model.norm.weight", h, rnd);
    if (!c.tiedEmbeddings()) {
      matrix("lm_head.weight", c.vocabSize(), h, dtype, rnd, 1.0f);
    }
  }

  private void norm(String name, int n, Random rnd) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = 0.8f + 0.4f * rnd.nextFloat();
    }
    put(name, DType.F32, new long[] {n}, v);
  }

  /** rows == 0 means a vector of cols values. */
  private void matrix(String name, int rows, int cols, DType dtype, Random rnd, float gain) {
    int n = Math.max(rows, 1) * cols;
    float[] v = new float[n];
    float a = gain * (float) Math.sqrt(3.0 / cols);
    for (int i = 0; i < n; i++) {
      v[i] = a * (2 * rnd.nextFloat() - 1);
    }
    put(name, dtype, rows == 0 ? new long[] {cols} : new long[] {rows, cols}, v);
  }

  void put(String name, DType dtype, long[] shape, float[] v) {
    ByteBuffer b = encode(dtype, v);
    tensors.put(name, new TensorData(name, dtype, shape, b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN)));
    values.put(name, decode(dtype, b, v.length));
  }

  static ByteBuffer encode(DType dtype, float[] v) {
    ByteBuffer b = ByteBuffer.allocate((int) dtype.bytesFor(v.length)).order(ByteOrder.LITTLE_ENDIAN);
    switch (dtype) {
      case F32 -> {
        for (float f : v) {
          b.putFloat(f);
        }
      }
      case F16 -> {
        for (float f : v) {
          b.putShort(toHalf(f));
        }
      }
      case BF16 -> {
        for (float f : v) {
          b.putShort((short) (Float.floatToIntBits(f) >>> 16));
        }
      }
      case Q8_0 -> {
        for (int blk = 0; blk < v.length; blk += 32) {
          float amax = 0;
          for (int i = 0; i < 32; i++) {
            amax = Math.max(amax, Math.abs(v[blk + i]));
          }
          short dh = toHalf(amax / 127);
          float d = halfValue(dh);
          b.putShort(dh);
          for (int i = 0; i < 32; i++) {
            b.put((byte) Math.round(v[blk + i] / d));
          }
        }
      }
      case Q4_0 -> {
        for (int blk = 0; blk < v.length; blk += 32) {
          float amax = 0;
          for (int i = 0; i < 32; i++) {
            amax = Math.max(amax, Math.abs(v[blk + i]));
          }
          short dh = toHalf(amax / 7);
          float d = halfValue(dh);
          b.putShort(dh);
          for (int j = 0; j < 16; j++) {
            int lo = Math.max(0, Math.min(15, Math.round(v[blk + j] / d) + 8));
            int hi = Math.max(0, Math.min(15, Math.round(v[blk + j + 16] / d) + 8));
            b.put((byte) (lo | (hi << 4)));
          }
        }
      }
    }
    return b.flip();
  }

  static float[] decode(DType dtype, ByteBuffer b, int n) {
    float[] v = new float[n];
    switch (dtype) {
      case F32 -> {
        for (int i = 0; i < n; i++) {
          v[i] = b.getFloat(4 * i);
        }
      }
      case F16 -> {
        for (int i = 0; i < n; i++) {
          v[i] = halfValue(b.getShort(2 * i));
        }
      }
      case BF16 -> {
        for (int i = 0; i < n; i++) {
          v[i] = Float.intBitsToFloat(b.getShort(2 * i) << 16);
        }
      }
      case Q8_0 -> {
        for (int i = 0; i < n; i++) {
          int blk = i / 32;
          v[i] = halfValue(b.getShort(blk * 34)) * b.get(blk * 34 + 2 + i % 32);
        }
      }
      case Q4_0 -> {
        for (int i = 0; i < n; i++) {
          int blk = i / 32;
          int j = i % 32;
          int q = b.get(blk * 18 + 2 + j % 16) & 0xff;
          int nib = j < 16 ? q & 15 : q >> 4;
          v[i] = halfValue(b.getShort(blk * 18)) * (nib - 8);
        }
      }
    }
    return v;
  }

  /** Float (|f| < 65504) to half, round to nearest (ties away; enough for test data). */
  static short toHalf(float f) {
    if (f == 0) {
      return 0;
    }
    int sign = f < 0 ? 0x8000 : 0;
    float a = Math.abs(f);
    int e = Math.getExponent(a);
    if (e < -14) {
      // Subnormal: a multiple of 2^-24 (a rounding up to 1024 * 2^-24 is the smallest normal).
      return (short) (sign | Math.round(a * 0x1p24f));
    }
    int mant = Math.round((a / (float) Math.pow(2, e) - 1) * 1024);
    if (mant == 1024) {
      mant = 0;
      e++;
    }
    if (e + 15 < 1 || e + 15 > 30) {
      throw new IllegalArgumentException("test value " + f + " outside the half normal range");
    }
    return (short) (sign | (e + 15) << 10 | mant);
  }

  /** Textbook decoding of a half: (-1)^s * 2^(e-15) * (1 + m/1024), subnormals 2^-14 * m/1024. */
  static float halfValue(short h) {
    int s = (h >> 15) & 1;
    int e = (h >> 10) & 31;
    int m = h & 1023;
    double v = e == 0 ? Math.pow(2, -14) * (m / 1024.0) : Math.pow(2, e - 15) * (1 + m / 1024.0);
    return (float) (s == 1 ? -v : v);
  }
}
