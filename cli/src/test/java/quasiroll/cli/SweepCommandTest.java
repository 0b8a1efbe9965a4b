package quasiroll.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `quasiroll sweep` end to end in this process on the synthetic model (real decoder and samplers).
 */
class SweepCommandTest {
  private static final String SPEC =
      """
      name = "cli"
      seed = 3
      models = ["synthetic:markov?vocab=16&seed=7&eos=0.1&sharpness=1"]
      tasks = [ { name = "first", kind = "token-target", match = "first", prompts = 6, vocab = 16, targets = [3, 5] } ]
      samplers = ["iid", "lattice", "sobol"]
      k = [1, 2, 4]
      replicates = 2
      decode { max-new-tokens = 4 }
      """;

  @Test
  void runsInProcessWritesOutputsAndRefusesAnotherSpecInTheSameDirectory(@TempDir Path tmp)
      throws Exception {
    Path spec = tmp.resolve("spec.conf");
    Files.writeString(spec, SPEC);
    Path out = tmp.resolve("out");
    assertEquals(
        0,
        Main.execute(
            "sweep", "--spec", spec.toString(), "--out", out.toString(), "--in-process", "1"));
    List<String> csv = Files.readAllLines(out.resolve("results.csv"));
    assertEquals(1 + 3 * 3, csv.size());
    assertTrue(Files.readString(out.resolve("report.md")).contains("## Samples saved vs iid"));

    Files.writeString(spec, SPEC.replace("seed = 3", "seed = 4"));
    assertEquals(
        2,
        Main.execute(
            "sweep", "--spec", spec.toString(), "--out", out.toString(), "--in-process", "1"));
    assertEquals(
        2,
        Main.execute(
            "sweep", "--spec", tmp.resolve("missing.conf").toString(), "--out", out.toString()));
  }
}
