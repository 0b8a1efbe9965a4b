package quasiroll.sweep;

/** Small sweep specs shared by the sweep tests. */
final class SweepTestSpecs {
  private SweepTestSpecs() {}

  static final String SMALL =
      """
      name = "toy"
      seed = 42
      models = ["toy"]
      tasks = [ { name = "hit0", kind = "token-target", prompts = 12, vocab = 8, targets = [0] } ]
      samplers = ["iid", "lattice", { kind = "sobol", options { scramble = "owen" } }]
      k = [1, 2, 4, 8, 16]
      temperatures = [1.0]
      replicates = 3
      decode { max-new-tokens = 1 }
      """;
}
