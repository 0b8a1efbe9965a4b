package quasiroll.worker.runtime.transformer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.ModelConfig;
import quasiroll.worker.model.ModelTensors;
import quasiroll.worker.model.TensorData;

/**
 * The tensors of a Llama/Qwen2 decoder arranged as the forward pass walks them: embedding, {@code
 * numLayers} x (attention, SwiGLU MLP), final norm, LM head (the embedding when tied). Names and
 * shapes are {@link ModelTensors}'; any backend (CPU, CUDA) builds its device views from this
 * structure.
 */
public record TransformerWeights(
    TensorData embedding, List<Layer> layers, TensorData finalNorm, TensorData lmHead) {

  /** One decoder layer; the biases are null unless the config says {@code qkvBias}. */
  public record Layer(
      TensorData attentionNorm,
      TensorData q,
      TensorData k,
      TensorData v,
      TensorData qBias,
      TensorData kBias,
      TensorData vBias,
      TensorData o,
      TensorData mlpNorm,
      TensorData gate,
      TensorData up,
      TensorData down) {}

  /**
   * @throws BadInputException naming the tensor when one is missing, has the wrong shape, or holds
   *     fewer bytes than its dtype and shape need
   */
  public static TransformerWeights resolve(ModelConfig c, Map<String, TensorData> tensors) {
    if (c.numHeads() % c.numKvHeads() != 0) {
      throw new BadInputException(
          "num_attention_heads "
              + c.numHeads()
              + " is not a multiple of num_key_value_heads "
              + c.numKvHeads()
              + "; grouped-query attention needs it to be");
    }
    if (c.headDim() % 2 != 0) {
      throw new BadInputException("head_dim " + c.headDim() + " must be even for RoPE");
    }
    ModelTensors.validate(c, tensors, "model");
    for (String name : ModelTensors.expected(c).keySet()) {
      TensorData d = tensors.get(name);
      long need = d.dtype().bytesFor(d.elements());
      if (d.segment().byteSize() < need) {
        throw new BadInputException(
            "tensor '"
                + name
                + "' holds "
                + d.segment().byteSize()
                + " bytes but "
                + d.dtype()
                + " of its shape needs "
                + need);
      }
    }
    List<Layer> layers = new ArrayList<>();
    for (int i = 0; i < c.numLayers(); i++) {
      int layer = i;
      java.util.function.Function<String, TensorData> t =
          suffix -> tensors.get(ModelTensors.layer(layer, suffix));
      layers.add(
          new Layer(
              t.apply("input_layernorm.weight"),
              t.apply("self_attn.q_proj.weight"),
              t.apply("self_attn.k_proj.weight"),
              t.apply("self_attn.v_proj.weight"),
              c.qkvBias() ? t.apply("self_attn.q_proj.bias") : null,
              c.qkvBias() ? t.apply("self_attn.k_proj.bias") : null,
              c.qkvBias() ? t.apply("self_attn.v_proj.bias") : null,
              t.apply("self_attn.o_proj.weight"),
              t.apply("post_attention_layernorm.weight"),
              t.apply("mlp.gate_proj.weight"),
              t.apply("mlp.up_proj.weight"),
              t.apply("mlp.down_proj.weight")));
    }
    TensorData embedding = tensors.get(ModelTensors.EMBED);
    TensorData lmHead = c.tiedEmbeddings() ? embedding : tensors.get(ModelTensors.LM_HEAD);
    return new TransformerWeights(
        embedding, List.copyOf(layers), tensors.get(ModelTensors.FINAL_NORM), lmHead);
  }
}
