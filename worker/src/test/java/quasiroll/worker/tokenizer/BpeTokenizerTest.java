package quasiroll.worker.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.worker.load.ModelFiles;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.LoadedModel;
import quasiroll.worker.model.fixture.HfFixtureWriter;
import quasiroll.worker.model.fixture.TinyModel;
import quasiroll.worker.model.fixture.TinyModelSpec;
import quasiroll.worker.model.hf.HfTokenizerLoader;

class BpeTokenizerTest {
  @TempDir static Path tmp;
  static BpeTokenizer llama;
  static BpeTokenizer qwen;

  @BeforeAll
  static void load() throws Exception {
    try (LoadedModel m =
            ModelFiles.open(
                HfFixtureWriter.write(
                    TinyModel.generate(TinyModelSpec.llamaGqa(1)), tmp.resolve("l"), DType.F32));
        LoadedModel q =
            ModelFiles.open(
                HfFixtureWriter.write(
                    TinyModel.generate(TinyModelSpec.qwen2Tied(1)), tmp.resolve("q"), DType.F32))) {
      llama = m.tokenizer();
      qwen = q.tokenizer();
    }
  }

  static final List<String> TEXTS =
      List.of(
          "",
          "The quick brown fox jumps over the lazy dog.",
          "  leading spaces and trailing   ",
          "tabs\tand\nnewlines\r\n\n\nend",
          "digits 1234567890 and 3.14159",
          "Ünïcödé: 東京は日本の首都です。 Привет, мир!",
          "emoji 🙂👍🏽 🇯🇵 family 👨‍👩‍👧",
          "mixed<|eot_id|>special<|begin_of_text|>tokens<|im_start|>",
          "it's they've we'll I'D");

  @Test
  void idsPastTheTokenizerVocabularyDecodeToNothing() {
    // Padded embedding rows (model vocab > tokenizer vocab) can be sampled; they carry no text.
    int past = qwen.vocabSize() + 3;
    assertEquals("ab", qwen.decode(new int[] {qwen.encode("a")[0], past, qwen.encode("b")[0]}));
  }

  @Test
  void decodeInvertsEncode() {
    for (BpeTokenizer t : List.of(llama, qwen)) {
      for (String s : TEXTS) {
        assertEquals(s, t.decode(t.encode(s)), s);
      }
    }
  }

  @Test
  void learnedMergesCompressCommonWords() {
    String text = "The quick brown fox jumps over the lazy dog.";
    int[] ids = llama.encode(text);
    assertTrue(ids.length < text.length() * 3 / 4, Arrays.toString(ids));
    assertEquals(1, llama.encode(" the").length, "' the' is the corpus' most common word");
  }

  @Test
  void specialTokensAreMatchedLiterallyAsOneId() {
    int eot = llama.idOf("<|eot_id|>");
    assertTrue(eot >= 0);
    int[] ids = llama.encode("a<|eot_id|>b");
    assertEquals(3, ids.length);
    assertEquals(eot, ids[1]);
    assertTrue(llama.eosIds().contains(eot));
    // Qwen2's vocabulary has no Llama specials: the text is ordinary bytes there
    assertTrue(qwen.encode("<|eot_id|>").length > 1);
  }

  @Test
  void bosIsPrependedOnlyWhereTheModelAsksForIt() {
    assertEquals(llama.bosId(), llama.encodePrompt("hi")[0]);
    assertArrayEquals(qwen.encode("hi"), qwen.encodePrompt("hi"));
  }

  @Test
  void llama3SplitsDigitsInThreesQwen2InOnes() {
    // every digit group is its own word; with no merges across words, count the words
    assertEquals(List.of("123", "456", "7"), words(PreTokenizerPattern.LLAMA3, "1234567"));
    assertEquals(List.of("1", "2", "3"), words(PreTokenizerPattern.QWEN2, "123"));
    assertEquals(
        List.of("Hello", ",", " world", "!\n\n", "  ", " x"),
        words(PreTokenizerPattern.LLAMA3, "Hello, world!\n\n   x"));
  }

  private static List<String> words(String regex, String text) {
    var m = PreTokenizerPattern.compile(regex, "test").matcher(text);
    List<String> out = new java.util.ArrayList<>();
    while (m.find()) {
      out.add(m.group());
    }
    return out;
  }

  @Test
  void streamingDecoderNeverEmitsBrokenUtf8AndMatchesBatchDecode() {
    for (String s : TEXTS) {
      int[] ids = llama.encode(s);
      Tokenizer.StreamingDecoder d = llama.streamingDecoder();
      StringBuilder sb = new StringBuilder();
      for (int id : ids) {
        String piece = d.push(id);
        assertFalse(piece.contains("\uFFFD"), "broken UTF-8 emitted for " + s);
        sb.append(piece);
      }
      sb.append(d.finish());
      assertEquals(s, sb.toString());
    }
  }

  @Test
  void streamingDecoderHoldsBackASplitCharacterByteByByte() {
    // feed the single-byte tokens of "é🙂" one at a time
    byte[] bytes = "é🙂".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    Tokenizer.StreamingDecoder d = llama.streamingDecoder();
    StringBuilder sb = new StringBuilder();
    List<String> pieces = new java.util.ArrayList<>();
    for (byte b : bytes) {
      String piece = d.push(llama.idOf(String.valueOf(ByteLevelAlphabet.charOf(b & 0xff))));
      pieces.add(piece);
      sb.append(piece);
    }
    assertEquals(List.of("", "é", "", "", "", "🙂"), pieces);
    assertEquals("", d.finish());
    assertEquals("é🙂", sb.toString());
  }

