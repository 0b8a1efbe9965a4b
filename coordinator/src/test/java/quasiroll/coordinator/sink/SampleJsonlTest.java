package quasiroll.coordinator.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import quasiroll.v1.FinishReason;
import quasiroll.v1.NoiseKey;
import quasiroll.v1.SampleResult;
import quasiroll.v1.TopLogprobs;

class SampleJsonlTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void promptScoresAppearOnlyWhenThePromptWasScored() throws Exception {
    SampleResult plain = SampleResult.newBuilder().setPromptId("p").addTokenIds(7).build();
    assertFalse(JSON.readTree(SampleJsonl.line(plain)).has("prompt_logprobs"));
    SampleResult scored =
        plain.toBuilder()
            .addPromptTokenIds(1)
            .addPromptTokenIds(5)
            .addPromptLogprobs(-0.25f)
            .addPromptTopLogprobs(TopLogprobs.newBuilder().addTokenIds(3).addLogprobs(-0.125f))
            .build();
    JsonNode line = JSON.readTree(SampleJsonl.line(scored));
    assertEquals("[1,5]", line.get("prompt_token_ids").toString());
    assertEquals("[-0.25]", line.get("prompt_logprobs").toString());
    assertEquals("[[[3,-0.125]]]", line.get("prompt_top_logprobs").toString());
  }

  /** One line spelled out: the documented format, byte for byte. */
  @Test
  void aLineIsExactlyTheDocumentedFormat() {
    SampleResult r =
        SampleResult.newBuilder()
            .setJobId("j-not-written")
            .setPromptId("p\"1")
            .setIndex(3)
            .setNoiseKey(
                NoiseKey.newBuilder()
                    .setK(8)
                    .setJobSeed(-1L)
                    .setPromptSeed(42)
                    .setSampler("lattice"))
            .setText("a\nb\u0001\u00e9")
            .addTokenIds(5)
            .addTokenIds(17)
            .setFinishReason(FinishReason.FINISH_REASON_LENGTH)
            .setReward(1.0)
            .addRawLogprobs(-0.5f)
            .addRawLogprobs(Float.NEGATIVE_INFINITY)
            .addProcessedLogprobs(-1.0E-10f)
            .addProcessedLogprobs(0.0f)
            .setNoiseNote("n")
            .setContentHash(ByteString.copyFrom(new byte[] {0x0a, (byte) 0xff}))
            .build();
    assertEquals(
        "{\"prompt_id\":\"p\\\"1\",\"index\":3,\"k\":8,\"text\":\"a\\nb\\u0001\u00e9\","
            + "\"token_ids\":[5,17],\"finish_reason\":\"length\",\"reward\":1.0,"
            + "\"raw_logprobs\":[-0.5,\"-Infinity\"],\"processed_logprobs\":[-1.0E-10,0.0],"
            + "\"job_seed\":18446744073709551615,\"prompt_seed\":42,\"sampler\":\"lattice\","
            + "\"noise_note\":\"n\",\"content_hash\":\"0aff\"}",
        SampleJsonl.line(r));
  }

  /**
   * The hand-written line equals, char for char, what Jackson's generator wrote (the implementation
   * before it, kept below as the reference) on random samples: every kind of character (controls,
   * quotes, backslashes, non-ASCII, surrogate pairs), every kind of float (NaN, infinities, -0.0,
   * subnormals, random bit patterns), optional fields on and off.
   */
  @Test
  void equalsTheJacksonGeneratorOnRandomSamples() {
    SplittableRandom rnd = new SplittableRandom(20261203);
    for (int n = 0; n < 5000; n++) {
      SampleResult r = randomSample(rnd);
      assertEquals(JacksonReference.line(r), SampleJsonl.line(r), () -> r.toString());
    }
  }

  @Test
  void everyCharacterIsWrittenAsJacksonWritesIt() {
    StringBuilder all = new StringBuilder();
    for (int c = 0; c <= 0xFFFF; c++) {
      if (!Character.isSurrogate((char) c)) {
        all.append((char) c);
      }
    }
    all.appendCodePoint(0x1F600).appendCodePoint(0x10FFFF);
    SampleResult r = SampleResult.newBuilder().setText(all.toString()).setPromptId("x").build();
    assertEquals(JacksonReference.line(r), SampleJsonl.line(r));
  }

  private static SampleResult randomSample(SplittableRandom rnd) {
    SampleResult.Builder b =
        SampleResult.newBuilder()
            .setPromptId(randomString(rnd, 12))
            .setIndex(rnd.nextInt(Integer.MAX_VALUE))
            .setNoiseKey(
                NoiseKey.newBuilder()
                    .setK(rnd.nextInt(1, 1 << 20))
                    .setJobSeed(rnd.nextLong())
                    .setPromptSeed(rnd.nextLong())
                    .setSampler(randomString(rnd, 8)))
            .setText(randomString(rnd, 40))
            .setFinishReason(FinishReason.forNumber(rnd.nextInt(5)))
            .setNoiseNote(randomString(rnd, 10));
    int tokens = rnd.nextInt(0, 12);
    for (int i = 0; i < tokens; i++) {
      b.addTokenIds(rnd.nextInt(-5, 200_000));
      b.addRawLogprobs(randomFloat(rnd));
      b.addProcessedLogprobs(randomFloat(rnd));
    }
    if (rnd.nextBoolean()) {
      b.setReward(randomDouble(rnd));
    }
    if (rnd.nextInt(4) == 0) {
      for (int i = 0; i < tokens; i++) {
        b.addTopLogprobs(randomTop(rnd));
      }
    }
    if (rnd.nextInt(4) == 0) {
      int p = rnd.nextInt(1, 6);
      for (int i = 0; i < p; i++) {
        b.addPromptTokenIds(rnd.nextInt(100_000));
        if (i > 0) {
          b.addPromptLogprobs(randomFloat(rnd));
        }
        b.addPromptTopLogprobs(randomTop(rnd));
      }
    }
    byte[] hash = new byte[rnd.nextInt(0, 33)];
    rnd.nextBytes(hash);
    return b.setContentHash(ByteString.copyFrom(hash)).build();
  }

  private static TopLogprobs randomTop(SplittableRandom rnd) {
    TopLogprobs.Builder t = TopLogprobs.newBuilder();
    int n = rnd.nextInt(0, 4);
    for (int i = 0; i < n; i++) {
      t.addTokenIds(rnd.nextInt(100_000)).addLogprobs(randomFloat(rnd));
    }
    return t.build();
  }

  private static float randomFloat(SplittableRandom rnd) {
    return switch (rnd.nextInt(10)) {
      case 0 -> Float.NaN;
      case 1 -> rnd.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
      case 2 -> rnd.nextBoolean() ? -0.0f : 0.0f;
      case 3 -> Float.intBitsToFloat(rnd.nextInt(1, 0x800000)); // subnormal
      case 4 -> Float.intBitsToFloat(rnd.nextInt()); // any bit pattern
      default -> (float) -rnd.nextDouble(0, 30);
    };
  }

  private static double randomDouble(SplittableRandom rnd) {
    return switch (rnd.nextInt(6)) {
      case 0 -> Double.NaN;
      case 1 -> Double.NEGATIVE_INFINITY;
      case 2 -> Double.longBitsToDouble(rnd.nextLong());
      default -> rnd.nextDouble();
    };
  }

  private static String randomString(SplittableRandom rnd, int maxLen) {
    int n = rnd.nextInt(0, maxLen + 1);
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      switch (rnd.nextInt(6)) {
        case 0 -> s.append((char) rnd.nextInt(0, 0x20));
        case 1 -> s.append("\"\\/\u007f".charAt(rnd.nextInt(4)));
        case 2 -> s.append((char) rnd.nextInt(0x80, 0xD800));
        case 3 -> s.appendCodePoint(rnd.nextInt(0x10000, 0x110000));
        default -> s.append((char) rnd.nextInt(0x20, 0x7F));
      }
    }
    return s.toString();
  }

  /** SampleJsonl as it was written with Jackson's streaming generator (the reference). */
  private static final class JacksonReference {
    private static final JsonFactory JSON = new JsonFactory();

    static String line(SampleResult r) {
      StringWriter w = new StringWriter(256);
      try (JsonGenerator g = JSON.createGenerator(w)) {
        g.writeStartObject();
        g.writeStringField("prompt_id", r.getPromptId());
        g.writeNumberField("index", r.getIndex());
        g.writeNumberField("k", r.getNoiseKey().getK());
        g.writeStringField("text", r.getText());
        g.writeArrayFieldStart("token_ids");
        for (int i = 0; i < r.getTokenIdsCount(); i++) {
          g.writeNumber(r.getTokenIds(i));
        }
        g.writeEndArray();
        g.writeStringField("finish_reason", SampleJsonl.finishReason(r.getFinishReason()));
        if (r.hasReward()) {
          g.writeNumberField("reward", r.getReward());
        }
        g.writeArrayFieldStart("raw_logprobs");
        for (int i = 0; i < r.getRawLogprobsCount(); i++) {
          g.writeNumber(r.getRawLogprobs(i));
        }
        g.writeEndArray();
        g.writeArrayFieldStart("processed_logprobs");
        for (int i = 0; i < r.getProcessedLogprobsCount(); i++) {
          g.writeNumber(r.getProcessedLogprobs(i));
        }
        g.writeEndArray();
        if (r.getTopLogprobsCount() > 0) {
          // Only when the job asked for them (DecodeParams.top_logprobs): [[id, logprob], ...] per
          // token.
          writeTopLogprobs(g, "top_logprobs", r.getTopLogprobsList());
        }
        if (r.getPromptTokenIdsCount() > 0) {
          // Only when the job scored its prompt (DecodeParams.prompt_logprobs): the prompt's ids,
          // the raw logprob of each after the first, and [[id, logprob], ...] per position.
          g.writeArrayFieldStart("prompt_token_ids");
          for (int i = 0; i < r.getPromptTokenIdsCount(); i++) {
            g.writeNumber(r.getPromptTokenIds(i));
          }
          g.writeEndArray();
          g.writeArrayFieldStart("prompt_logprobs");
          for (int i = 0; i < r.getPromptLogprobsCount(); i++) {
            g.writeNumber(r.getPromptLogprobs(i));
          }
          g.writeEndArray();
          writeTopLogprobs(g, "prompt_top_logprobs", r.getPromptTopLogprobsList());
        }
        g.writeFieldName("job_seed");
        g.writeNumber(new BigInteger(Long.toUnsignedString(r.getNoiseKey().getJobSeed())));
        g.writeFieldName("prompt_seed");
        g.writeNumber(new BigInteger(Long.toUnsignedString(r.getNoiseKey().getPromptSeed())));
        g.writeStringField("sampler", r.getNoiseKey().getSampler());
        g.writeStringField("noise_note", r.getNoiseNote());
        g.writeStringField(
            "content_hash", HexFormat.of().formatHex(r.getContentHash().toByteArray()));
        g.writeEndObject();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return w.toString();
    }

    /** {@code "name": [[[id, logprob], ...] per position, ...]}. */
    private static void writeTopLogprobs(
        JsonGenerator g, String name, java.util.List<quasiroll.v1.TopLogprobs> positions)
        throws IOException {
      g.writeArrayFieldStart(name);
      for (quasiroll.v1.TopLogprobs t : positions) {
        g.writeStartArray();
        for (int i = 0; i < t.getTokenIdsCount(); i++) {
          g.writeStartArray();
          g.writeNumber(t.getTokenIds(i));
          g.writeNumber(t.getLogprobs(i));
          g.writeEndArray();
        }
        g.writeEndArray();
      }
      g.writeEndArray();
    }
  }
}
