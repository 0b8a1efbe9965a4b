package quasiroll.worker.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.common.error.BadInputException;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.SamplerSpec;
import quasiroll.v1.PolicyFileChunk;
import quasiroll.v1.SampleResult;
import quasiroll.worker.engine.ResolvedShard;
import quasiroll.worker.engine.ShardDecoder;
import quasiroll.worker.load.BackendLoader;
import quasiroll.worker.load.WorkerSettings;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.LoadedModel;
import quasiroll.worker.model.fixture.HfFixtureWriter;
import quasiroll.worker.model.fixture.TinyModel;
import quasiroll.worker.model.fixture.TinyModelSpec;
import quasiroll.worker.runtime.ModelBackend;

/**
 * A version whose files the worker fetches (the coordinator's path is never read in {@code always}
 * mode, and is absent here in {@code auto} mode) decodes exactly like the same version loaded from
 * the path; a corrupted chunk, a gap or a short file is refused naming the file and leaves nothing
 * in the cache; fetched files are deleted once no loaded version uses them.
 *
 * <p>The fetcher here chunks the file like the coordinator's {@code PolicyFileServer} (whose own
 * test checks the gRPC side), in small chunks so every file takes many.
 */
class PolicyFilesTest {
  private static final WorkerSettings SETTINGS = new WorkerSettings(1, 1L << 30);
  private static final int CHUNK = 4096;

