package quasiroll.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.error.BadInputException;
import quasiroll.common.sampler.CoupledTokenSampler;
import quasiroll.v1.JobSpec;
import quasiroll.v1.SampleResult;

class SweepRestartTest {
  /** Counts the jobs it runs; optionally fails the job after {@code failAfter} successful ones. */
  static final class CountingRunner implements RolloutRunner {
    final InProcessRunner inner = new InProcessRunner(m -> new ToyShardRunner(0.04), 1);
    final List<String> ran = new ArrayList<>();
    final int failAfter;

    CountingRunner(int failAfter) {
      this.failAfter = failAfter;
    }

    @Override
    public void run(JobSpec job, Consumer<SampleResult> out) {
      if (ran.size() == failAfter) {
        throw new IllegalStateException("simulated crash after " + failAfter + " jobs");
      }
      inner.run(job, out);
      ran.add(job.getName());
    }

    @Override
    public String describe() {
      return "test";
    }

    @Override
    public void close() {
      inner.close();
    }
  }

  @Test
  void interruptedSweepResumesWithoutRecomputingAndEndsIdentical(@TempDir Path tmp)
      throws Exception {
    SweepSpec spec = SweepSpecParser.parseString(SweepTestSpecs.SMALL);
    int totalJobs = SweepPlan.of(spec).jobs().size();
    // iid and lattice: 1 job per replicate at K=16; sobol: one per k. 3 replicates.
    assertEquals(3 * (1 + 1 + 5), totalJobs);

    Path straight = tmp.resolve("straight");
    try (CountingRunner r = new CountingRunner(Integer.MAX_VALUE)) {
      Sweep.run(spec, straight, r, TaskCatalog.builtIn(), SweepProgress.NONE);
      assertEquals(totalJobs, r.ran.size());
    }

    Path resumed = tmp.resolve("resumed");
    List<String> firstRun;
    try (CountingRunner r = new CountingRunner(5)) {
      assertThrows(
          IllegalStateException.class,
          () -> Sweep.run(spec, resumed, r, TaskCatalog.builtIn(), SweepProgress.NONE));
      firstRun = List.copyOf(r.ran);
    }
    assertEquals(5, firstRun.size());
    assertFalse(Files.exists(resumed.resolve("results.csv")));
    try (CountingRunner r = new CountingRunner(Integer.MAX_VALUE)) {
      Sweep.Outcome o = Sweep.run(spec, resumed, r, TaskCatalog.builtIn(), SweepProgress.NONE);
      assertEquals(totalJobs - 5, r.ran.size());
      for (String job : firstRun) {
        assertFalse(r.ran.contains(job), "recomputed " + job);
      }
      assertEquals(totalJobs - 5, o.run().jobsRun());
    }
    for (String f : List.of("results.csv", "samples_saved.csv")) {
      assertEquals(Files.readString(straight.resolve(f)), Files.readString(resumed.resolve(f)), f);
    }
    try (CountingRunner r = new CountingRunner(Integer.MAX_VALUE)) {
      Sweep.run(spec, resumed, r, TaskCatalog.builtIn(), SweepProgress.NONE);
      assertTrue(r.ran.isEmpty(), "a complete sweep reran " + r.ran);
    }
  }

  @Test
  void refusesADifferentSpecInTheSameDirectory(@TempDir Path tmp) {
    SweepSpec spec = SweepSpecParser.parseString(SweepTestSpecs.SMALL);
    SweepStore.open(tmp.resolve("out"), spec);
    SweepSpec other =
        SweepSpecParser.parseString(
            SweepTestSpecs.SMALL.replace("replicates = 3", "replicates = 4"));
    BadInputException e =
        assertThrows(BadInputException.class, () -> SweepStore.open(tmp.resolve("out"), other));
    assertTrue(
        e.getMessage().contains("different sweep spec") && e.getMessage().contains("--out"),
        e.getMessage());
  }

  @Test
  void refusesResultsOfAnEarlierSamplerRevision(@TempDir Path tmp) throws Exception {
    SweepSpec spec = SweepSpecParser.parseString(SweepTestSpecs.SMALL);
    Path out = tmp.resolve("out");
    SweepStore.open(out, spec);
    SweepStore.open(out, spec); // same revision: continues
    Path manifest = out.resolve(SweepStore.MANIFEST);
    String current = Files.readString(manifest);
    String revisionField = "\"sampler_revision\" : " + CoupledTokenSampler.DISTRIBUTION_REVISION;
    assertTrue(current.contains(revisionField), current);
    // A manifest from before revisions were recorded (revision 1 results).
    Files.writeString(
        manifest, current.replace(revisionField + ",", "").replace(revisionField, ""));
    BadInputException e = assertThrows(BadInputException.class, () -> SweepStore.open(out, spec));
    assertTrue(
        e.getMessage().contains("sampler revision 1")
            && e.getMessage().contains("revision " + CoupledTokenSampler.DISTRIBUTION_REVISION)
            && e.getMessage().contains("--out"),
        e.getMessage());
  }

  @Test
  void refusesANonSweepDirectory(@TempDir Path tmp) throws Exception {
    Files.writeString(tmp.resolve("something.txt"), "x");
    SweepSpec spec = SweepSpecParser.parseString(SweepTestSpecs.SMALL);
    assertThrows(BadInputException.class, () -> SweepStore.open(tmp, spec));
  }
}
