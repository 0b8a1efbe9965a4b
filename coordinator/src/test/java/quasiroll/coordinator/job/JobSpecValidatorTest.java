package quasiroll.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.error.BadInputException;
import quasiroll.v1.DecodeParams;
import quasiroll.v1.JobSpec;
import quasiroll.v1.OutputSinks;
import quasiroll.v1.Prompt;
import quasiroll.v1.SamplerSpec;

class JobSpecValidatorTest {
  @TempDir Path dir;

  private JobSpecValidator validator() {
    return new JobSpecValidator(new JobLimits(64, 10, 100, 1000), dir.resolve("data"), dir.resolve("out"));
  }

  private static JobSpec.Builder ok() {
    return JobSpec.newBuilder().setModel("m").setK(4).addPrompts(Prompt.newBuilder().setId("p").setText("hi"));
  }

  private void refused(JobSpec.Builder spec, String mustMention) {
    BadInputException e = assertThrows(BadInputException.class, () -> validator().validate(spec.build()));
    assertTrue(e.getMessage().contains(mustMention), e.getMessage());
  }

  @Test
  void aGoodSpecPasses() {
    assertEquals(1, validator().validate(ok().build()).prompts().size());
  }

  @Test
  void eachBadFieldIsNamed() {
    refused(ok().setK(0), "k 0");
    refused(ok().setK(65), "max-k");
    refused(ok().setSampler(SamplerSpec.newBuilder().setKind("bogus")), "sampler 'bogus'");
    refused(ok().setModel(""), "model");
    refused(ok().setDecode(DecodeParams.newBuilder().setTemperature(-1)), "temperature");
    refused(ok().setDecode(DecodeParams.newBuilder().setTopP(0)), "top-p");
    refused(ok().setDecode(DecodeParams.newBuilder().setTopP(1.5f)), "top-p");
    refused(ok().clearPrompts(), "no prompts");
    refused(ok().addPrompts(Prompt.newBuilder().setId("e")), "empty");
    refused(ok().addPrompts(Prompt.newBuilder().setId("long").setText("x".repeat(101))), "101 bytes");
    refused(ok().addPrompts(Prompt.newBuilder().setId("p").setText("again")), "duplicate");
    refused(ok().addPrompts(Prompt.newBuilder().setId("v").setText("x").putMetadata("task", "nope")), "task 'nope'");
    refused(ok().clearPrompts().setPromptsPath("../etc/passwd"), "prompts_path");
    refused(ok().clearPrompts().setPromptsPath("/etc/passwd"), "prompts_path");
    refused(ok().setSinks(OutputSinks.newBuilder().setJsonlPath("../x.jsonl")), "sinks.jsonl_path");
  }

  @Test
  void promptsFileIsReadFromTheDataDirectory() throws Exception {
    Files.createDirectories(dir.resolve("data"));
    Files.writeString(dir.resolve("data/p.jsonl"),
        "{\"id\":\"a\",\"prompt\":\"one\",\"metadata\":{\"answer\":\"1\"}}\n\n{\"id\":\"b\",\"prompt\":\"two\"}\n");
    ValidatedJob v = validator().validate(ok().clearPrompts().setPromptsPath("p.jsonl").build());
    assertEquals(2, v.prompts().size());
    assertEquals("1", v.prompts().get(0).getMetadataOrThrow("answer"));
  }
}