  @TempDir Path tmp;
  private Path baseDir;
  private Path coordinatorFile;
  private final List<String> fetched = new ArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    baseDir =
        HfFixtureWriter.write(
            TinyModel.generate(TinyModelSpec.llamaGqa(31)), tmp.resolve("base"), DType.F32);
    Path other =
        HfFixtureWriter.write(
            TinyModel.generate(TinyModelSpec.llamaGqa(32)), tmp.resolve("other"), DType.F32);
    coordinatorFile = other.resolve("model.safetensors");
  }

  @AfterEach
  void tearDown() {
    fetched.clear();
  }

  /** Serves {@code file} in order, each chunk passed through {@code tamper}, hash on the last. */
  private PolicyFiles.Fetcher serving(Path file, UnaryOperator<PolicyFileChunk> tamper) {
    return path -> {
      fetched.add(path);
      byte[] bytes;
      try {
        bytes = Files.readAllBytes(Path.of(path));
        List<PolicyFileChunk> chunks = new ArrayList<>();
        byte[] sha = MessageDigest.getInstance("SHA-256").digest(bytes);
        for (int off = 0; off < bytes.length; off += CHUNK) {
          int n = Math.min(CHUNK, bytes.length - off);
          PolicyFileChunk.Builder c =
              PolicyFileChunk.newBuilder()
                  .setSize(bytes.length)
                  .setOffset(off)
                  .setData(ByteString.copyFrom(bytes, off, n));
          if (off + n == bytes.length) {
            c.setSha256(ByteString.copyFrom(sha));
          }
          PolicyFileChunk t = tamper.apply(c.build());
          if (t != null) {
            chunks.add(t);
          }
        }
        Iterator<PolicyFileChunk> it = chunks.iterator();
        return new PolicyFiles.Chunks() {
          @Override
          public boolean hasNext() {
            return it.hasNext();
          }

          @Override
          public PolicyFileChunk next() {
            return it.next();
          }

          @Override
          public void close() {}
        };
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    };
  }

  private static PolicyVersions open(Path dir) {
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
        0);
  }

  private static Map<Integer, List<Integer>> decode(PolicyVersions v, long version) {
    ResolvedShard s =
        new ResolvedShard(
                "job",
                "p",
                "The quick brown fox",
                new int[0],
                8,
                IntStream.range(0, 8).toArray(),
                SamplerSpec.of("lattice"),
                DecodeParams.DEFAULT.withMaxNewTokens(12),
                5)
            .withPolicyVersion(version);
    List<SampleResult> out = new ArrayList<>();
    v.run(s, out::add, () -> false);
    Map<Integer, List<Integer>> m = new TreeMap<>();
    out.forEach(r -> m.put(r.getIndex(), r.getTokenIdsList()));
    return m;
  }

  private static Map<String, Path> manifest(Path file, Iterable<String> names) {
    Map<String, Path> m = new LinkedHashMap<>();
    names.forEach(n -> m.put(n, file));
    return m;
  }

  private static long filesUnder(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).count();
    }
  }

  @Test
  void aFetchedVersionDecodesExactlyLikeTheSameVersionLoadedFromThePath() throws IOException {
    Map<Integer, List<Integer>> fromPath;
    Set<String> all;
    try (PolicyVersions local = open(baseDir)) {
      all = local.signature().keySet();
      local.load(1, manifest(coordinatorFile, all), all, false, Set.of());
      fromPath = decode(local, 1);
    }
    PolicyFiles files = new PolicyFiles(PolicyFiles.Mode.ALWAYS, tmp.resolve("cache"));
    try (PolicyVersions remote = open(baseDir)) {
      remote.onClosed(files::release);
      Map<String, Path> m =
          files.localize(1, manifest(coordinatorFile, all), serving(coordinatorFile, c -> c));
      assertEquals(List.of(coordinatorFile.toString()), fetched, "always mode fetches the file");
      Path copy = files.cached().get(coordinatorFile.toString());
      assertTrue(copy.startsWith(files.dir()), copy.toString());
      assertEquals(Set.of(copy), Set.copyOf(m.values()));
      assertEquals(Files.size(coordinatorFile), Files.size(copy));
      remote.load(1, m, all, false, Set.of());
      assertEquals(fromPath, decode(remote, 1));

      // version 2 publishes only the head: its manifest still names v1's file for the rest,
      // which stays cached (fetched once) while either version uses it
      Path headOnly = tmp.resolve("v2.safetensors");
      Files.copy(coordinatorFile, headOnly);
      Map<String, Path> m2 = manifest(coordinatorFile, all);
      m2.put("lm_head.weight", headOnly);
      remote.load(
          2,
          files.localize(2, m2, serving(headOnly, c -> c)),
          List.of("lm_head.weight"),
          true,
          Set.of(1L));
      assertEquals(List.of(coordinatorFile.toString(), headOnly.toString()), fetched);
      assertEquals(2, filesUnder(files.dir()));
      assertEquals(fromPath, decode(remote, 2));

      // the worker unloads version 1: v1's file is still version 2's, nothing is deleted
      remote.retain(Set.of(), 2);
      assertEquals(List.of(0L, 2L), remote.loaded());
      assertEquals(2, filesUnder(files.dir()));
      // version 3 replaces everything from a new file: once 2 closes, both old copies go
      Path full3 = tmp.resolve("v3.safetensors");
      Files.copy(baseDir.resolve("model.safetensors"), full3);
      remote.load(
          3, files.localize(3, manifest(full3, all), serving(full3, c -> c)), all, false, Set.of());
      assertEquals(List.of(0L, 3L), remote.loaded());
      assertEquals(Set.of(full3.toString()), files.cached().keySet());
      assertEquals(1, filesUnder(files.dir()));
      assertEquals(decode(remote, 0), decode(remote, 3));
    }
    assertEquals(0, filesUnder(files.dir()), "closing the last version deletes its fetched file");
  }

  @Test
  void autoModeReadsAReadablePathAndFetchesAMissingOne() throws IOException {
    PolicyFiles files = new PolicyFiles(PolicyFiles.Mode.AUTO, tmp.resolve("cache"));
    Set<String> all = Set.of("lm_head.weight");
    Map<String, Path> same =
        files.localize(1, manifest(coordinatorFile, all), serving(coordinatorFile, c -> c));
    assertEquals(manifest(coordinatorFile, all), same);
    assertTrue(fetched.isEmpty());
    // the coordinator's path does not exist here: the fetcher (the coordinator) still has it
    Path notHere = tmp.resolve("coordinator-data/policies/tiny/v2/model.safetensors");
    byte[] bytes = Files.readAllBytes(coordinatorFile);
    // serve notHere's name with coordinatorFile's bytes
    PolicyFiles.Fetcher byName =
        path -> {
          fetched.add(path);
          return serving(coordinatorFile, c -> c).fetch(coordinatorFile.toString());
        };
    Map<String, Path> m = files.localize(2, manifest(notHere, all), byName);
    assertEquals(List.of(notHere.toString(), coordinatorFile.toString()), fetched);
    Path copy = m.get("lm_head.weight");
    assertTrue(copy.startsWith(files.dir()));
    assertEquals(bytes.length, Files.size(copy));
    files.release(2);
    assertFalse(Files.exists(copy));
  }

  @Test
  void aCorruptedChunkAGapOrAShortFileIsRefusedNamingTheFileAndLeavesNothing() throws IOException {
    PolicyFiles files = new PolicyFiles(PolicyFiles.Mode.ALWAYS, tmp.resolve("cache"));
    Set<String> all;
    try (PolicyVersions v = open(baseDir)) {
      all = v.signature().keySet();
      var flipped =
          serving(
              coordinatorFile,
              c -> {
                if (c.getOffset() != CHUNK) {
                  return c;
                }
                byte[] d = c.getData().toByteArray();
                d[17] ^= 1;
                return c.toBuilder().setData(ByteString.copyFrom(d)).build();
              });
      var e =
          assertThrows(
              PolicyFiles.PolicyFetchException.class,
              () -> files.localize(1, manifest(coordinatorFile, all), flipped));
      assertTrue(e.getMessage().contains(coordinatorFile.toString()), e.getMessage());
      assertTrue(e.getMessage().contains("SHA-256 mismatch"), e.getMessage());
      assertEquals(0, filesUnder(files.dir()), "no partial or unverified file stays");
      assertTrue(files.cached().isEmpty());
      assertEquals(List.of(0L), v.loaded(), "version 0 keeps serving");

      var gap = serving(coordinatorFile, c -> c.getOffset() == CHUNK ? null : c);
      var e2 =
          assertThrows(
              PolicyFiles.PolicyFetchException.class,
              () -> files.localize(1, manifest(coordinatorFile, all), gap));
      assertTrue(e2.getMessage().contains("chunk at offset " + 2 * CHUNK), e2.getMessage());

      var noHash =
          serving(
              coordinatorFile,
              c -> c.getSha256().isEmpty() ? c : c.toBuilder().clearSha256().build());
      var e3 =
          assertThrows(
              PolicyFiles.PolicyFetchException.class,
              () -> files.localize(1, manifest(coordinatorFile, all), noHash));
      assertTrue(e3.getMessage().contains("no SHA-256"), e3.getMessage());

      var shortFile = serving(coordinatorFile, c -> c.getSha256().isEmpty() ? c : null);
      var e4 =
          assertThrows(
              PolicyFiles.PolicyFetchException.class,
              () -> files.localize(1, manifest(coordinatorFile, all), shortFile));
      assertTrue(e4.getMessage().contains("bytes arrived"), e4.getMessage());
      assertEquals(0, filesUnder(files.dir()));

      // after the refusals, a good fetch loads and decodes
      v.load(
          1,
          files.localize(1, manifest(coordinatorFile, all), serving(coordinatorFile, c -> c)),
          all,
          false,
          Set.of());
      assertEquals(List.of(0L, 1L), v.loaded());
    }
  }

  @Test
  void theModeIsParsedAndABadOneIsRefusedNamingTheKey() {
    assertEquals(PolicyFiles.Mode.ALWAYS, PolicyFiles.Mode.parse(" Always"));
    var e = assertThrows(BadInputException.class, () -> PolicyFiles.Mode.parse("sometimes"));
    assertTrue(e.getMessage().contains("quasiroll.worker.policy-fetch"), e.getMessage());
    assertTrue(e.getMessage().contains("auto, always, never"), e.getMessage());
  }
}
