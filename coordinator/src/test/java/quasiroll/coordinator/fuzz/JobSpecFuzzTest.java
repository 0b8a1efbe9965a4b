package quasiroll.coordinator.fuzz;

import com.google.protobuf.InvalidProtocolBufferException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.fuzz.FuzzCheck;
import quasiroll.common.fuzz.Mutator;
import quasiroll.coordinator.job.JobLimits;
import quasiroll.coordinator.job.JobSpecValidator;
import quasiroll.v1.DecodeParams;
import quasiroll.v1.JobSpec;
import quasiroll.v1.OutputSinks;
import quasiroll.v1.Prompt;
import quasiroll.v1.SamplerSpec;

/**
 * Fuzzes the JobSpec validator and prompts files (what clients send) with seeded mutations of valid
 * inputs. Property ({@link FuzzCheck}): validate succeeds or throws BadInputException, within a
 * time limit (JobSpec bytes that protobuf itself rejects with InvalidProtocolBufferException are
 * skipped: the gRPC layer answers those before the validator runs).
 */
class JobSpecFuzzTest {
  private static final long SEED = 20261203L;
  private static final int ITERATIONS = Integer.getInteger("quasiroll.fuzz.iterations", 400);

  @TempDir Path dir;

  private static void check(String name, int iteration, byte[] input, Runnable call) {
    FuzzCheck.check(name, SEED, iteration, input, Duration.ofSeconds(10), call);
  }

  @Test
  void jobSpecValidator() throws Exception {
    Files.createDirectories(dir.resolve("data"));
    Files.writeString(
        dir.resolve("data/p.jsonl"),
        "{\"id\": \"a\", \"prompt\": \"x\", \"metadata\": {\"task\": \"exact\", \"answer\":"
            + " \"4\"}}\n");
    JobSpecValidator validator =
        new JobSpecValidator(JobLimits.DEFAULTS, dir.resolve("data"), dir.resolve("out"));
    List<JobSpec> corpus =
        List.of(
            JobSpec.newBuilder()
                .setModel("m")
                .setK(8)
                .addPrompts(
                    Prompt.newBuilder()
                        .setId("p")
                        .setText("hello")
                        .putMetadata("task", "regex")
                        .putMetadata("pattern", "a+"))
                .addPrompts(Prompt.newBuilder().setId("t").addTokenIds(1).addTokenIds(2))
                .setSampler(
                    SamplerSpec.newBuilder().setKind("sobol").putOptions("scramble", "owen"))
                .setDecode(
                    DecodeParams.newBuilder()
                        .setTemperature(0.7f)
                        .setTopP(0.9f)
                        .addStopStrings("\n")
                        .setMaxNewTokens(64))
                .setSinks(OutputSinks.newBuilder().setJsonlPath("x/out.jsonl"))
                .build(),
            JobSpec.newBuilder()
                .setModel("m")
                .setK(4)
                .setPromptsPath("p.jsonl")
                .setSampler(SamplerSpec.newBuilder().setKind("rank1"))
                .build());
    Mutator m = new Mutator(SEED + 1);
    for (int i = 0; i < ITERATIONS; i++) {
      byte[] input = m.mutate(corpus.get(i % corpus.size()).toByteArray());
      JobSpec spec;
      try {
        spec = JobSpec.parseFrom(input);
      } catch (InvalidProtocolBufferException notAMessage) {
        continue;
      }
      check("JobSpec validator", i, input, () -> validator.validate(spec));
    }
    // Prompts files: one JSON object per line, mutated as text.
    byte[] lines = Files.readAllBytes(dir.resolve("data/p.jsonl"));
    for (int i = 0; i < ITERATIONS; i++) {
      byte[] input = m.mutate(lines);
      Files.write(dir.resolve("data/q.jsonl"), input);
      JobSpec spec = JobSpec.newBuilder().setModel("m").setK(2).setPromptsPath("q.jsonl").build();
      check("prompts file", i, input, () -> validator.validate(spec));
    }
  }
}
