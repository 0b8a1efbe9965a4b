package quasiroll.worker.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import quasiroll.common.config.QuasirollConfig;
import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.common.error.BadInputException;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.SamplerSpec;
import quasiroll.common.sampler.VocabOrder;
import quasiroll.v1.SampleResult;
import quasiroll.worker.load.BackendLoader;
import quasiroll.worker.load.WorkerSettings;
import quasiroll.worker.runtime.ModelHandle;

/**
 * The continuous-batching loop gives every sample exactly the bytes of a solo run: shards of
 * different prompts, jobs, samplers and decode settings decoded together (admitted as rows free up,
 * prompts prefilled inside the running passes) equal each shard run alone by {@link ShardDecoder}.
 */
class ContinuousDecoderTest {
  private static final Path DEMO = Path.of("../models/demo");
  private static ModelHandle demo;
  private static Map<String, SampleResult> demoSolo;

  /** The demo model and the solo results of {@link #mixedShards()} on it, computed once. */
  private static synchronized ModelHandle demo() {
    if (demo == null) {
      assertTrue(Files.isDirectory(DEMO), "bundled demo model missing at " + DEMO.toAbsolutePath());
      demo =
          BackendLoader.load(
              DEMO.toString(), "cpu", WorkerSettings.from(QuasirollConfig.load(null)));
      demoSolo = solo(demo, mixedShards());
    }
    return demo;
  }

  @org.junit.jupiter.api.AfterAll
  static void closeDemo() {
    if (demo != null) {
      demo.backend().close();
    }
  }

