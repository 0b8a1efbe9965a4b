package quasiroll.coordinator.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads an OpenAI-style request body into a {@link GenerationRequest}. Every refusal is a 400
 * {@link ApiError} whose {@code param} names the field and whose message says what is accepted.
 * Fields quasiroll cannot honour (penalties, logit_bias, best_of, suffix, tools) are refused when
 * set to anything but their neutral value, never silently ignored; fields that do not change the
 * samples (user, stream_options, ...) are accepted.
 */
public final class GenerationRequestParser {
  /** OpenAI's own cap on top logprobs. */
  public static final int MAX_TOP_LOGPROBS = 20;

  private static final SecureRandom SEEDS = new SecureRandom();
  private static final Set<String> NEUTRAL_ZERO = Set.of("presence_penalty", "frequency_penalty");

  private final HttpApiSettings settings;

  public GenerationRequestParser(HttpApiSettings settings) {
    this.settings = settings;
  }

  public GenerationRequest parse(JsonNode body, boolean chat) {
    if (body == null || !body.isObject()) {
      throw ApiError.badRequest(
          "the request body is not a JSON object: expected {\"model\": ..., "
              + (chat ? "\"messages\": [...]" : "\"prompt\": ...")
              + ", ...}");
    }
    String model = requiredString(body, "model");
    List<GenerationRequest.PromptInput> prompts = List.of();
    JsonNode messages = null;
    if (chat) {
      messages = body.get("messages");
      if (messages == null || !messages.isArray() || messages.isEmpty()) {
        throw ApiError.badField(
            "messages",
            "messages is "
                + describe(messages)
                + ": expected a non-empty array of {\"role\": ..., \"content\": ...}");
      }
      for (int i = 0; i < messages.size(); i++) {
        JsonNode m = messages.get(i);
        if (!m.isObject() || !m.path("role").isTextual()) {
          throw ApiError.badField(
              "messages",
              "messages["
                  + i
                  + "] is "
                  + describe(m)
                  + ": expected {\"role\": \"system\"|\"user\"|\"assistant\"|..., \"content\":"
                  + " ...}");
        }
        JsonNode c = m.get("content");
        if (c != null && !c.isNull() && !c.isTextual() && !c.isArray()) {
          throw ApiError.badField(
              "messages",
              "messages["
                  + i
                  + "].content is "
                  + describe(c)
                  + ": expected a string or an array of {\"type\": \"text\", \"text\": ...} parts");
        }
      }
      for (String f : List.of("tools", "functions", "response_format")) {
        if (set(body, f)) {
          throw ApiError.badField(f, f + " is not supported by quasiroll: leave it out");
        }
      }
    } else {
      prompts = prompts(body.get("prompt"));
    }
    refuseNonNeutral(body, chat);

    int n = intField(body, "n", 1, 1, settings.maxN());
    boolean groupGiven = set(body, "group_size");
    int groupSize = groupGiven ? intField(body, "group_size", n, 1, settings.maxN()) : n;
    int indexOffset = intField(body, "index_offset", 0, 0, Integer.MAX_VALUE);
    if ((set(body, "index_offset") || set(body, "group_id")) && !groupGiven) {
      throw ApiError.badField(
          "group_size",
          "group_size is missing: index_offset and group_id need the size k of the"
              + " group the call belongs to (group_size, 1.."
              + settings.maxN()
              + ")");
    }
    if (indexOffset + n > groupSize) {
      throw ApiError.badField(
          "index_offset",
          "index_offset "
              + indexOffset
              + " + n "
              + n
              + " exceeds group_size "
              + groupSize
              + ": expected index_offset + n <= group_size");
    }
    String groupId = set(body, "group_id") ? string(body, "group_id") : null;
    if (groupId != null && groupId.isEmpty()) {
      throw ApiError.badField(
          "group_id", "group_id is empty: expected a non-empty string (at most 200 characters)");
    }
    if (groupId != null && groupId.length() > 200) {
      throw ApiError.badField(
          "group_id", "group_id is " + groupId.length() + " characters: expected at most 200");
    }
    boolean seedGiven = set(body, "seed");
    if (groupGiven && !seedGiven) {
      throw ApiError.badField(
          "seed",
          "seed is missing: a call that is part of a group (group_size) must name the"
              + " group's seed so that every part draws from the same noise");
    }
    long seed = seedGiven ? longField(body, "seed") : SEEDS.nextLong() >>> 1;

    String sampler =
        set(body, "sampler")
            ? string(body, "sampler")
            : (groupSize > 1 ? settings.defaultGroupSampler() : "iid");
    Map<String, String> samplerOptions = new LinkedHashMap<>();
    if (set(body, "sampler_options")) {
      JsonNode o = body.get("sampler_options");
      if (!o.isObject()) {
        throw ApiError.badField(
            "sampler_options",
            "sampler_options is "
                + describe(o)
                + ": expected an object of option names to values, e.g. {\"scramble\": \"owen\"}");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getValue().isValueNode() || e.getValue().isNull()) {
          throw ApiError.badField(
              "sampler_options",
              "sampler_options."
                  + e.getKey()
                  + " is "
                  + describe(e.getValue())
                  + ": expected a string, number or boolean");
        }
        samplerOptions.put(e.getKey(), e.getValue().asText());
      }
    } else if (!set(body, "sampler") && groupSize > 1) {
      samplerOptions.putAll(settings.defaultGroupSamplerOptions());
    }

