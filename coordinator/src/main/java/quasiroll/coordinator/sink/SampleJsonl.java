package quasiroll.coordinator.sink;

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
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();
  private static final java.util.HexFormat LOWER_HEX = java.util.HexFormat.of();

  private SampleJsonl() {}

  /**
   * The line, without its newline. Written by hand (a {@link StringBuilder}, no JSON library) for
   * speed; the output is exactly what Jackson's generator writes for the same fields with its
   * defaults, which is how these lines were first defined ({@code SampleJsonlTest} checks it char
   * for char): strings escape {@code "}, {@code \\} and control characters only ({@code \\n},
   * {@code \\t}, {@code \\r}, {@code \\b}, {@code \\f}, else {@code \\u00XX}); finite floats and
   * doubles are {@link Float#toString}/{@link Double#toString}, non-finite ones quoted strings
   * ({@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"}); seeds are unsigned decimals.
   */
  public static String line(SampleResult r) {
    StringBuilder b = new StringBuilder(256 + 32 * r.getTokenIdsCount() + r.getText().length());
    quasiroll.v1.NoiseKey key = r.getNoiseKey();
    b.append("{\"prompt_id\":");
    string(b, r.getPromptId());
    b.append(",\"index\":").append(r.getIndex());
    b.append(",\"k\":").append(key.getK());
    b.append(",\"text\":");
    string(b, r.getText());
    b.append(",\"token_ids\":[");
    for (int i = 0; i < r.getTokenIdsCount(); i++) {
      if (i > 0) {
        b.append(',');
      }
      b.append(r.getTokenIds(i));
    }
    b.append("],\"finish_reason\":\"").append(finishReason(r.getFinishReason())).append('"');
    if (r.hasReward()) {
      b.append(",\"reward\":");
      number(b, r.getReward());
    }
    b.append(",\"raw_logprobs\":[");
    for (int i = 0; i < r.getRawLogprobsCount(); i++) {
      comma(b, i);
      number(b, r.getRawLogprobs(i));
    }
    b.append("],\"processed_logprobs\":[");
    for (int i = 0; i < r.getProcessedLogprobsCount(); i++) {
      comma(b, i);
      number(b, r.getProcessedLogprobs(i));
    }
    b.append(']');
    if (r.getTopLogprobsCount() > 0) {
      // Only when the job asked for them (DecodeParams.top_logprobs): [[id, logprob], ...] per
      // token.
      topLogprobs(b, "top_logprobs", r.getTopLogprobsList());
    }
    if (r.getPromptTokenIdsCount() > 0) {
      // Only when the job scored its prompt (DecodeParams.prompt_logprobs): the prompt's ids,
      // the raw logprob of each after the first, and [[id, logprob], ...] per position.
      b.append(",\"prompt_token_ids\":[");
      for (int i = 0; i < r.getPromptTokenIdsCount(); i++) {
        if (i > 0) {
          b.append(',');
        }
        b.append(r.getPromptTokenIds(i));
      }
      b.append("],\"prompt_logprobs\":[");
      for (int i = 0; i < r.getPromptLogprobsCount(); i++) {
        comma(b, i);
        number(b, r.getPromptLogprobs(i));
      }
      b.append(']');
      topLogprobs(b, "prompt_top_logprobs", r.getPromptTopLogprobsList());
    }
    b.append(",\"job_seed\":").append(Long.toUnsignedString(key.getJobSeed()));
    b.append(",\"prompt_seed\":").append(Long.toUnsignedString(key.getPromptSeed()));
    b.append(",\"sampler\":");
    string(b, key.getSampler());
    b.append(",\"noise_note\":");
    string(b, r.getNoiseNote());
    b.append(",\"content_hash\":\"");
    LOWER_HEX.formatHex(b, r.getContentHash().toByteArray());
    b.append("\"}");
    return b.toString();
  }

  /** {@code ,"name":[[[id,logprob],...] per position,...]}. */
  private static void topLogprobs(
      StringBuilder b, String name, java.util.List<quasiroll.v1.TopLogprobs> positions) {
    b.append(",\"").append(name).append("\":[");
    boolean firstPosition = true;
    for (quasiroll.v1.TopLogprobs t : positions) {
      if (!firstPosition) {
        b.append(',');
      }
      firstPosition = false;
      b.append('[');
      for (int i = 0; i < t.getTokenIdsCount(); i++) {
        if (i > 0) {
          b.append(',');
        }
        b.append('[').append(t.getTokenIds(i)).append(',');
        number(b, t.getLogprobs(i));
        b.append(']');
      }
      b.append(']');
    }
    b.append(']');
  }

  private static void comma(StringBuilder b, int i) {
    if (i > 0) {
      b.append(',');
    }
  }

  private static void number(StringBuilder b, float v) {
    if (Float.isFinite(v)) {
      b.append(Float.toString(v));
    } else {
      b.append('"').append(Float.toString(v)).append('"');
    }
  }

  private static void number(StringBuilder b, double v) {
    if (Double.isFinite(v)) {
      b.append(Double.toString(v));
    } else {
      b.append('"').append(Double.toString(v)).append('"');
    }
  }

  /** A JSON string: quotes, with {@code "}, {@code \\} and control characters escaped. */
  private static void string(StringBuilder b, String s) {
    b.append('"');
    int n = s.length();
    int from = 0;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c != '"' && c != '\\') {
        continue;
      }
      b.append(s, from, i);
      from = i + 1;
      b.append('\\');
      switch (c) {
        case '"' -> b.append('"');
        case '\\' -> b.append('\\');
        case '\n' -> b.append('n');
        case '\t' -> b.append('t');
        case '\r' -> b.append('r');
        case '\b' -> b.append('b');
        case '\f' -> b.append('f');
        default -> b.append("u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
      }
    }
    b.append(s, from, n).append('"');
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
