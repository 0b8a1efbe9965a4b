package quasiroll.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.error.BadInputException;
import quasiroll.common.stats.SamplesSaved;
import quasiroll.common.stats.SubsetScheme;

/**
 * The iid baseline past the largest k: which jobs the plan runs, and the analysis on a hand-made
 * store whose every number is worked out exactly below.
 */
class SweepBaselineTest {
  private static final String SPEC =
      """
      name = "baseline"
      seed = 9
      models = ["m"]
      tasks = [ { name = "t", kind = "token-target", prompts = 3, vocab = 8, targets = [0] } ]
      samplers = ["iid", "lattice", "sobol"]
      k = [1, 2]
      replicates = 1
      baseline-multiple = 2
      decode { max-new-tokens = 1 }
      """;

  private static List<Integer> jobKs(SweepPlan plan, String sampler) {
    return plan.jobs().stream()
        .filter(j -> j.key().sampler().equals(sampler))
        .map(j -> j.key().k())
        .sorted()
        .toList();
  }

  @Test
  void theIidBaselineRunsAtTheMultipleOfTheLargestK() {
    SweepSpec spec = SweepSpecParser.parseString(SPEC.replace("replicates = 1", "replicates = 2"));
    assertEquals(4, spec.baselineK());
    SweepPlan plan = SweepPlan.of(spec);
    assertEquals(List.of(4, 4), jobKs(plan, "iid"));
    assertEquals(List.of(2, 2), jobKs(plan, "lattice"));
    assertEquals(List.of(1, 1, 2, 2), jobKs(plan, "sobol"));
    assertEquals(1, plan.baselines().size());
    SweepPlan.Baseline b = plan.baselines().get(0);
    assertEquals(4, b.runK());
    assertEquals(2, b.jobs().size());
    for (SweepPlan.CellPlan c : plan.cells()) {
      if (c.cell().sampler().equals("iid")) {
        assertEquals(4, c.runK());
        assertEquals(SubsetScheme.ALL_SUBSETS, c.scheme());
      }
    }
  }

  @Test
  void withoutDerivingTheIidCellsRunTheirOwnJobsAndTheBaselineIsExtra() {
    SweepPlan plan = SweepPlan.of(SweepSpecParser.parseString(SPEC + "derive-smaller-k = false\n"));
    assertEquals(List.of(1, 2, 4), jobKs(plan, "iid"));
    assertEquals(List.of(1, 2), jobKs(plan, "lattice"));
  }

  @Test
  void multipleOneIsTheOldPlanAndTheDefaultIsFour() {
    SweepPlan one =
        SweepPlan.of(
            SweepSpecParser.parseString(
                SPEC.replace("baseline-multiple = 2", "baseline-multiple = 1")));
    assertEquals(List.of(2), jobKs(one, "iid"));
    SweepSpec dflt = SweepSpecParser.parseString(SPEC.replace("baseline-multiple = 2", ""));
    assertEquals(SweepSpec.DEFAULT_BASELINE_MULTIPLE, dflt.baselineMultiple());
    assertEquals(4, dflt.baselineMultiple());
    assertEquals(8, dflt.baselineK());
  }

  @Test
  void noIidSamplerMeansNoBaseline() {
    SweepPlan plan = SweepPlan.of(SweepSpecParser.parseString(SPEC.replace("\"iid\", ", "")));
    assertTrue(plan.baselines().isEmpty());
    assertEquals(List.of(2), jobKs(plan, "lattice"));
  }

  @Test
  void aBadMultipleIsRefusedNamingIt() {
    for (String bad : List.of("0", "-3")) {
      BadInputException e =
          assertThrows(
              BadInputException.class,
              () ->
                  SweepSpecParser.parseString(
                      SPEC.replace("baseline-multiple = 2", "baseline-multiple = " + bad)));
      assertTrue(
          e.getMessage().contains("baseline-multiple " + bad) && e.getMessage().contains(">= 1"),
          e.getMessage());
    }
    assertThrows(
        BadInputException.class,
        () ->
            SweepSpecParser.parseString(
                SPEC.replace("baseline-multiple = 2", "baseline-multiple = \"x\"")));
  }

  @Test
  void theMultipleIsPartOfTheFingerprint() {
    SweepSpec a = SweepSpecParser.parseString(SPEC);
    SweepSpec b =
        SweepSpecParser.parseString(SPEC.replace("baseline-multiple = 2", "baseline-multiple = 3"));
    assertTrue(!SweepSpecParser.fingerprint(a).equals(SweepSpecParser.fingerprint(b)));
  }

  private static JobRecord record(JobKey key, double[]... rewardsPerPrompt) {
    List<JobRecord.PromptOutcome> prompts = new java.util.ArrayList<>();
    for (int j = 0; j < rewardsPerPrompt.length; j++) {
      String[] answers =
          Arrays.stream(rewardsPerPrompt[j])
              .mapToObj(r -> r == 1 ? "right" : "wrong")
              .toArray(String[]::new);
      prompts.add(
          new JobRecord.PromptOutcome(
              "p" + j, rewardsPerPrompt[j], answers, rewardsPerPrompt[j].length));
    }
    return new JobRecord(key.id(), 0, key.k(), 0, prompts);
  }