    Float temperature =
        set(body, "temperature") ? floatField(body, "temperature", 0, Float.MAX_VALUE) : null;
    Float topP = set(body, "top_p") ? floatField(body, "top_p", Math.ulp(0f), 1f) : null;
    if (topP != null && topP <= 0) {
      throw ApiError.badField("top_p", "top_p " + topP + " is invalid: expected (0, 1]");
    }
    int topK = set(body, "top_k") ? intField(body, "top_k", 0, -1, Integer.MAX_VALUE) : 0;
    if (topK < 0) {
      topK = 0; // vLLM's "-1 = off"
    }
    float minP = set(body, "min_p") ? floatField(body, "min_p", 0, 1) : 0f;
    if (minP >= 1) {
      throw ApiError.badField("min_p", "min_p " + minP + " is invalid: expected [0, 1)");
    }
    String maxName =
        chat && set(body, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
    boolean echo = !chat && bool(body, "echo", false);
    int maxTokens =
        intField(
            body,
            maxName,
            chat ? settings.defaultChatMaxTokens() : settings.defaultMaxTokens(),
            echo ? 0 : 1,
            settings.maxNewTokens());
    List<String> stop = stop(body.get("stop"));
    List<Integer> stopIds = new ArrayList<>();
    if (set(body, "stop_token_ids")) {
      JsonNode a = body.get("stop_token_ids");
      if (!a.isArray()) {
        throw ApiError.badField(
            "stop_token_ids",
            "stop_token_ids is " + describe(a) + ": expected an array of token ids");
      }
      for (JsonNode t : a) {
        if (!t.canConvertToInt() || !t.isIntegralNumber() || t.asInt() < 0) {
          throw ApiError.badField(
              "stop_token_ids", "stop_token_ids has " + describe(t) + ": expected token ids >= 0");
        }
        stopIds.add(t.asInt());
      }
    }

    int logprobs = -1;
    if (chat) {
      if (bool(body, "logprobs", false)) {
        logprobs = intField(body, "top_logprobs", 0, 0, MAX_TOP_LOGPROBS);
      } else if (set(body, "top_logprobs")) {
        throw ApiError.badField("top_logprobs", "top_logprobs needs logprobs: true");
      }
    } else if (set(body, "logprobs")) {
      logprobs = intField(body, "logprobs", 0, 0, MAX_TOP_LOGPROBS);
    }
    boolean stream = bool(body, "stream", false);
    boolean includeUsage =
        stream && body.path("stream_options").path("include_usage").asBoolean(false);
    String user = set(body, "user") ? string(body, "user") : "";
    boolean addGenerationPrompt = chat && bool(body, "add_generation_prompt", true);
    return new GenerationRequest(
        chat,
        model,
        prompts,
        messages,
        addGenerationPrompt,
        n,
        groupSize,
        indexOffset,
        groupId,
        seed,
        seedGiven,
        sampler,
        samplerOptions,
        temperature,
        topP,
        topK,
        minP,
        maxTokens,
        stop,
        stopIds,
        logprobs,
        echo,
        stream,
        includeUsage,
        user);
  }

  private List<GenerationRequest.PromptInput> prompts(JsonNode p) {
    String expected =
        ": expected a string, an array of strings, an array of token ids or an array of token-id"
            + " arrays";
    if (p == null || p.isNull()) {
      throw ApiError.badField("prompt", "prompt is missing" + expected);
    }
    List<GenerationRequest.PromptInput> out = new ArrayList<>();
    if (p.isTextual()) {
      out.add(new GenerationRequest.PromptInput(p.asText(), null));
      return out;
    }
    if (!p.isArray() || p.isEmpty()) {
      throw ApiError.badField("prompt", "prompt is " + describe(p) + expected);
    }
    if (p.get(0).isIntegralNumber()) {
      out.add(new GenerationRequest.PromptInput(null, tokenIds(p, "prompt")));
      return out;
    }
    for (int i = 0; i < p.size(); i++) {
      JsonNode e = p.get(i);
      if (e.isTextual()) {
        out.add(new GenerationRequest.PromptInput(e.asText(), null));
      } else if (e.isArray() && !e.isEmpty()) {
        out.add(new GenerationRequest.PromptInput(null, tokenIds(e, "prompt[" + i + "]")));
      } else {
        throw ApiError.badField("prompt", "prompt[" + i + "] is " + describe(e) + expected);
      }
    }
    if (out.size() > settings.maxPrompts()) {
      throw ApiError.badField(
          "prompt",
          "prompt has "
              + out.size()
              + " prompts: expected at most "
              + settings.maxPrompts()
              + " (quasiroll.limits.max-prompts)");
    }
    return out;
  }

