package quasiroll.worker.runtime.cuda;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.DTypeCodec;
import quasiroll.worker.model.ModelConfig;
import quasiroll.worker.model.TensorData;

/**
 * Random weights of a Llama/Qwen2-shaped model (HF tensor names), for GPU-vs-CPU checks that need a
 * model but no model file ({@link CudaSelfCheck}).
 */
public final class RandomModelWeights {
  private RandomModelWeights() {}

  /** Random weights of a Llama/Qwen2 shape (HF names), matrices in {@code type}, norms f32. */
  public static Map<String, TensorData> generate(ModelConfig c, DType type, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    Map<String, TensorData> t = new HashMap<>();
    int h = c.hiddenSize();
    int q = c.numHeads() * c.headDim();
    int kv = c.numKvHeads() * c.headDim();
    int f = c.intermediateSize();
    put(t, "model.embed_tokens.weight", type, rnd, 1.0, c.vocabSize(), h);
    for (int l = 0; l < c.numLayers(); l++) {
      String p = "model.layers." + l + ".";
      put(t, p + "input_layernorm.weight", DType.F32, rnd, -1, h);
      put(t, p + "self_attn.q_proj.weight", type, rnd, 1.5 / Math.sqrt(h), q, h);
      put(t, p + "self_attn.k_proj.weight", type, rnd, 1.5 / Math.sqrt(h), kv, h);
      put(t, p + "self_attn.v_proj.weight", type, rnd, 1.0 / Math.sqrt(h), kv, h);
      if (c.qkvBias()) {
        put(t, p + "self_attn.q_proj.bias", DType.F32, rnd, 0.3, q);
        put(t, p + "self_attn.k_proj.bias", DType.F32, rnd, 0.3, kv);
        put(t, p + "self_attn.v_proj.bias", DType.F32, rnd, 0.3, kv);
      }
      put(t, p + "self_attn.o_proj.weight", type, rnd, 1.0 / Math.sqrt(q), h, q);
      put(t, p + "post_attention_layernorm.weight", DType.F32, rnd, -1, h);
      put(t, p + "mlp.gate_proj.weight", type, rnd, 1.0 / Math.sqrt(h), f, h);
      put(t, p + "mlp.up_proj.weight", type, rnd, 1.0 / Math.sqrt(h), f, h);
      put(t, p + "mlp.down_proj.weight", type, rnd, 1.0 / Math.sqrt(f), h, f);
    }
    put(t, "model.norm.weight", DType.F32, rnd, -1, h);
    if (!c.tiedEmbeddings()) {
      put(t, "lm_head.weight", type, rnd, 1.0 / Math.sqrt(h), c.vocabSize(), h);
    }
    return t;
  }

  /** std < 0: a norm weight, uniform in [0.8, 1.2]. */
  private static void put(
      Map<String, TensorData> t,
      String name,
      DType type,
      SplittableRandom rnd,
      double std,
      long... shape) {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (std < 0 ? 0.8 + 0.4 * rnd.nextDouble() : rnd.nextGaussian() * std);
    }
    t.put(
        name,
        new TensorData(
            name, type, shape, MemorySegment.ofBuffer(direct(DTypeCodec.encode(type, v)))));
  }

  static ByteBuffer direct(byte[] bytes) {
    ByteBuffer b = ByteBuffer.allocateDirect(bytes.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.put(bytes).flip();
    return b;
  }
}
