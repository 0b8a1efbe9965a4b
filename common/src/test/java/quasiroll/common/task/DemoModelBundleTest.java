package quasiroll.common.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The bundled models/demo folder is a complete, self-consistent Hugging Face Llama: every tensor
 * LlamaForCausalLM needs is in model.safetensors with the shape config.json implies, the data
 * section is exactly covered, and the tokenizer's special ids match the config. (Numerical
 * agreement with transformers is checked by models/demo/training/hf_check.py.)
 */
class DemoModelBundleTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path DIR = Path.of("..", "models", "demo");

  @Test
  void safetensorsMatchesConfig() throws IOException {
    JsonNode cfg = JSON.readTree(DIR.resolve("config.json").toFile());
    assertEquals("LlamaForCausalLM", cfg.get("architectures").get(0).asText());
    int d = cfg.get("hidden_size").asInt();
    int ffn = cfg.get("intermediate_size").asInt();
    int vocab = cfg.get("vocab_size").asInt();
    int hd = cfg.get("head_dim").asInt();
    int q = cfg.get("num_attention_heads").asInt() * hd;
    int kv = cfg.get("num_key_value_heads").asInt() * hd;
    Map<String, List<Integer>> want = new HashMap<>();
    want.put("model.embed_tokens.weight", List.of(vocab, d));
    want.put("model.norm.weight", List.of(d));
    want.put("lm_head.weight", List.of(vocab, d));
    for (int l = 0; l < cfg.get("num_hidden_layers").asInt(); l++) {
      String p = "model.layers." + l + ".";
      want.put(p + "self_attn.q_proj.weight", List.of(q, d));
      want.put(p + "self_attn.k_proj.weight", List.of(kv, d));
      want.put(p + "self_attn.v_proj.weight", List.of(kv, d));
      want.put(p + "self_attn.o_proj.weight", List.of(d, q));
      want.put(p + "mlp.gate_proj.weight", List.of(ffn, d));
      want.put(p + "mlp.up_proj.weight", List.of(ffn, d));
      want.put(p + "mlp.down_proj.weight", List.of(d, ffn));
      want.put(p + "input_layernorm.weight", List.of(d));
      want.put(p + "post_attention_layernorm.weight", List.of(d));
    }

    Path file = DIR.resolve("model.safetensors");
    long size = Files.size(file);
    JsonNode header;
    long headerLen;
    try (FileChannel ch = FileChannel.open(file)) {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      ch.read(len, 0);
      headerLen = len.getLong(0);
      ByteBuffer h = ByteBuffer.allocate((int) headerLen);
      ch.read(h, 8);
      header = JSON.readTree(h.array());
    }
    long covered = 0;
    int tensors = 0;
    for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getKey().equals("__metadata__")) {
        continue;
      }
      tensors++;
      List<Integer> shape =
          JSON.convertValue(
              e.getValue().get("shape"),
              JSON.getTypeFactory().constructCollectionType(List.class, Integer.class));
      assertEquals(want.get(e.getKey()), shape, e.getKey());
      assertEquals("F32", e.getValue().get("dtype").asText());
      long begin = e.getValue().get("data_offsets").get(0).asLong();
      long end = e.getValue().get("data_offsets").get(1).asLong();
      assertEquals(
          4L * shape.stream().mapToLong(Integer::longValue).reduce(1, (a, b) -> a * b),
          end - begin);
      covered += end - begin;
    }
    assertEquals(want.size(), tensors);
    assertEquals(size - 8 - headerLen, covered, "tensors cover the data section exactly");
    assertTrue(size < 20_000_000, "bundle budget");
  }

  @Test
  void tokenizerMatchesConfig() throws IOException {
    JsonNode cfg = JSON.readTree(DIR.resolve("config.json").toFile());
    JsonNode tok = JSON.readTree(DIR.resolve("tokenizer.json").toFile());
    assertEquals("BPE", tok.get("model").get("type").asText());
    int vocab = tok.get("model").get("vocab").size() + tok.get("added_tokens").size();
    assertEquals(cfg.get("vocab_size").asInt(), vocab);
    Map<String, Integer> special = new HashMap<>();
    tok.get("added_tokens")
        .forEach(t -> special.put(t.get("content").asText(), t.get("id").asInt()));
    assertEquals(cfg.get("bos_token_id").asInt(), special.get("<|bos|>"));
    assertEquals(cfg.get("eos_token_id").asInt(), special.get("<|eos|>"));
    assertEquals(vocab - 256 - 2, tok.get("model").get("merges").size());
  }
}
