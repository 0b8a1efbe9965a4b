package quasiroll.coordinator.sink;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.util.HexFormat;
import quasiroll.v1.FinishReason;
import quasiroll.v1.SampleResult;

/**
 * One sample as one JSON line, fields always in this order: {@code prompt_id, index, k, text,
 * token_ids, finish_reason, reward (only with a verifier), raw_logprobs, processed_logprobs,
 * top_logprobs (only when asked for), prompt_token_ids, prompt_logprobs, prompt_top_logprobs (only
 * when the prompt was scored), job_seed, prompt_seed, sampler, noise_note, content_hash}.
 * Everything in a line is a function of the sample's key and the model, so an
 * interrupted-and-recovered job writes the same lines as an undisturbed one; the job id and the
 * producing worker (which differ between runs) are deliberately left out.
 */
public final class SampleJsonl {
  private static final JsonFactory JSON = new JsonFactory();

  private SampleJsonl() {}

  public static String line(SampleResult r) {
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
      g.writeStringField("finish_reason", finishReason(r.getFinishReason()));
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

  /** "eos", "stop_string", "length", "context" or "unspecified". */
  public static String finishReason(FinishReason f) {
    return switch (f) {
      case FINISH_REASON_EOS -> "eos";
      case FINISH_REASON_STOP_STRING -> "stop_string";
      case FINISH_REASON_LENGTH -> "length";
      case FINISH_REASON_CONTEXT -> "context";
      default -> "unspecified";
    };
  }
}
