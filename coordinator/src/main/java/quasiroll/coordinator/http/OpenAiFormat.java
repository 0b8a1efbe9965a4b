package quasiroll.coordinator.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import quasiroll.v1.FinishReason;
import quasiroll.v1.NoiseKey;
import quasiroll.v1.SampleResult;

/**
 * quasiroll results in OpenAI's response schemas: text_completion and chat.completion (and their
 * streamed chunks). Each choice also carries quasiroll's own fields: {@code noise_key} (everything
 * needed to replay the sample), {@code raw_logprobs} (per token, under the raw model at temperature
 * 1), {@code token_ids}, and {@code policy_version} when workers report one. {@code
 * logprobs.token_logprobs} are the logprobs under the processed distribution the token was drawn
 * from (temperature, top-k, top-p, min-p applied).
 */
final class OpenAiFormat {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private OpenAiFormat() {}

  static String finishReason(FinishReason r) {
    return switch (r) {
      case FINISH_REASON_LENGTH, FINISH_REASON_CONTEXT -> "length";
      default -> "stop";
    };
  }

  /** The text each generated token adds (held-back partial UTF-8 becomes "" until complete). */
  static String[] tokenPieces(ModelTokenizer tokenizer, List<Integer> ids) {
    String[] out = new String[ids.size()];
    if (tokenizer == null) {
      for (int i = 0; i < out.length; i++) {
        out[i] = "token_id:" + ids.get(i);
      }
      return out;
    }
    ModelTokenizer.StreamingDecoder d = tokenizer.streamingDecoder();
    for (int i = 0; i < out.length; i++) {
      out[i] = d.push(ids.get(i));
    }
    if (out.length > 0) {
      out[out.length - 1] += d.finish();
    }
    return out;
  }

  static ObjectNode noiseKey(NoiseKey k) {
    ObjectNode n = F.objectNode();
    n.put("job_seed", Long.toUnsignedString(k.getJobSeed()));
    n.put("prompt_id", k.getPromptId());
    n.put("prompt_seed", Long.toUnsignedString(k.getPromptSeed()));
    n.put("index", k.getIndex());
    n.put("k", k.getK());
    n.put("sampler", k.getSampler());
    return n;
  }

  /** quasiroll's extra per-choice fields. */
  static void extras(ObjectNode choice, SampleResult r) {
    choice.set("noise_key", noiseKey(r.getNoiseKey()));
    ArrayNode raw = choice.putArray("raw_logprobs");
    r.getRawLogprobsList().forEach(raw::add);
    ArrayNode ids = choice.putArray("token_ids");
    r.getTokenIdsList().forEach(ids::add);
  }

  /**
   * Completions' logprobs object; {@code textStart} = code points before the first token (echo).
   */
  /**
   * One token's text on its own (alternatives have no sequence context), or "token_id:N" without a
   * tokenizer.
   */
  static String tokenText(ModelTokenizer tokenizer, int id) {
    return tokenizer == null ? "token_id:" + id : tokenizer.decode(new int[] {id});
  }

  static ObjectNode completionLogprobs(
      SampleResult r, String[] pieces, int top, int textStart, ModelTokenizer tokenizer) {
    ObjectNode lp = F.objectNode();
    ArrayNode tokens = lp.putArray("tokens");
    ArrayNode logprobs = lp.putArray("token_logprobs");
    ArrayNode offsets = lp.putArray("text_offset");
    int at = textStart;
    for (int i = 0; i < pieces.length; i++) {
      tokens.add(pieces[i]);
      logprobs.add(i < r.getProcessedLogprobsCount() ? r.getProcessedLogprobs(i) : Float.NaN);
      offsets.add(at);
      at += pieces[i].codePointCount(0, pieces[i].length());
    }
    if (top > 0) {
      // OpenAI's shape: one {token text: logprob} map per position. Two ids with the same text
      // (rare) keep the first, more probable one; the exact ids are in top_logprobs_ids.
      ArrayNode tops = lp.putArray("top_logprobs");
      ArrayNode topIds = lp.putArray("top_logprobs_ids");
      for (int i = 0; i < r.getTopLogprobsCount(); i++) {
        quasiroll.v1.TopLogprobs t = r.getTopLogprobs(i);
        ObjectNode m = tops.addObject();
        ArrayNode ids = topIds.addArray();
        for (int j = 0; j < t.getTokenIdsCount(); j++) {
          String text = tokenText(tokenizer, t.getTokenIds(j));
          if (!m.has(text)) {
            m.put(text, t.getLogprobs(j));
          }
          ids.add(t.getTokenIds(j));
        }
      }
    } else {
      lp.putNull("top_logprobs");
    }
    return lp;
  }

  /** Chat's logprobs object: {"content": [{"token", "logprob", "bytes", "top_logprobs"}]}. */
  static ObjectNode chatLogprobs(
      SampleResult r, String[] pieces, int top, ModelTokenizer tokenizer) {
    ObjectNode lp = F.objectNode();
    ArrayNode content = lp.putArray("content");
    for (int i = 0; i < pieces.length; i++) {
      ObjectNode t = content.addObject();
      t.put("token", pieces[i]);
      float v = i < r.getProcessedLogprobsCount() ? r.getProcessedLogprobs(i) : Float.NaN;
      t.put("logprob", v);
      ArrayNode bytes = t.putArray("bytes");
      for (byte b : pieces[i].getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
        bytes.add(b & 0xff);
      }
      ArrayNode tops = t.putArray("top_logprobs");
      if (top > 0 && i < r.getTopLogprobsCount()) {
        quasiroll.v1.TopLogprobs alts = r.getTopLogprobs(i);
        for (int j = 0; j < alts.getTokenIdsCount(); j++) {
          String text = tokenText(tokenizer, alts.getTokenIds(j));
          ObjectNode alt = tops.addObject();
          alt.put("token", text);
          alt.put("logprob", alts.getLogprobs(j));
          ArrayNode ab = alt.putArray("bytes");
          for (byte b : text.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            ab.add(b & 0xff);
          }
        }
      }
    }
    return lp;
  }

  static ObjectNode usage(long prompt, long completion) {
    ObjectNode u = F.objectNode();
    u.put("prompt_tokens", prompt);
    u.put("completion_tokens", completion);
    u.put("total_tokens", prompt + completion);
    return u;
  }
}
