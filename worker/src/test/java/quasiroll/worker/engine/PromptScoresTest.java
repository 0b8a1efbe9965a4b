package quasiroll.worker.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import quasiroll.common.config.QuasirollConfig;
import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.common.error.BadInputException;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.SamplerSpec;
import quasiroll.common.sampler.VocabOrder;
import quasiroll.v1.FinishReason;
import quasiroll.v1.SampleResult;
import quasiroll.worker.load.BackendLoader;
import quasiroll.worker.load.WorkerSettings;
import quasiroll.worker.runtime.DecodeSession;
import quasiroll.worker.runtime.ModelBackend;
import quasiroll.worker.runtime.ModelHandle;
import quasiroll.worker.runtime.ModelInfo;

/**
 * Prompt scoring (echo + logprobs): the raw-model logprob of each prompt token given its prefix, on
 * the bundled demo model with the CPU backend, against an independent reference (PyTorch running
 * the demo's own training model, models/demo/training/prompt_logprobs.py, whose logits match
 * transformers' LlamaForCausalLM) and against the decode path's own raw logprobs.
 */
class PromptScoresTest {
  private static final Path DEMO = Path.of("../models/demo");
  private static final Path REFERENCE = Path.of("../models/demo/training/prompt_logprobs.py");

  /**
   * |ours - PyTorch| per logprob. Both run the model in float32 with different summation orders
   * (PyTorch's BLAS vs the Vector API kernels); the largest difference observed over the 212
   * positions compared (and their top-5 values) was 1.7e-5, so 1e-4 leaves a margin of ~6x.
   */
  private static final double TORCH_TOLERANCE = 1e-4;

  private static ModelHandle demo;

  @BeforeAll
  static void load() {
    assertTrue(Files.isDirectory(DEMO), "bundled demo model missing at " + DEMO.toAbsolutePath());
    demo =
        BackendLoader.load(DEMO.toString(), "cpu", WorkerSettings.from(QuasirollConfig.load(null)));
  }

  @AfterAll
  static void close() {
    demo.backend().close();
  }

  private static int[] prompt(String text) {
    return demo.tokenizer().encodePrompt(text);
  }

  /** Prompts of 2 to ~150 tokens: the long one crosses the 64-row prefill chunks. */
  private static List<int[]> prompts() {
    List<int[]> out = new ArrayList<>();
    out.add(prompt("12 + 7 = 19"));
    out.add(prompt("Use 3 5 8 to make 16: 8 + 5 + 3 = 16"));
    out.add(prompt("a"));
    out.add(prompt("Once upon a time ".repeat(12) + "the end. 9 * 9 - 4 = 77"));
    return out;
  }

