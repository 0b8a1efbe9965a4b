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
    choice.put("policy_version", r.getPolicyVersion());
  }

  /**
   * One token's text on its own (alternatives have no sequence context), or "token_id:N" without a
   * tokenizer.
   */
  static String tokenText(ModelTokenizer tokenizer, int id) {
    return tokenizer == null ? "token_id:" + id : tokenizer.decode(new int[] {id});
  }

  /**
   * Completions' logprobs with echo: the prompt's tokens first, then the generated ones (OpenAI's
   * legacy echo + logprobs, which lm-evaluation-harness's loglikelihood requests read). For the
   * prompt: {@code token_logprobs[0]} and {@code top_logprobs[0]} are null (the first token has no
   * prefix), then the raw-model logprob of each prompt token given the ones before it, and a map of
   * the {@code top} most probable tokens there plus the prompt token itself (so up to top + 1
   * entries, as OpenAI and vLLM do). The generated tokens follow as in {@link #completionLogprobs}
   * (processed logprobs). {@code text_offset} indexes {@code prefix + generated text}: when the
   * prompt's token texts end with {@code prefix} but start with more (a BOS the tokenizer added to
   * a text prompt), those leading tokens get offset 0.
   *
   * @throws ApiError (500) when the worker returned no prompt scores
   */
  static ObjectNode echoedLogprobs(
      SampleResult r, String[] pieces, int top, String prefix, ModelTokenizer tokenizer) {
    int promptLength = r.getPromptTokenIdsCount();
    if (promptLength == 0 || r.getPromptLogprobsCount() != promptLength - 1) {
      throw ApiError.internal(
          "the worker returned no prompt logprobs for prompt '"
              + r.getPromptId()
              + "' (a runner that cannot score prompts, e.g. the load-test runner?)");
    }
    String[] promptPieces = tokenPieces(tokenizer, r.getPromptTokenIdsList());
    int total = 0;
    for (String p : promptPieces) {
      total += p.codePointCount(0, p.length());
    }
    int prefixLength = prefix.codePointCount(0, prefix.length());
    // Shift so the prompt's pieces end where the echoed prompt text ends (extra leading text,
    // e.g. a BOS, maps to 0); pieces that are shorter than the text start at 0.
    int at = Math.min(prefixLength - total, 0);
    ObjectNode lp = F.objectNode();
    ArrayNode tokens = lp.putArray("tokens");
    ArrayNode logprobs = lp.putArray("token_logprobs");
    ArrayNode tops = top > 0 ? F.arrayNode() : null;
    ArrayNode topIds = top > 0 ? F.arrayNode() : null;
    ArrayNode offsets = lp.putArray("text_offset");
    for (int t = 0; t < promptLength; t++) {
      tokens.add(promptPieces[t]);
      offsets.add(Math.max(0, Math.min(at, prefixLength)));
      at += promptPieces[t].codePointCount(0, promptPieces[t].length());
      if (t == 0) {
        logprobs.addNull();
        if (tops != null) {
          tops.addNull();
          topIds.addNull();
        }
        continue;
      }
      float v = r.getPromptLogprobs(t - 1);
      logprobs.add(v);
      if (tops != null) {
        quasiroll.v1.TopLogprobs alts = r.getPromptTopLogprobs(t - 1);
        ObjectNode m = tops.addObject();
        ArrayNode ids = topIds.addArray();
        for (int j = 0; j < alts.getTokenIdsCount(); j++) {
          String text = tokenText(tokenizer, alts.getTokenIds(j));
          if (!m.has(text)) {
            m.put(text, alts.getLogprobs(j));
          }
          ids.add(alts.getTokenIds(j));
        }
        int self = r.getPromptTokenIds(t);
        if (!alts.getTokenIdsList().contains(self)) {
          String text = tokenText(tokenizer, self);
          if (!m.has(text)) {
            m.put(text, v);
          }
          ids.add(self);
        }
      }
    }
    ObjectNode generated = completionLogprobs(r, pieces, top, prefixLength, tokenizer);
    tokens.addAll((ArrayNode) generated.get("tokens"));
    logprobs.addAll((ArrayNode) generated.get("token_logprobs"));
    offsets.addAll((ArrayNode) generated.get("text_offset"));
    if (tops != null) {
      tops.addAll((ArrayNode) generated.get("top_logprobs"));
      topIds.addAll((ArrayNode) generated.get("top_logprobs_ids"));
      lp.set("top_logprobs", tops);
      lp.set("top_logprobs_ids", topIds);
    } else {
      lp.putNull("top_logprobs");
    }
    return lp;
  }

  /**
   * Completions' logprobs object; {@code textStart} = code points before the first token (echo).
   */
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
