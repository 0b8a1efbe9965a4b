package quasiroll.common.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import quasiroll.v1.DecodeParams;
import quasiroll.v1.FinishReason;
import quasiroll.v1.JobSpec;
import quasiroll.v1.NoiseKey;
import quasiroll.v1.Prompt;
import quasiroll.v1.SampleResult;
import quasiroll.v1.SamplerSpec;

/** The v1 API compiles to Java and survives the wire: bytes out, the same message back. */
class ProtoRoundTripTest {
  @Test
  void jobSpecRoundTrips() throws Exception {
    JobSpec spec =
        JobSpec.newBuilder()
            .setModel("synthetic:markov?vocab=64&seed=1")
            .addPrompts(
                Prompt.newBuilder().setId("p0").setText("hello").putMetadata("verifier", "exact"))
            .addPrompts(Prompt.newBuilder().setId("p1").addTokenIds(3).addTokenIds(5))
            .setK(16)
            .setSampler(SamplerSpec.newBuilder().setKind("sobol").putOptions("scramble", "owen"))
            .setDecode(
                DecodeParams.newBuilder()
                    .setTemperature(0.7f)
                    .setTopP(0.95f)
                    .setMaxNewTokens(32)
                    .addStopStrings("\n"))
            .setSeed(0xFFFF_FFFF_FFFF_FFFFL)
            .build();
    JobSpec back = JobSpec.parseFrom(spec.toByteArray());
    assertEquals(spec, back);
    assertEquals(0.7f, back.getDecode().getTemperature());
    assertEquals(-1L, back.getSeed(), "uint64 seeds keep all 64 bits");
  }

  @Test
  void sampleResultRoundTrips() throws Exception {
    SampleResult r =
        SampleResult.newBuilder()
            .setJobId("j1")
            .setPromptId("p0")
            .setIndex(7)
            .addTokenIds(1)
            .addTokenIds(2)
            .setText("ab")
            .addRawLogprobs(-0.5f)
            .addRawLogprobs(-1.25f)
            .addProcessedLogprobs(-0.25f)
            .addProcessedLogprobs(-1f)
            .setFinishReason(FinishReason.FINISH_REASON_EOS)
            .setReward(1.0)
            .setNoiseKey(
                NoiseKey.newBuilder()
                    .setJobSeed(3)
                    .setPromptId("p0")
                    .setIndex(7)
                    .setK(16)
                    .setSampler("lattice"))
            .build();
    SampleResult back = SampleResult.parseFrom(r.toByteArray());
    assertEquals(r, back);
    assertEquals(1.0, back.getReward());
  }
}
