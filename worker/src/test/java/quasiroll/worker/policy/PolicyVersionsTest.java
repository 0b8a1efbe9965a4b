package quasiroll.worker.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.common.error.BadInputException;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.SamplerSpec;
import quasiroll.v1.FinishReason;
import quasiroll.v1.SampleResult;
import quasiroll.worker.engine.ResolvedShard;
import quasiroll.worker.engine.ShardDecoder;
import quasiroll.worker.load.BackendLoader;
import quasiroll.worker.load.WorkerSettings;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.DTypeCodec;
import quasiroll.worker.model.LoadedModel;
import quasiroll.worker.model.TensorData;
import quasiroll.worker.model.fixture.HfFixtureWriter;
import quasiroll.worker.model.fixture.TinyModel;
import quasiroll.worker.model.fixture.TinyModelSpec;
import quasiroll.worker.model.safetensors.SafetensorsFile;
import quasiroll.worker.model.safetensors.SafetensorsWriter;
import quasiroll.worker.runtime.ModelBackend;
import quasiroll.worker.runtime.ModelHandle;

/**
 * A published version decodes exactly like a fresh load of the weights it describes, old versions
 * keep serving beside it, bad sources are refused naming the tensor, and a load over the weight
 * budget drains first.
 */
class PolicyVersionsTest {
  private static final WorkerSettings SETTINGS = new WorkerSettings(1, 1L << 30);

  @TempDir Path tmp;
  private Path baseDir;
  private Path otherDir;
  private PolicyVersions versions;

  @BeforeEach
  void setUp() throws IOException {
    baseDir =
        HfFixtureWriter.write(
            TinyModel.generate(TinyModelSpec.llamaGqa(31)), tmp.resolve("base"), DType.F32);
    otherDir =
        HfFixtureWriter.write(
            TinyModel.generate(TinyModelSpec.llamaGqa(32)), tmp.resolve("other"), DType.F32);
    versions = open(baseDir, 0);
  }

  @AfterEach
  void tearDown() {
    versions.close();
  }

  private static PolicyVersions open(Path dir, long budget) {
    LoadedModel base = BackendLoader.openWeights(dir.toString());
    return new PolicyVersions(
        "tiny",
        base,
        weights -> {
          ModelBackend backend = BackendLoader.backend("tiny", weights, "cpu", SETTINGS);
          ShardDecoder d =
              new ShardDecoder(backend, weights.tokenizer(), CouplingNoiseFactory.INSTANCE, 1);
          return new PolicyVersions.Runner(
              d,
              () -> {
                d.close();
                backend.close();
              });
        },
        budget);
  }

  private static ResolvedShard shard(long version, int k) {
    return new ResolvedShard(
            "job",
            "p",
            "The quick brown fox",
            new int[0],
            k,
            IntStream.range(0, k).toArray(),
            SamplerSpec.of("lattice"),
            DecodeParams.DEFAULT.withMaxNewTokens(12),
            5)
        .withPolicyVersion(version);
  }

  private static Map<Integer, List<Integer>> tokens(List<SampleResult> results) {
    Map<Integer, List<Integer>> m = new TreeMap<>();
    results.forEach(r -> m.put(r.getIndex(), r.getTokenIdsList()));
    return m;
  }

  private static List<SampleResult> run(
      quasiroll.worker.engine.ShardRunner runner, ResolvedShard s) {
    List<SampleResult> out = new ArrayList<>();
    runner.run(s, out::add, () -> false);
    return out;
  }

  /** A fresh, independent load of a model directory, for reference outputs. */
  private static Map<Integer, List<Integer>> fresh(Path dir, int k) {
    ModelHandle h = BackendLoader.load(dir.toString(), "cpu", SETTINGS);
    try (ShardDecoder d =
        new ShardDecoder(h.backend(), h.tokenizer(), CouplingNoiseFactory.INSTANCE, 1)) {
      return tokens(run(d, shard(0, k)));
    } finally {
      h.backend().close();
    }
  }

  private static Map<String, Path> manifest(Path file, Iterable<String> names) {
    Map<String, Path> m = new LinkedHashMap<>();
    names.forEach(n -> m.put(n, file));
    return m;
  }

  private Path weights(Path dir) {
    return dir.resolve("model.safetensors");
  }