  /** A mix of jobs: seeds, samplers, temperatures, top-k/top-p, stop strings, lengths. */
  private static List<ResolvedShard> mixedShards() {
    String[] prompts = {
      "12 + 7 =",
      "Use 3 5 8 to make 16:",
      "hello",
      "9 * 9 - 4 =",
      "a",
      "Use 2 4 6 to make 12:",
      "100 - 37 =",
      "x y z"
    };
    String[] samplers = {"iid", "lattice", "sobol", "antithetic", "rank1", "lhs"};
    List<ResolvedShard> shards = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      String job = "job" + (i % 3);
      long seed = 1000L + i % 3;
      int k = 1 + (i % 4) * 2;
      int[] idx =
          i % 4 == 3 && k > 1
              ? new int[] {k - 1, 0}
              : java.util.stream.IntStream.range(0, k).toArray();
      DecodeParams p =
          new DecodeParams(
              i % 7 == 0 ? 0.0 : 0.7 + 0.1 * (i % 4),
              i % 3 == 1 ? 20 : 0,
              i % 5 == 2 ? 0.9 : 1.0,
              0.0,
              VocabOrder.ID,
              3 + (i * 7) % 17,
              i % 6 == 5 ? List.of("=") : List.of(),
              List.of());
      shards.add(
          new ResolvedShard(
              job,
              "p" + (i % prompts.length),
              prompts[i % prompts.length],
              new int[0],
              k,
              idx,
              SamplerSpec.of(samplers[i % samplers.length]),
              p,
              seed));
    }
    // One prompt's k cut into strided shards (they share one prompt cache when held at once).
    for (int[] part : new int[][] {{0, 3, 6}, {1, 4, 7}, {2, 5, 8}}) {
      shards.add(
          new ResolvedShard(
              "split",
              "p-split",
              "Use 1 2 3 to make 6:",
              new int[0],
              9,
              part,
              SamplerSpec.of("lattice"),
              DecodeParams.DEFAULT.withMaxNewTokens(12),
              77));
    }
    return shards;
  }

  private static String key(SampleResult r) {
    return r.getJobId()
        + "/"
        + r.getPromptId()
        + "/"
        + r.getNoiseKey().getSampler()
        + "/"
        + r.getIndex()
        + "/"
        + r.getNoiseKey().getJobSeed();
  }

  private static Map<String, SampleResult> solo(ModelHandle m, List<ResolvedShard> shards) {
    Map<String, SampleResult> out = new TreeMap<>();
    try (ShardDecoder d =
        new ShardDecoder(m.backend(), m.tokenizer(), CouplingNoiseFactory.INSTANCE, 1)) {
      for (ResolvedShard s : shards) {
        d.run(s, r -> assertEquals(null, out.put(key(r), r)), () -> false);
      }
    }
    return out;
  }

  private static Map<String, SampleResult> batched(
      ModelHandle m, List<ResolvedShard> shards, int maxRows, int maxPrefill) {
    Map<String, SampleResult> out = new ConcurrentHashMap<>();
    try (ContinuousDecoder d =
        new ContinuousDecoder(
            m.backend(), m.tokenizer(), CouplingNoiseFactory.INSTANCE, maxRows, maxPrefill)) {
      List<CompletableFuture<Void>> all = new ArrayList<>();
      for (ResolvedShard s : shards) {
        all.add(d.submit(s, r -> assertEquals(null, out.put(key(r), r)), () -> false));
      }
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
    }
    return new TreeMap<>(out);
  }

  @Test
  void mixedShardsOfManyJobsEqualSoloRunsOnTheDemoModel() {
    ModelHandle m = demo();
    List<ResolvedShard> shards = mixedShards();
    int total = shards.stream().mapToInt(s -> s.indices().length).sum();
    assertEquals(total, demoSolo.size());
    // Small batches force admission as rows free up; a small prefill budget spreads the
    // prompts over many passes; a big batch puts everything in one pass.
    assertEquals(demoSolo, batched(m, shards, 9, 12));
    assertEquals(demoSolo, batched(m, shards, 256, 512));
    assertEquals(demoSolo, batched(m, shards, 1, 1));
  }

  /**
   * Shards run one after another, each admitted after the previous finished: a prompt seen before
   * continues from the finished shard's cached prompt (one hit per repeated prompt), and every
   * sample has the bytes of a solo run, with the cache and without it.
   */
  @Test
  void laterShardsOfAFinishedPromptContinueFromItsCachedPromptWithTheSameBytes() {
    ModelHandle m = demo();
    List<ResolvedShard> shards = mixedShards();
    long distinctPrompts = shards.stream().map(ResolvedShard::promptText).distinct().count();
    for (long cacheBytes : new long[] {ContinuousDecoder.DEFAULT_PROMPT_CACHE_BYTES, 0}) {
      Map<String, SampleResult> out = new TreeMap<>();
      try (ContinuousDecoder d =
          new ContinuousDecoder(
              m.backend(), m.tokenizer(), CouplingNoiseFactory.INSTANCE, 256, 512, cacheBytes)) {
        for (ResolvedShard s : shards) {
          d.run(s, r -> assertEquals(null, out.put(key(r), r)), () -> false);
        }
        assertEquals(cacheBytes == 0 ? 0 : shards.size() - distinctPrompts, d.promptCacheHits());
        // Greedy shards (temperature 0) and short prompts: samples with the same tokens so far
        // share their rows.
        assertTrue(d.sharedRows() > 0, "rows shared: " + d.sharedRows());
      }
      assertEquals(demoSolo, out, "prompt cache of " + cacheBytes + " bytes");
    }
    assertThrows(
        BadInputException.class,
        () ->
            new ContinuousDecoder(
                m.backend(), m.tokenizer(), CouplingNoiseFactory.INSTANCE, 256, 512, -1));
  }

  /**
   * Many samples of one prompt at temperature 1: they share rows while their tokens agree and take
   * copies of the cache where they diverge, and every sample is still the bytes of a solo run.
   */
  @Test
  void samplesThatAgreeShareRowsAndDivergeWithTheirOwnCacheCopies() {
    ModelHandle m = demo();
    List<ResolvedShard> shards = new ArrayList<>();
    String[] samplers = {"iid", "lattice", "sobol"};
    for (int i = 0; i < samplers.length; i++) {
      shards.add(
          new ResolvedShard(
              "many",
              "q" + i,
              i == 1 ? "Use 3 5 8 to make 16:" : "12 + 7 =",
              new int[0],
              48,
              java.util.stream.IntStream.range(0, 48).toArray(),
              SamplerSpec.of(samplers[i]),
              DecodeParams.DEFAULT.withMaxNewTokens(16),
              4242 + i));
    }
    Map<String, SampleResult> out = new ConcurrentHashMap<>();
    long shared;
    try (ContinuousDecoder d =
        new ContinuousDecoder(m.backend(), m.tokenizer(), CouplingNoiseFactory.INSTANCE)) {
      for (ResolvedShard s : shards) {
        d.run(s, r -> assertEquals(null, out.put(key(r), r)), () -> false);
      }
      shared = d.sharedRows();
    }
    assertEquals(solo(m, shards), new TreeMap<>(out));
    assertTrue(shared > 48, "rows shared: " + shared);
  }

  @Test
  void syntheticBackendWithoutCrossSessionPassesGivesTheSameBytes() {
    ModelHandle m =
        BackendLoader.load(
            "synthetic:markov?vocab=40&seed=5&eos=0.05&sharpness=1.5",
            "cpu",
            WorkerSettings.from(QuasirollConfig.load(null)));
    List<ResolvedShard> shards = mixedShards();
    assertEquals(solo(m, shards), batched(m, shards, 10, 4));
  }

  @Test
  void blockingRunFromManyThreadsBatchesAndReturnsEverySample() throws Exception {
    ModelHandle m = demo();
    List<ResolvedShard> shards = mixedShards();
    Map<String, SampleResult> out = new ConcurrentHashMap<>();
    try (ContinuousDecoder d =
        new ContinuousDecoder(m.backend(), m.tokenizer(), CouplingNoiseFactory.INSTANCE)) {
      List<Thread> threads = new ArrayList<>();
      for (ResolvedShard s : shards) {
        Thread t = new Thread(() -> d.run(s, r -> out.put(key(r), r), () -> false));
        t.start();
        threads.add(t);
      }
      for (Thread t : threads) {
        t.join();
      }
    }
    assertEquals(demoSolo, new TreeMap<>(out));
  }

  @Test
  void cancelledShardStopsWhileOthersFinishAndBadShardsFailAlone() {
    ModelHandle m = demo();
    List<ResolvedShard> shards = mixedShards();
    try (ContinuousDecoder d =
        new ContinuousDecoder(m.backend(), m.tokenizer(), CouplingNoiseFactory.INSTANCE, 16, 64)) {
      AtomicBoolean cancel = new AtomicBoolean();
      AtomicInteger cancelledSeen = new AtomicInteger();
      ResolvedShard longOne =
          new ResolvedShard(
              "jc",
              "pc",
              "hello",
              new int[0],
              8,
              java.util.stream.IntStream.range(0, 8).toArray(),
              SamplerSpec.of("iid"),
              DecodeParams.DEFAULT.withMaxNewTokens(200),
              5);
      CompletableFuture<Void> c =
          d.submit(
              longOne,
              r -> {
                cancelledSeen.incrementAndGet();
              },
              cancel::get);
      CompletableFuture<Void> failing =
          d.submit(
              shards.get(0),
              r -> {
                throw new IllegalStateException("sink broke");
              },
              () -> false);
      cancel.set(true);
      Map<String, SampleResult> out = new ConcurrentHashMap<>();
      List<CompletableFuture<Void>> rest = new ArrayList<>();
      for (ResolvedShard s : shards.subList(1, shards.size())) {
        rest.add(d.submit(s, r -> out.put(key(r), r), () -> false));
      }
      CompletableFuture.allOf(rest.toArray(CompletableFuture[]::new)).join();
      c.join();
      assertTrue(failing.isCompletedExceptionally());
      assertTrue(cancelledSeen.get() < 8, "a cancelled shard ran to the end");
      Map<String, SampleResult> expected = new TreeMap<>(demoSolo);
      expected
          .keySet()
          .removeIf(
              key -> key.startsWith(shards.get(0).jobId() + "/" + shards.get(0).promptId() + "/"));
      assertEquals(expected, new TreeMap<>(out));
      BadInputException e =
          assertThrows(
              BadInputException.class,
              () ->
                  d.run(
                      new ResolvedShard(
                          "j",
                          "p",
                          "x",
                          new int[0],
                          4,
                          new int[] {1, 1},
                          SamplerSpec.of("iid"),
                          DecodeParams.DEFAULT,
                          1),
                      r -> {},
                      () -> false));
      assertTrue(e.getMessage().contains("repeats a sample index"), e.getMessage());
      int vocab = m.backend().info().vocabSize();
      BadInputException outside =
          assertThrows(
              BadInputException.class,
              () ->
                  d.submit(
                      new ResolvedShard(
                          "j",
                          "p",
                          null,
                          new int[] {1, vocab},
                          4,
                          new int[] {0},
                          SamplerSpec.of("iid"),
                          DecodeParams.DEFAULT,
                          1),
                      r -> {},
                      () -> false));
      assertTrue(
          outside
              .getMessage()
              .contains("has token id " + vocab + ": expected ids in [0, " + vocab + ")"),
          outside.getMessage());
    }
  }

  /**
   * A policy published in abort mode: once {@code aborted} turns true the batched loop emits each
   * unfinished sample as it stands, ABORTED and tagged with the shard's policy version, and every
   * index comes back exactly once.
   */
  @Test
  void abortEmitsUnfinishedSamplesTaggedWithTheirVersion() {
    ModelHandle m = demo();
    ResolvedShard shard =
        new ResolvedShard(
                "j",
                "p",
                "Use 3 5 8 to make 16:",
                new int[0],
                4,
                new int[] {0, 1, 2, 3},
                SamplerSpec.of("lattice"),
                DecodeParams.DEFAULT.withMaxNewTokens(40),
                9)
            .withPolicyVersion(7L);
    AtomicInteger checks = new AtomicInteger();
    List<SampleResult> out = java.util.Collections.synchronizedList(new ArrayList<>());
    try (ContinuousDecoder d =
        new ContinuousDecoder(m.backend(), m.tokenizer(), CouplingNoiseFactory.INSTANCE)) {
      d.run(shard, out::add, null, () -> false, () -> checks.incrementAndGet() > 3);
    }
    assertEquals(List.of(0, 1, 2, 3), out.stream().map(SampleResult::getIndex).sorted().toList());
    assertTrue(out.stream().allMatch(r -> r.getPolicyVersion() == 7), out.toString());
    List<SampleResult> cut =
        out.stream()
            .filter(r -> r.getFinishReason() == quasiroll.v1.FinishReason.FINISH_REASON_ABORTED)
            .toList();
    assertTrue(!cut.isEmpty(), "no sample was cut short: " + out);
    assertTrue(cut.stream().allMatch(r -> r.getTokenIdsCount() < 40), cut.toString());
  }
}