  @Test
  void matchesPyTorchOnTheDemoModel() throws Exception {
    assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/python3")) && torchAvailable(),
        "Debian's python3-torch (deploy/install-deps.sh) is needed for the PyTorch reference");
    int top = 5;
    List<int[]> prompts = prompts();
    ObjectMapper json = new ObjectMapper();
    ObjectNode req = json.createObjectNode();
    req.put("model_dir", DEMO.toAbsolutePath().toString());
    req.put("top", top);
    ArrayNode ps = req.putArray("prompts");
    for (int[] p : prompts) {
      ArrayNode a = ps.addArray();
      for (int id : p) {
        a.add(id);
      }
    }
    JsonNode ref = json.readTree(runPython(json.writeValueAsString(req)));
    double worst = 0;
    int compared = 0;
    for (int i = 0; i < prompts.size(); i++) {
      int[] p = prompts.get(i);
      PromptScores s = PromptScores.compute(demo.backend(), p, top);
      assertEquals(p.length - 1, s.logprobs().length);
      assertTrue(p.length > 64 || i < 3, "the long prompt must cross a prefill chunk");
      for (int t = 0; t < p.length - 1; t++) {
        worst =
            Math.max(
                worst, Math.abs(s.logprobs()[t] - ref.get("logprobs").get(i).get(t).asDouble()));
        JsonNode refTop = ref.get("top").get(i).get(t);
        assertEquals(top, s.tops()[t].logprobs().length);
        for (int j = 0; j < top; j++) {
          // Values, not ids: two nearly tied tokens may swap places between the engines.
          worst = Math.max(worst, Math.abs(s.tops()[t].logprobs()[j] - refTop.get(j).asDouble()));
        }
        compared++;
      }
    }
    assertTrue(compared > 100, "too few positions compared: " + compared);
    assertTrue(
        worst <= TORCH_TOLERANCE,
        "largest |quasiroll - PyTorch| logprob difference " + worst + " > " + TORCH_TOLERANCE);
    System.out.printf(
        "PromptScoresTest: %d positions, max |quasiroll - PyTorch| = %.3g%n", compared, worst);
  }

  /**
   * The CPU backend's one-pass scoring gives exactly the logits of feeding the prompt token by
   * token through a decode session (the generic {@link ModelBackend#prefixLogits}).
   */
  @Test
  void onePassPrefillEqualsTokenByTokenDecoding() {
    ModelBackend generic = new DelegatingBackend(demo.backend());
    for (int[] p : prompts()) {
      PromptScores fast = PromptScores.compute(demo.backend(), p, 3);
      PromptScores slow = PromptScores.compute(generic, p, 3);
      assertArrayEquals(slow.logprobs(), fast.logprobs());
      for (int t = 0; t < p.length - 1; t++) {
        assertArrayEquals(slow.tops()[t].ids(), fast.tops()[t].ids());
        assertArrayEquals(slow.tops()[t].logprobs(), fast.tops()[t].logprobs());
      }
    }
  }

  /**
   * Scoring a greedy continuation as part of the prompt gives the raw logprobs the decode path
   * reported for it, and at every such position the token is the top-1 entry with exactly its
   * logprob (lm-evaluation-harness's is_greedy test is that equality).
   */
  @Test
  void greedyContinuationScoresAsItsRawLogprobsAndIsTopOne() {
    int[] context = prompt("Use 2 4 6 to make 12:");
    DecodeParams greedy =
        new DecodeParams(0.0, 0, 1.0, 0.0, VocabOrder.ID, 8, List.of(), List.of());
    List<SampleResult> gen = new ArrayList<>();
    try (ShardDecoder d =
        new ShardDecoder(demo.backend(), demo.tokenizer(), CouplingNoiseFactory.INSTANCE, 1)) {
      d.run(shard("g", context, new int[] {0}, greedy, -1, false), gen::add, () -> false);
    }
    SampleResult g = gen.get(0);
    int[] full =
        IntStream.concat(IntStream.of(context), g.getTokenIdsList().stream().mapToInt(x -> x))
            .toArray();
    PromptScores s = PromptScores.compute(demo.backend(), full, 1);
    for (int j = 0; j < g.getTokenIdsCount(); j++) {
      int t = context.length + j - 1; // scores index of full[context.length + j]
      assertEquals(g.getRawLogprobs(j), s.logprobs()[t], "position " + (t + 1));
      assertEquals(g.getTokenIds(j), s.tops()[t].ids()[0]);
      assertEquals(s.logprobs()[t], s.tops()[t].logprobs()[0]);
    }
  }

  @Test
  void promptOnlyShardsReturnScoresAndNoTokensInBothDecodeLoops() {
    // A prompt that fills the whole context: nothing could be generated, but it can be scored.
    int context = demo.backend().info().contextLength();
    int[] full = new int[context];
    int[] base = prompts().get(3);
    for (int i = 0; i < context; i++) {
      full[i] = base[i % base.length];
    }
    PromptScores want = PromptScores.compute(demo.backend(), full, 2);
    DecodeParams p = DecodeParams.DEFAULT.withMaxNewTokens(4);
    List<SampleResult> viaShard = new ArrayList<>();
    try (ShardDecoder d =
        new ShardDecoder(demo.backend(), demo.tokenizer(), CouplingNoiseFactory.INSTANCE, 1)) {
      d.run(shard("s", full, new int[] {0, 3}, p, 2, true), viaShard::add, () -> false);
    }
    List<SampleResult> viaLoop = new ArrayList<>();
    try (ContinuousDecoder d =
        new ContinuousDecoder(demo.backend(), demo.tokenizer(), CouplingNoiseFactory.INSTANCE)) {
      d.run(shard("s", full, new int[] {0, 3}, p, 2, true), viaLoop::add, () -> false);
    }
    assertEquals(viaShard, viaLoop);
    assertEquals(2, viaShard.size());
    for (SampleResult r : viaShard) {
      assertEquals(0, r.getTokenIdsCount());
      assertEquals("", r.getText());
      assertEquals(FinishReason.FINISH_REASON_LENGTH, r.getFinishReason());
      assertEquals(context, r.getPromptTokenIdsCount());
      assertEquals(context - 1, r.getPromptLogprobsCount());
      assertEquals(context - 1, r.getPromptTopLogprobsCount());
      for (int t = 0; t < context - 1; t++) {
        assertEquals(want.logprobs()[t], r.getPromptLogprobs(t));
        assertEquals(2, r.getPromptTopLogprobs(t).getTokenIdsCount());
      }
    }
  }

  /** Scores ride along with generated samples, which do not change. */
  @Test
  void scoringChangesNoSample() {
    int[] p = prompt("9 * 9 - 4 =");
    DecodeParams params = DecodeParams.DEFAULT.withMaxNewTokens(6);
    List<SampleResult> plain = new ArrayList<>();
    List<SampleResult> scored = new ArrayList<>();
    try (ShardDecoder d =
        new ShardDecoder(demo.backend(), demo.tokenizer(), CouplingNoiseFactory.INSTANCE, 1)) {
      d.run(shard("x", p, new int[] {0, 1, 2}, params, -1, false), plain::add, () -> false);
      d.run(shard("x", p, new int[] {0, 1, 2}, params, 0, false), scored::add, () -> false);
    }
    assertEquals(3, scored.size());
    for (int i = 0; i < 3; i++) {
      SampleResult s = scored.get(i);
      assertEquals(p.length - 1, s.getPromptLogprobsCount());
      assertEquals(0, s.getPromptTopLogprobs(0).getTokenIdsCount());
      assertEquals(
          plain.get(i),
          s.toBuilder()
              .clearPromptTokenIds()
              .clearPromptLogprobs()
              .clearPromptTopLogprobs()
              .build());
    }
  }

  @Test
  void badScoringRequestsAreRefusedNamingTheField() {
    int[] p = prompt("hello");
    DecodeParams params = DecodeParams.DEFAULT.withMaxNewTokens(2);
    try (ShardDecoder d =
        new ShardDecoder(demo.backend(), demo.tokenizer(), CouplingNoiseFactory.INSTANCE, 1)) {
      BadInputException a =
          assertThrows(
              BadInputException.class,
              () -> d.run(shard("b", p, new int[] {0}, params, -1, true), r -> {}, () -> false));
      assertTrue(a.getMessage().contains("prompt_only needs prompt_logprobs"), a.getMessage());
      BadInputException b =
          assertThrows(
              BadInputException.class,
              () -> d.run(shard("b", p, new int[] {0}, params, 21, false), r -> {}, () -> false));
      assertTrue(b.getMessage().contains("prompt_logprobs 21 is invalid"), b.getMessage());
    }
  }

  private static ResolvedShard shard(
      String job, int[] prompt, int[] indices, DecodeParams p, int promptLogprobs, boolean only) {
    return new ResolvedShard(job, "p", "", prompt, 4, indices, SamplerSpec.of("lattice"), p, 42)
        .withPromptScoring(promptLogprobs, only);
  }

  private static boolean torchAvailable() {
    try {
      Process p =
          new ProcessBuilder("/usr/bin/python3", "-c", "import torch")
              .redirectErrorStream(true)
              .start();
      p.getInputStream().readAllBytes();
      return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private static String runPython(String input) throws Exception {
    Process p =
        new ProcessBuilder("/usr/bin/python3", REFERENCE.toAbsolutePath().toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    try (var in = p.getOutputStream()) {
      in.write(input.getBytes(StandardCharsets.UTF_8));
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "reference script timed out");
    assertEquals(0, p.exitValue(), "reference script failed: " + out);
    return out;
  }

  /** Everything but prefixLogits delegated: that one is ModelBackend's generic default. */
  private record DelegatingBackend(ModelBackend inner) implements ModelBackend {
    @Override
    public ModelInfo info() {
      return inner.info();
    }

    @Override
    public DecodeSession open(int[] prompt, int maxSequences, int maxNewTokens) {
      return inner.open(prompt, maxSequences, maxNewTokens);
    }

    @Override
    public long sessionBytes(int promptTokens, int maxSequences, int maxNewTokens) {
      return inner.sessionBytes(promptTokens, maxSequences, maxNewTokens);
    }

    @Override
    public void close() {}
  }
}