  private static int[] tokenIds(JsonNode a, String where) {
    int[] ids = new int[a.size()];
    for (int i = 0; i < ids.length; i++) {
      JsonNode t = a.get(i);
      if (!t.isIntegralNumber() || !t.canConvertToInt() || t.asInt() < 0) {
        throw ApiError.badField(
            "prompt", where + "[" + i + "] is " + describe(t) + ": expected a token id >= 0");
      }
      ids[i] = t.asInt();
    }
    return ids;
  }

  private static List<String> stop(JsonNode s) {
    List<String> out = new ArrayList<>();
    if (s == null || s.isNull()) {
      return out;
    }
    if (s.isTextual()) {
      out.add(s.asText());
    } else if (s.isArray()) {
      for (JsonNode e : s) {
        if (!e.isTextual()) {
          throw ApiError.badField("stop", "stop has " + describe(e) + ": expected strings");
        }
        out.add(e.asText());
      }
    } else {
      throw ApiError.badField(
          "stop", "stop is " + describe(s) + ": expected a string or an array of strings");
    }
    for (String x : out) {
      if (x.isEmpty()) {
        throw ApiError.badField(
            "stop", "stop has an empty string: expected non-empty stop strings");
      }
    }
    return out;
  }

  private static void refuseNonNeutral(JsonNode body, boolean chat) {
    for (String f : NEUTRAL_ZERO) {
      if (set(body, f) && (!body.get(f).isNumber() || body.get(f).asDouble() != 0)) {
        throw ApiError.badField(
            f,
            f
                + " "
                + body.get(f)
                + " is not supported: quasiroll samples from the model's distribution as processed"
                + " by temperature, top_k, top_p and min_p only; expected 0 or no "
                + f);
      }
    }
    if (set(body, "repetition_penalty") && body.get("repetition_penalty").asDouble() != 1) {
      throw ApiError.badField(
          "repetition_penalty",
          "repetition_penalty "
              + body.get("repetition_penalty")
              + " is not supported: expected 1 or no repetition_penalty");
    }
    if (set(body, "logit_bias")
        && !(body.get("logit_bias").isObject() && body.get("logit_bias").isEmpty())) {
      throw ApiError.badField(
          "logit_bias", "logit_bias is not supported: expected {} or no logit_bias");
    }
    if (!chat && set(body, "suffix")) {
      throw ApiError.badField("suffix", "suffix is not supported: leave it out");
    }
    if (set(body, "best_of")
        && !(body.get("best_of").isIntegralNumber()
            && body.get("best_of").asInt() == body.path("n").asInt(1))) {
      throw ApiError.badField(
          "best_of",
          "best_of "
              + body.get("best_of")
              + " is not supported: quasiroll returns all"
              + " n samples of the group (rank them yourself); expected best_of = n or no best_of");
    }
  }

  private static boolean set(JsonNode body, String field) {
    return body.has(field) && !body.get(field).isNull();
  }

  private static String requiredString(JsonNode body, String field) {
    if (!set(body, field)) {
      throw ApiError.badField(
          field, field + " is missing: expected a string (GET /v1/models lists the models)");
    }
    String s = string(body, field);
    if (s.isBlank()) {
      throw ApiError.badField(
          field, field + " is empty: expected a model id (GET /v1/models lists the models)");
    }
    return s;
  }

  private static String string(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (!v.isTextual()) {
      throw ApiError.badField(field, field + " is " + describe(v) + ": expected a string");
    }
    return v.asText();
  }

  private static boolean bool(JsonNode body, String field, boolean dflt) {
    if (!set(body, field)) {
      return dflt;
    }
    JsonNode v = body.get(field);
    if (!v.isBoolean()) {
      throw ApiError.badField(field, field + " is " + describe(v) + ": expected true or false");
    }
    return v.asBoolean();
  }

  private static int intField(JsonNode body, String field, int dflt, int min, int max) {
    if (!set(body, field)) {
      return dflt;
    }
    JsonNode v = body.get(field);
    if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < min || v.asInt() > max) {
      throw ApiError.badField(
          field,
          field
              + " "
              + v
              + " is invalid: expected an integer in "
              + min
              + ".."
              + (max == Integer.MAX_VALUE ? "" : max));
    }
    return v.asInt();
  }

  private static long longField(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
      throw ApiError.badField(
          field, field + " " + v + " is invalid: expected an integer in 0.." + Long.MAX_VALUE);
    }
    return v.asLong();
  }

  private static float floatField(JsonNode body, String field, float min, float max) {
    JsonNode v = body.get(field);
    if (!v.isNumber()
        || !Double.isFinite(v.asDouble())
        || v.asDouble() < min
        || v.asDouble() > max) {
      throw ApiError.badField(
          field, field + " " + v + " is invalid: expected a number in [" + min + ", " + max + "]");
    }
    return (float) v.asDouble();
  }

  static String describe(JsonNode v) {
    if (v == null || v.isNull() || v.isMissingNode()) {
      return "missing";
    }
    String s = v.toString();
    return s.length() > 80 ? s.substring(0, 77) + "..." : s;
  }
}
