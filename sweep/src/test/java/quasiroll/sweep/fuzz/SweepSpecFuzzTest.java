package quasiroll.sweep.fuzz;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import quasiroll.common.fuzz.FuzzCheck;
import quasiroll.common.fuzz.Mutator;
import quasiroll.sweep.SweepSpecParser;

/**
 * Fuzzes the sweep-spec parser with seeded mutations of a valid spec. Property: it parses or throws
 * BadInputException, within a time limit ({@link FuzzCheck}).
 */
class SweepSpecFuzzTest {
  private static final long SEED = 20261203L;
  private static final int ITERATIONS = Integer.getInteger("quasiroll.fuzz.iterations", 400);

  private static final String SWEEP =
      """
      name = "toy"
      seed = 42
      models = ["toy"]
      tasks = [ { name = "hit0", kind = "token-target", prompts = 12, vocab = 8, targets = [0] } ]
      samplers = ["iid", "lattice", { kind = "sobol", options { scramble = "owen" } }]
      k = [1, 2, 4, 8, 16]
      temperatures = [1.0, 0.7]
      replicates = 3
      decode { max-new-tokens = 4, top-p = 0.9, stop-strings = ["\\n"] }
      """;

  private static void check(String name, int iteration, byte[] input, Runnable call) {
    FuzzCheck.check(name, SEED, iteration, input, Duration.ofSeconds(10), call);
  }

  @Test
  void sweepSpecParser() {
    Mutator m = new Mutator(SEED);
    byte[] seed = SWEEP.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < ITERATIONS; i++) {
      byte[] input = m.mutate(seed);
      String text = new String(input, StandardCharsets.UTF_8);
      check("sweep spec parser", i, input, () -> SweepSpecParser.parseString(text));
    }
  }
}
