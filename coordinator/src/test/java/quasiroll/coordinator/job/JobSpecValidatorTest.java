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
    return new JobSpecValidator(
        new JobLimits(64, 10, 100, 1000, 4, 64, JobLimits.DEFAULTS.maxShardMessageBytes()),
        dir.resolve("data"),
        dir.resolve("out"));
  }

  private static JobSpec.Builder ok() {
    return JobSpec.newBuilder()
        .setModel("m")
        .setK(4)
        .addPrompts(Prompt.newBuilder().setId("p").setText("hi"));
  }

  private void refused(JobSpec.Builder spec, String mustMention) {
    BadInputException e =
        assertThrows(BadInputException.class, () -> validator().validate(spec.build()));
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
    refused(ok().setDecode(DecodeParams.newBuilder().setPromptLogprobs(21)), "prompt_logprobs 21");
    refused(ok().setDecode(DecodeParams.newBuilder().setPromptOnly(true)), "prompt_only needs");
    validator()
        .validate(
            ok().setDecode(DecodeParams.newBuilder().setPromptLogprobs(5).setPromptOnly(true))
                .build());
    refused(ok().clearPrompts(), "no prompts");
    refused(ok().addPrompts(Prompt.newBuilder().setId("e")), "empty");
    refused(
        ok().addPrompts(Prompt.newBuilder().setId("long").setText("x".repeat(101))), "101 bytes");
    refused(ok().addPrompts(Prompt.newBuilder().setId("p").setText("again")), "duplicate");
    refused(
        ok().addPrompts(Prompt.newBuilder().setId("v").setText("x").putMetadata("task", "nope")),
        "task 'nope'");
    refused(ok().clearPrompts().setPromptsPath("../etc/passwd"), "prompts_path");
    refused(ok().clearPrompts().setPromptsPath("/etc/passwd"), "prompts_path");
    refused(ok().setSinks(OutputSinks.newBuilder().setJsonlPath("../x.jsonl")), "sinks.jsonl_path");
  }

  @Test
  void samplerOptionsAreCheckedByTheSamplersOwnRules() {
    refused(
        ok().setSampler(SamplerSpec.newBuilder().setKind("iid").putOptions("foo", "bar")), "foo");
    refused(
        ok().setSampler(SamplerSpec.newBuilder().setKind("sobol").putOptions("scramble", "bogus")),
        "scramble=bogus");
    refused(
        ok().setSampler(SamplerSpec.newBuilder().setKind("sobol").putOptions("scramble", "none")),
        "scramble=none");
    refused(
        ok().setSampler(SamplerSpec.newBuilder().setKind("lhs").putOptions("scramble", "owen")),
        "'scramble'");
    refused(
        ok().setSampler(
                SamplerSpec.newBuilder().setKind("lattice").putOptions("vocab_order", "sideways")),
        "sideways");
    validator()
        .validate(
            ok().setSampler(
                    SamplerSpec.newBuilder()
                        .setKind("sobol")
                        .putOptions("scramble", "owen")
                        .putOptions("vocab_order", "id"))
                .build());
  }

  @Test
  void tokenIdsAndStopsAreBounded() {
    refused(
        ok().addPrompts(Prompt.newBuilder().setId("t").addTokenIds(3).addTokenIds(-1)),
        "token_ids[1] -1");
    refused(
        ok().setDecode(DecodeParams.newBuilder().addStopStrings("x".repeat(65))), "max-stop-bytes");
    refused(
        ok().setDecode(
                DecodeParams.newBuilder()
                    .addStopStrings("a")
                    .addStopStrings("b")
                    .addStopStrings("c")
                    .addStopStrings("d")
                    .addStopStrings("e")),
        "max-stop-strings");
    refused(
        ok().setDecode(DecodeParams.newBuilder().addStopStrings("")), "stop_strings[0] is empty");
    refused(ok().setDecode(DecodeParams.newBuilder().addStopTokenIds(-5)), "stop_token_ids[0] -5");
  }

  @Test
  void shardMessagesOverTheFrameLimitAreRefused() {
    JobSpecValidator small =
        new JobSpecValidator(
            new JobLimits(4096, 10, 1 << 20, 1000, 4, 64, 2000),
            dir.resolve("data"),
            dir.resolve("out"));
    BadInputException e =
        assertThrows(BadInputException.class, () -> small.validate(ok().setK(400).build()));
    assertTrue(e.getMessage().contains("max-shard-message-bytes"), e.getMessage());
    e =
        assertThrows(
            BadInputException.class,
            () ->
                small.validate(
                    ok().clearPrompts()
                        .addPrompts(Prompt.newBuilder().setId("p").setText("y".repeat(1000)))
                        .build()));
    assertTrue(e.getMessage().contains("2000"), e.getMessage());
    small.validate(ok().build());
  }

  @Test
  void sinksNeverOverwrite() throws Exception {
    Files.createDirectories(dir.resolve("out/taken"));
    Files.writeString(dir.resolve("out/old.jsonl"), "{}\n");
    Files.writeString(dir.resolve("out/file"), "x");
    refused(ok().setSinks(OutputSinks.newBuilder().setJsonlPath("taken")), "is a directory");
    refused(ok().setSinks(OutputSinks.newBuilder().setJsonlPath("old.jsonl")), "already exists");
    refused(
        ok().setSinks(OutputSinks.newBuilder().setJsonlPath("file/x.jsonl")), "which is a file");
    assertEquals(
        dir.resolve("out/new/x.jsonl"),
        validator()
            .validate(ok().setSinks(OutputSinks.newBuilder().setJsonlPath("new/x.jsonl")).build())
            .jsonlPath());
  }

  @Test
  void promptsFileIsReadFromTheDataDirectory() throws Exception {
    Files.createDirectories(dir.resolve("data"));
    Files.writeString(
        dir.resolve("data/p.jsonl"),
        "{\"id\":\"a\",\"prompt\":\"one\",\"metadata\":{\"answer\":\"1\"}}\n\n"
            + "{\"id\":\"b\",\"prompt\":\"two\"}\n");
    ValidatedJob v = validator().validate(ok().clearPrompts().setPromptsPath("p.jsonl").build());
    assertEquals(2, v.prompts().size());
    assertEquals("1", v.prompts().get(0).getMetadataOrThrow("answer"));
  }

  private static JobSpec.Builder grow(String sampler, int k) {
    JobSpec.Builder b =
        ok().setK(k).setZeroVariance(quasiroll.v1.ZeroVarianceMode.ZERO_VARIANCE_GROW);
    if (sampler != null) {
      b.setSampler(SamplerSpec.newBuilder().setKind(sampler));
    }
    return b;
  }

  @Test
  void zeroVarianceGrowIsRefusedAtSubmitForSamplersThatCannotGrow() {
    for (String s : new String[] {"stratified", "lhs"}) {
      refused(
          grow(s, 4),
          "zero_variance GROW with sampler '" + s + "' is invalid: its groups cannot grow");
    }
    refused(grow("stratified", 4), "[antithetic, iid, lattice, rank1, sobol]");
    refused(grow("antithetic", 3), "antithetic groups grow only from an even k");
    refused(grow("lattice", 4).setIndexOffset(1), "index_offset 1 and index_count 0 is invalid");
    refused(grow("lattice", 4).setIndexCount(2), "index_offset 0 and index_count 2 is invalid");
    refused(
        grow("lattice", 4).setGrowMaxK(7),
        "grow_max_k 7 is invalid: expected 0 (default 4k = 16) or at least 2k = 8");
    refused(grow("lattice", 4).setGrowMaxK(-1), "grow_max_k -1");
    for (String s : new String[] {null, "iid", "lattice", "sobol", "rank1", "antithetic"}) {
      assertEquals(1, validator().validate(grow(s, 4).build()).prompts().size(), "sampler " + s);
    }
    validator().validate(grow("lattice", 4).setIndexCount(4).setGrowMaxK(8).build());
    // KEEP and DROP take any sampler
    validator()
        .validate(
            grow("stratified", 4)
                .setZeroVariance(quasiroll.v1.ZeroVarianceMode.ZERO_VARIANCE_DROP)
                .build());
  }
}