  /**
   * Three prompts. iid baseline (K = 2 x 2 = 4): prompt 0 passes 1 of 4, prompts 1 and 2 never, so
   * per prompt iid pass@k = 1 - C(3,k)/C(4,k) = k/4, 0, 0 and the task curve is k/12 for k = 1..4.
   * lattice (K = 2): [1,0], [0,0], [0,0] gives pass@2 = 1/3 = the curve at k = 4 exactly, so k_iid
   * = 4 and the saving is 1 - 2/4 = 1/2, measured (without the baseline past k = 2 it would be only
   * "> 0"). Every bootstrap resample keeps the coupled value equal to the resampled curve's end or
   * at 0, so none falls past the range. sobol at k = 2: [1,0], [0,1], [0,0] gives 2/3 > 1/3 = iid
   * pass@4: censored, a lower bound 1 - 2/4. Union bound at k = 2 from the pooled rates 3/9, 1/9,
   * 0: (2/3 + 2/9 + 0)/3 = 8/27.
   */
  @Test
  void analysisOnAHandMadeStoreIsExact(@TempDir Path tmp) {
    SweepSpec spec = SweepSpecParser.parseString(SPEC);
    SweepPlan plan = SweepPlan.of(spec);
    SweepStore store = SweepStore.open(tmp, spec);
    Map<String, JobKey> keys =
        plan.jobs().stream()
            .collect(
                Collectors.toMap(j -> j.key().sampler() + j.key().k(), SweepPlan.PlannedJob::key));
    assertEquals(java.util.Set.of("iid4", "lattice2", "sobol1", "sobol2"), keys.keySet());
    store.save(
        keys.get("iid4"),
        record(keys.get("iid4"), new double[] {1, 0, 0, 0}, new double[4], new double[4]));
    store.save(
        keys.get("lattice2"),
        record(keys.get("lattice2"), new double[] {1, 0}, new double[2], new double[2]));
    store.save(
        keys.get("sobol1"),
        record(keys.get("sobol1"), new double[1], new double[1], new double[1]));
    store.save(
        keys.get("sobol2"),
        record(keys.get("sobol2"), new double[] {1, 0}, new double[] {0, 1}, new double[2]));

    SweepAnalysis.Results r = SweepAnalysis.analyze(spec, plan, store);
    Map<String, CellResult> cells =
        r.cells().stream()
            .collect(Collectors.toMap(c -> c.cell().sampler() + c.cell().k(), c -> c));
    assertEquals(1.0 / 12, cells.get("iid1").passAtK().estimate(), 1e-15);
    assertEquals(2.0 / 12, cells.get("iid2").passAtK().estimate(), 1e-15);
    assertEquals(4, cells.get("iid2").runK());
    assertEquals(1.0 / 6, cells.get("lattice1").passAtK().estimate(), 1e-15);
    assertEquals(1.0 / 3, cells.get("lattice2").passAtK().estimate(), 1e-15);
    assertEquals(8.0 / 27, cells.get("lattice2").unionBound(), 1e-15);
    assertEquals((1.0 / 3) / (8.0 / 27), cells.get("lattice2").fractionOfUnionBound(), 1e-12);
    assertEquals((2.0 / 3) / (8.0 / 27), cells.get("sobol2").fractionOfUnionBound(), 1e-12);
    // union bound at k = 1 is the mean pooled rate (1/3 + 1/9 + 0)/3 = 4/27
    assertEquals(4.0 / 27, cells.get("sobol1").unionBound(), 1e-15);

    Map<String, SamplesSaved.Result> saved =
        r.samplesSaved().stream()
            .collect(
                Collectors.toMap(
                    s -> s.sampler() + s.result().k(), SweepAnalysis.SavedRow::result));
    assertEquals(java.util.Set.of("lattice2", "sobol2"), saved.keySet());
    SamplesSaved.Result lattice = saved.get("lattice2");
    assertEquals(4, lattice.iidMaxK());
    assertEquals(4.0, lattice.iidEquivalentK(), 1e-12);
    assertEquals(SamplesSaved.Bound.EXACT, lattice.bound());
    assertEquals(0.5, lattice.savedFraction().estimate(), 1e-12);
    assertEquals(0.0, lattice.resamplesAboveRange());
    assertEquals(SamplesSaved.Censoring.NONE, lattice.censoring());
    SamplesSaved.Result sobol = saved.get("sobol2");
    assertEquals(SamplesSaved.Bound.ABOVE_RANGE, sobol.bound());
    assertEquals(SamplesSaved.Censoring.ESTIMATE, sobol.censoring());
    assertEquals(0.5, sobol.savedFraction().estimate(), 1e-12);
    assertTrue(sobol.resamplesAboveRange() > 0.5, sobol.toString()); // resamples that draw prompt 1

    String table = ResultTables.samplesSaved(spec, r.samplesSaved());
    assertTrue(table.contains("| t / lattice | 50% [-100%, 50%] |"), table);
    assertTrue(table.contains("Censored cells (1 of 2):"), table);
    assertTrue(
        table.contains(
            "- t / sobol at k=2: estimate is a lower bound: iid pass@4 stays below the coupled"
                + " pass@2 = 0.667"),
        table);
    String union = ResultTables.unionBoundFraction(spec, r.cells());
    assertTrue(union.contains("| t / lattice | 1.13 | 1.13 |"), union);
  }
}