  @Test
  void fullPublishDecodesLikeAFreshLoadAndTheOldVersionKeepsServing() {
    Set<String> all = versions.signature().keySet();
    var r = versions.load(1, manifest(weights(otherDir), all), all, false, Set.of(0L));
    assertEquals(all.size(), r.tensors());
    assertEquals(List.of(0L, 1L), versions.loaded());
    var v0 = tokens(run(versions, shard(0, 8)));
    var v1 = tokens(run(versions, shard(1, 8)));
    assertEquals(fresh(baseDir, 8), v0);
    assertEquals(fresh(otherDir, 8), v1);
    assertNotEquals(v0, v1);
    List<SampleResult> tagged = run(versions, shard(1, 4));
    tagged.forEach(s -> assertEquals(1, s.getPolicyVersion()));
  }

  @Test
  void partialPublishReplacesOnlyTheGivenTensors() throws IOException {
    String changed = "lm_head.weight";
    versions.load(
        1, manifest(weights(otherDir), List.of(changed)), List.of(changed), true, Set.of());
    // Reference: a full model directory with the base tensors and the other model's head.
    Path mixDir =
        HfFixtureWriter.write(
            TinyModel.generate(TinyModelSpec.llamaGqa(31)), tmp.resolve("mix"), DType.F32);
    SafetensorsWriter w = new SafetensorsWriter();
    try (SafetensorsFile base = SafetensorsFile.open(weights(baseDir));
        SafetensorsFile other = SafetensorsFile.open(weights(otherDir))) {
      for (TensorData t : base.tensors().values()) {
        TensorData use = t.name().equals(changed) ? other.tensors().get(changed) : t;
        w.add(
            use.name(),
            use.dtype(),
            use.shape(),
            DTypeCodec.encode(DType.F32, DTypeCodec.toFloats(use)));
      }
    }
    w.write(weights(mixDir));
    assertEquals(fresh(mixDir, 8), tokens(run(versions, shard(1, 8))));
    assertEquals(fresh(baseDir, 8), tokens(run(versions, shard(0, 8))));
  }

  @Test
  void badSourcesAreRefusedNamingTheTensorAndVersionZeroKeepsServing() throws IOException {
    var before = tokens(run(versions, shard(0, 4)));
    Set<String> all = versions.signature().keySet();
    // missing tensors in a full publish
    var e1 =
        assertThrows(
            BadInputException.class,
            () ->
                versions.load(
                    1,
                    manifest(weights(otherDir), List.of("lm_head.weight")),
                    List.of("lm_head.weight"),
                    false,
                    Set.of()));
    assertTrue(e1.getMessage().contains("is missing"), e1.getMessage());
    // wrong shape and wrong dtype
    Path bad = tmp.resolve("bad.safetensors");
    new SafetensorsWriter()
        .add("lm_head.weight", DType.F32, new long[] {3, 4}, new byte[48])
        .write(bad);
    var e2 =
        assertThrows(
            BadInputException.class,
            () ->
                versions.load(
                    1,
                    manifest(bad, List.of("lm_head.weight")),
                    List.of("lm_head.weight"),
                    true,
                    Set.of()));
    assertTrue(e2.getMessage().contains("'lm_head.weight' is F32[3, 4]"), e2.getMessage());
    TensorSpec head = versions.signature().get("lm_head.weight");
    long n = head.shape()[0] * head.shape()[1];
    Path half = tmp.resolve("half.safetensors");
    new SafetensorsWriter()
        .add("lm_head.weight", DType.BF16, head.shape(), new byte[(int) (2 * n)])
        .write(half);
    var e3 =
        assertThrows(
            BadInputException.class,
            () ->
                versions.load(
                    1,
                    manifest(half, List.of("lm_head.weight")),
                    List.of("lm_head.weight"),
                    true,
                    Set.of()));
    assertTrue(
        e3.getMessage().contains("BF16") && e3.getMessage().contains("dtype and shape must match"),
        e3.getMessage());
    // a tensor the model does not have
    Path extra = tmp.resolve("extra.safetensors");
    new SafetensorsWriter()
        .add("model.layers.99.mlp.up_proj.weight", DType.F32, new long[] {1}, new byte[4])
        .write(extra);
    var e4 =
        assertThrows(
            BadInputException.class,
            () ->
                versions.load(
                    1,
                    manifest(extra, List.of("model.layers.99.mlp.up_proj.weight")),
                    List.of("model.layers.99.mlp.up_proj.weight"),
                    true,
                    Set.of()));
    assertTrue(
        e4.getMessage().contains("'model.layers.99.mlp.up_proj.weight' is not a weight"),
        e4.getMessage());
    // a manifest naming a tensor its file lacks
    var e5 =
        assertThrows(
            BadInputException.class,
            () ->
                versions.load(
                    1,
                    manifest(bad, List.of("model.norm.weight")),
                    List.of("model.norm.weight"),
                    true,
                    Set.of()));
    assertTrue(e5.getMessage().contains("'model.norm.weight' is not in"), e5.getMessage());
    assertEquals(List.of(0L), versions.loaded());
    assertEquals(before, tokens(run(versions, shard(0, 4))));
    var e6 = assertThrows(BadInputException.class, () -> run(versions, shard(1, 4)));
    assertTrue(
        e6.getMessage().contains("policy version 1") && e6.getMessage().contains("not loaded"),
        e6.getMessage());
    assertTrue(all.size() > 5);
  }

