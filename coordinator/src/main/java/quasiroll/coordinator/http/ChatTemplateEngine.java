package quasiroll.coordinator.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders a conversation with a model's Jinja chat template the way Hugging Face's {@code
 * apply_chat_template} does: Jinja2 with {@code trim_blocks} and {@code lstrip_blocks}, the default
 * {@code keep_trailing_newline = False} (one trailing newline of the template is dropped),
 * variables {@code messages}, {@code add_generation_prompt}, {@code bos_token}, {@code eos_token},
 * and the global {@code raise_exception(message)} which refuses the conversation with the
 * template's own message.
 *
 * <p>Engine: HubSpot's jinjava, a maintained Java implementation of Jinja with those two whitespace
 * options. It is not Jinja2 itself, so the templates of the model families we support (Llama 3.x,
 * Qwen2.5, SmolLM2) are checked byte for byte against Debian's python3-jinja2 in
 * ChatTemplateEngineTest.
 */
public final class ChatTemplateEngine {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Thrown by a template's raise_exception(...): the conversation does not fit the template. */
  public static final class TemplateRefusal extends RuntimeException {
    TemplateRefusal(String message) {
      super(message);
    }
  }

  private final Jinjava jinjava;

  public ChatTemplateEngine() {
    JinjavaConfig config =
        JinjavaConfig.newBuilder()
            .withTrimBlocks(true)
            .withLstripBlocks(true)
            // Message text is data, never template code: jinjava would otherwise re-render
            // "{{ ... }}" found in an expression's output (template injection).
            .withNestedInterpretationEnabled(false)
            // Jinja2's semantics where jinjava's defaults differ: "{{-"/"{#-" trim like "{%-",
            // filters bind tighter than operators, loops over a mapping see its keys, ...
            .withLegacyOverrides(
                LegacyOverrides.newBuilder()
                    .withUseTrimmingForNotesAndExpressions(true)
                    .withParseWhitespaceControlStrictly(true)
                    .withUseNaturalOperatorPrecedence(true)
                    .withEvaluateMapKeys(true)
                    .withIterateOverMapKeys(true)
                    .withUsePyishObjectMapper(true)
                    .withAllowAdjacentTextNodes(true)
                    .withKeepNullableLoopValues(true)
                    .build())
            .build();
    jinjava = new Jinjava(config);
    jinjava
        .getGlobalContext()
        .registerFunction(
            new ELFunctionDefinition(
                "", "raise_exception", ChatTemplateEngine.class, "raiseException", String.class));
  }

  /** Called by templates as raise_exception(message). */
  public static String raiseException(String message) {
    throw new TemplateRefusal(message);
  }

  /**
   * @param messages the OpenAI {@code messages} array (content as a string or as text parts)
   */
  public String render(
      String template,
      JsonNode messages,
      boolean addGenerationPrompt,
      String bosToken,
      String eosToken) {
    Map<String, Object> vars = new HashMap<>();
    vars.put("messages", toMessages(messages));
    vars.put("add_generation_prompt", addGenerationPrompt);
    vars.put("bos_token", bosToken);
    vars.put("eos_token", eosToken);
    String source =
        template.endsWith("\n") ? template.substring(0, template.length() - 1) : template;
    RenderResult r;
    try {
      r = jinjava.renderForResult(source, vars);
    } catch (TemplateRefusal e) {
      throw e;
    } catch (RuntimeException e) {
      TemplateRefusal refusal = findRefusal(e);
      if (refusal != null) {
        throw refusal;
      }
      throw new IllegalArgumentException("the chat template failed: " + e.getMessage(), e);
    }
    for (TemplateError e : r.getErrors()) {
      if (e.getException() != null) {
        TemplateRefusal refusal = findRefusal(e.getException());
        if (refusal != null) {
          throw refusal;
        }
      }
      if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
        throw new IllegalArgumentException(
            "the chat template failed at line " + e.getLineno() + ": " + e.getMessage());
      }
    }
    return r.getOutput();
  }

  private static TemplateRefusal findRefusal(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof TemplateRefusal r) {
        return r;
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return null;
  }

  /** Messages as plain maps and lists; text parts ([{type: text, text}]) joined as HF/vLLM do. */
  private static List<Object> toMessages(JsonNode messages) {
    @SuppressWarnings("unchecked")
    List<Object> list = JSON.convertValue(messages, List.class);
    for (int i = 0; i < list.size(); i++) {
      @SuppressWarnings("unchecked")
      Map<String, Object> m = (Map<String, Object>) list.get(i);
      JsonNode content = messages.get(i).get("content");
      if (content != null && content.isArray()) {
        StringBuilder text = new StringBuilder();
        for (JsonNode part : content) {
          if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
            throw ApiError.badField(
                "messages",
                "messages["
                    + i
                    + "].content has a part "
                    + GenerationRequestParser.describe(part)
                    + ": expected only {\"type\": \"text\", \"text\": ...} parts");
          }
          if (!text.isEmpty()) {
            text.append('\n');
          }
          text.append(part.get("text").asText());
        }
        m.put("content", text.toString());
      }
    }
    return list;
  }
}
