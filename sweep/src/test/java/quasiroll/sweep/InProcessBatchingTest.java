package quasiroll.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import quasiroll.common.config.QuasirollConfig;
import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.v1.DecodeParams;
import quasiroll.v1.JobSpec;
import quasiroll.v1.Prompt;
import quasiroll.v1.SampleResult;
import quasiroll.v1.SamplerSpec;
import quasiroll.worker.engine.ContinuousDecoder;
import quasiroll.worker.engine.ShardDecoder;
import quasiroll.worker.load.BackendLoader;
import quasiroll.worker.load.WorkerSettings;
import quasiroll.worker.runtime.ModelHandle;

/**
 * The in-process sweep runner hands a job's prompts to one shared continuous-batching loop when the
 * runner has one, and the samples are byte-identical to the shard-at-a-time runner.
 */
class InProcessBatchingTest {
  private static final String MODEL = "synthetic:markov?vocab=48&seed=3&eos=0.04";

  private static Map<String, SampleResult> run(boolean batching) {
    JobSpec.Builder job =
        JobSpec.newBuilder()
            .setModel(MODEL)
            .setK(6)
            .setSeed(11)
            .setName("job")
            .setSampler(SamplerSpec.newBuilder().setKind("lattice"))
            .setDecode(DecodeParams.newBuilder().setMaxNewTokens(20));
    for (int i = 0; i < 12; i++) {
      job.addPrompts(Prompt.newBuilder().setId("p" + i).setText("t" + (i % 5)));
    }
    ModelHandle m =
        BackendLoader.load(MODEL, "cpu", WorkerSettings.from(QuasirollConfig.load(null)));
    int[] opened = {0};
    Map<String, SampleResult> out = new TreeMap<>();
    try (InProcessRunner r =
        new InProcessRunner(
            model -> {
              synchronized (opened) {
                opened[0]++;
              }
              return batching
                  ? new ContinuousDecoder(
                      m.backend(), m.tokenizer(), CouplingNoiseFactory.INSTANCE, 16, 64)
                  : new ShardDecoder(m.backend(), m.tokenizer(), CouplingNoiseFactory.INSTANCE, 1);
            },
            3)) {
      r.run(job.build(), s -> assertEquals(null, out.put(s.getPromptId() + "/" + s.getIndex(), s)));
      r.run(
          job.setSeed(12).build(),
          s -> out.put("second/" + s.getPromptId() + "/" + s.getIndex(), s));
    }
    if (batching) {
      assertEquals(1, opened[0], "a batching runner is opened once and shared by every prompt");
    }
    return out;
  }

  @Test
  void sharedLoopGivesTheSamplesOfTheShardAtATimeRunner() {
    Map<String, SampleResult> batched = run(true);
    assertEquals(2 * 12 * 6, batched.size());
    assertEquals(run(false), batched);
    assertTrue(batched.values().stream().map(SampleResult::getText).distinct().count() > 1);
  }
}