  @Test
  void retainClosesUnkeptVersionsAndOverBudgetLoadsDrainFirst() throws Exception {
    versions.close();
    LoadedModel probe = BackendLoader.openWeights(baseDir.toString());
    long weightBytes = probe.weightBytes();
    // room for the start-up weights and one full version, not two
    versions = open(baseDir, weightBytes * 2 + weightBytes / 2);
    Set<String> all = versions.signature().keySet();
    var r1 = versions.load(1, manifest(weights(otherDir), all), all, false, Set.of());
    assertEquals(false, r1.drained());
    // A shard of version 1 is running while version 2 arrives: the load waits for it.
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<List<SampleResult>> running =
          pool.submit(
              () -> {
                List<SampleResult> out = new ArrayList<>();
                versions.run(
                    shard(1, 2),
                    s -> out.add(s),
                    () -> {
                      started.countDown();
                      try {
                        release.await();
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                      return false;
                    });
                return out;
              });
      assertTrue(started.await(30, TimeUnit.SECONDS));
      ExecutorService loader = Executors.newSingleThreadExecutor();
      Future<PolicyVersions.LoadResult> load =
          loader.submit(
              () -> versions.load(2, manifest(weights(baseDir), all), all, false, Set.of()));
      Thread.sleep(200);
      assertTrue(!load.isDone(), "the load did not wait for the running shard");
      release.countDown();
      assertEquals(2, running.get(30, TimeUnit.SECONDS).size());
      assertTrue(load.get(30, TimeUnit.SECONDS).drained());
      loader.shutdown();
    } finally {
      pool.shutdown();
    }
    assertEquals(List.of(0L, 2L), versions.loaded());
    assertEquals(fresh(baseDir, 4), tokens(run(versions, shard(2, 4))));
    versions.retain(Set.of(), 2);
    assertEquals(List.of(0L, 2L), versions.loaded());
  }

  @Test
  void abortEmitsPartialSamplesTaggedWithTheirVersion() {
    Set<String> all = versions.signature().keySet();
    versions.load(1, manifest(weights(otherDir), all), all, false, Set.of());
    int[] steps = {0};
    List<SampleResult> out = new ArrayList<>();
    ResolvedShard s =
        new ResolvedShard(
                "job",
                "p",
                "The quick brown fox",
                new int[0],
                4,
                new int[] {0, 1, 2, 3},
                SamplerSpec.of("lattice"),
                DecodeParams.DEFAULT.withMaxNewTokens(40),
                5)
            .withPolicyVersion(1L);
    versions.run(s, out::add, null, () -> false, () -> ++steps[0] > 3);
    assertEquals(4, out.size());
    for (SampleResult r : out) {
      assertEquals(1, r.getPolicyVersion());
      if (r.getFinishReason() == FinishReason.FINISH_REASON_ABORTED) {
        assertEquals(3, r.getTokenIdsCount());
      }
    }
    assertTrue(
        out.stream().anyMatch(r -> r.getFinishReason() == FinishReason.FINISH_REASON_ABORTED));
  }
}