  @Test
  void unfinishedCharacterIsFlushedAsReplacement() {
    Utf8StreamDecoder d = new Utf8StreamDecoder();
    assertEquals("a", d.push(new byte[] {'a', (byte) 0xF0, (byte) 0x9F}));
    assertEquals("\uFFFD", d.finish());
    // invalid bytes are not held back
    assertEquals("\uFFFDb", d.push(new byte[] {(byte) 0xFF, 'b'}));
    assertEquals("\uFFFD", d.push(new byte[] {(byte) 0xC3, 'x'}).substring(0, 1));
  }

  @Test
  void olderTokenizerJsonWithStringMergesAndNfcNormalizerLoads() throws Exception {
    Path dir =
        HfFixtureWriter.write(
            TinyModel.generate(TinyModelSpec.qwen2Tied(1)), tmp.resolve("old"), DType.F32);
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    var root =
        (com.fasterxml.jackson.databind.node.ObjectNode)
            json.readTree(dir.resolve("tokenizer.json").toFile());
    var merges = json.createArrayNode();
    root.path("model")
        .path("merges")
        .forEach(m -> merges.add(m.get(0).asText() + " " + m.get(1).asText()));
    ((com.fasterxml.jackson.databind.node.ObjectNode) root.get("model")).set("merges", merges);
    root.putObject("normalizer").put("type", "NFC");
    json.writeValue(dir.resolve("tokenizer.json").toFile(), root);
    try (LoadedModel m = ModelFiles.open(dir)) {
      BpeTokenizer t = m.tokenizer();
      for (String s : TEXTS) {
        assertArrayEquals(qwen.encode(s), t.encode(s), s);
      }
      // NFC: 'e' + combining acute encodes as the precomposed 'é'
      assertArrayEquals(t.encode("caf\u00e9"), t.encode("cafe\u0301"));
    }
  }

  @Test
  void byteLevelAlphabetIsABijectionWithGpt2Landmarks() {
    Set<Character> seen = new java.util.HashSet<>();
    for (int b = 0; b < 256; b++) {
      char c = ByteLevelAlphabet.charOf(b);
      assertTrue(seen.add(c));
      assertEquals(b, ByteLevelAlphabet.byteOf(c));
    }
    assertEquals('Ġ', ByteLevelAlphabet.charOf(' '));
    assertEquals('Ċ', ByteLevelAlphabet.charOf('\n'));
    assertEquals('A', ByteLevelAlphabet.charOf('A'));
  }

  /**
   * The BOS policy as HF configurations state it: Llama 3 checkpoints say it only in the
   * post-processor template (no add_bos_token in tokenizer_config.json), Llama 3.1 inside a
   * Sequence after ByteLevel; an explicit add_bos_token overrides the template either way.
   */
  @Test
  void bosPolicyComesFromTheTemplateOrAnExplicitAddBosToken() throws Exception {
    ObjectMapper json = new ObjectMapper();
    Path dir =
        HfFixtureWriter.write(
            TinyModel.generate(TinyModelSpec.llamaGqa(2)), tmp.resolve("policy"), DType.F32);
    Path tc = dir.resolve("tokenizer_config.json");
    Path tj = dir.resolve("tokenizer.json");
    ObjectNode config = (ObjectNode) json.readTree(tc.toFile());
    ObjectNode tokenizer = (ObjectNode) json.readTree(tj.toFile());
    int bos = llama.bosId();

    config.remove("add_bos_token");
    json.writeValue(tc.toFile(), config);
    BpeTokenizer templateOnly = HfTokenizerLoader.load(dir, -1, Set.of());
    assertEquals(bos, templateOnly.encodePrompt("hi")[0], "template alone (Llama 3)");

    ObjectNode seq = json.createObjectNode().put("type", "Sequence");
    ArrayNode processors = seq.putArray("processors");
    processors
        .addObject()
        .put("type", "ByteLevel")
        .put("add_prefix_space", false)
        .put("trim_offsets", false)
        .put("use_regex", false);
    processors.add(tokenizer.get("post_processor"));
    tokenizer.set("post_processor", seq);
    json.writeValue(tj.toFile(), tokenizer);
    assertEquals(
        bos,
        HfTokenizerLoader.load(dir, -1, Set.of()).encodePrompt("hi")[0],
        "template in a Sequence (Llama 3.1)");

    config.put("add_bos_token", false);
    json.writeValue(tc.toFile(), config);
    BpeTokenizer off = HfTokenizerLoader.load(dir, -1, Set.of());
    assertFalse(off.addsBos());
    assertArrayEquals(
        off.encode("hi"), off.encodePrompt("hi"), "add_bos_token false overrides the template");

    tokenizer.remove("post_processor");
    json.writeValue(tj.toFile(), tokenizer);
    config.put("add_bos_token", true);
    json.writeValue(tc.toFile(), config);
    assertEquals(
        bos,
        HfTokenizerLoader.load(dir, -1, Set.of()).encodePrompt("hi")[0],
        "add_bos_token alone");
    config.remove("add_bos_token");
    json.writeValue(tc.toFile(), config);
    assertFalse(
        HfTokenizerLoader.load(dir, -1, Set.of()).addsBos(), "neither: no BOS (Qwen2 style)");
    assertTrue(Files.exists(tj));
  }
}
