package quasiroll.worker.fuzz;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.error.BadInputException;
import quasiroll.common.fuzz.Mutator;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.fixture.GgufFixtureWriter;
import quasiroll.worker.model.fixture.HfFixtureWriter;
import quasiroll.worker.model.fixture.TinyModel;
import quasiroll.worker.model.fixture.TinyModelSpec;
import quasiroll.worker.model.gguf.GgufFile;
import quasiroll.worker.model.hf.HfTokenizerLoader;
import quasiroll.worker.model.safetensors.SafetensorsFile;

/**
 * Fuzzes the GGUF, safetensors and tokenizer.json parsers with seeded mutations of valid files (the
 * seed corpus: a tiny Llama written by the fixture writers). Property: every input either parses or
 * fails with a {@link BadInputException} (a clear message for the user), within a time limit; no
 * other exception (index out of bounds, negative array size, out of memory from a forged length)
 * and no hang. Brief by design (a few hundred inputs per parser, seconds in CI); raise {@code
 * quasiroll.fuzz.iterations} to search longer.
 */
class ModelParsersFuzzTest {
  private static final long SEED = 20261203L;
  private static final int ITERATIONS = Integer.getInteger("quasiroll.fuzz.iterations", 300);
  private static final TinyModel MODEL = TinyModel.generate(TinyModelSpec.llamaGqa(7));

  @TempDir Path dir;

  @FunctionalInterface
  interface Parser {
    void parse(Path file) throws Exception;
  }

  private void fuzz(String name, byte[] seed, String fileName, Parser parser) throws Exception {
    Mutator m = new Mutator(SEED ^ name.hashCode());
    Path work = Files.createDirectories(dir.resolve("fuzz-" + name));
    for (int i = 0; i < ITERATIONS; i++) {
      byte[] input = m.mutate(seed);
      Path f = work.resolve(fileName);
      Files.write(f, input);
      int iteration = i;
      assertTimeoutPreemptively(
          Duration.ofSeconds(10),
          () -> {
            try {
              parser.parse(f);
            } catch (BadInputException expected) {
              // a clear refusal
            } catch (Throwable t) {
              Path kept = Files.write(dir.resolve(name + "-crash-" + iteration), input);
              fail(
                  name
                      + " parser threw "
                      + t
                      + " on mutation "
                      + iteration
                      + " of seed "
                      + SEED
                      + " (input kept at "
                      + kept
                      + ")",
                  t);
            }
          },
          () -> name + " parser hung on mutation " + iteration + " of seed " + SEED);
    }
  }

  @Test
  void gguf() throws Exception {
    Path seed = GgufFixtureWriter.write(MODEL, dir.resolve("seed.gguf"), DType.F32);
    fuzz(
        "gguf",
        Files.readAllBytes(seed),
        "m.gguf",
        f -> {
          try (GgufFile g = GgufFile.open(f)) {
            g.metadata();
            g.tensors().forEach(t -> g.map(t, t.name()));
          }
        });
  }

  @Test
  void safetensors() throws Exception {
    Path hf = HfFixtureWriter.write(MODEL, dir.resolve("hf"), DType.F32);
    fuzz(
        "safetensors",
        Files.readAllBytes(hf.resolve("model.safetensors")),
        "model.safetensors",
        f -> {
          try (SafetensorsFile s = SafetensorsFile.open(f)) {
            s.tensors().values().forEach(t -> t.shape());
          }
        });
  }

  @Test
  void tokenizerJson() throws Exception {
    Path hf = HfFixtureWriter.write(MODEL, dir.resolve("hf"), DType.F32);
    byte[] seed = Files.readAllBytes(hf.resolve("tokenizer.json"));
    fuzz(
        "tokenizer",
        seed,
        "tokenizer.json",
        f -> {
          var tok = HfTokenizerLoader.load(f.getParent(), -1, Set.of());
          tok.encode("Hello, fuzz! 123 \u00e9\u4e16");
        });
  }
}
