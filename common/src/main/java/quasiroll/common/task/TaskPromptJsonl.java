package quasiroll.common.task;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import quasiroll.common.error.BadInputException;

/**
 * The prompts file format, one JSON object per line: {@code {"id": "...", "prompt": "...",
 * "metadata": {"task": "...", ...}, "reference": "..."}}. {@code reference} (one correct
 * completion) is written by the generators and optional on reading; metadata values are strings.
 * Keys are written in this order and metadata keys sorted, so a file is a pure function of its
 * prompts.
 */
public final class TaskPromptJsonl {
  private static final ObjectMapper JSON = new ObjectMapper();

  private TaskPromptJsonl() {}

  public static String line(TaskPrompt p) {
    ObjectNode o = JSON.createObjectNode();
    o.put("id", p.id());
    o.put("prompt", p.text());
    ObjectNode meta = o.putObject("metadata");
    new TreeMap<>(p.metadata()).forEach(meta::put);
    o.put("reference", p.reference());
    try {
      return JSON.writeValueAsString(o);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  public static void write(List<TaskPrompt> prompts, Writer out) throws IOException {
    for (TaskPrompt p : prompts) {
      out.write(line(p));
      out.write('\n');
    }
  }

  /** Reads a prompts file; {@code source} names it in error messages. */
  public static List<TaskPrompt> read(BufferedReader in, String source) throws IOException {
    List<TaskPrompt> out = new ArrayList<>();
    String line;
    int lineNo = 0;
    while ((line = in.readLine()) != null) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      out.add(parse(line, source + ":" + lineNo));
    }
    return out;
  }

  static TaskPrompt parse(String line, String where) {
    JsonNode o;
    try {
      o = JSON.readTree(line);
    } catch (JsonProcessingException e) {
      throw new BadInputException(where + ": not valid JSON: " + e.getOriginalMessage());
    }
    if (o == null || !o.isObject() || !o.path("id").isTextual() || !o.path("prompt").isTextual()) {
      throw new BadInputException(
          where
              + ": expected an object with string fields \"id\" and \"prompt\""
              + " (and optional \"metadata\" object of strings, \"reference\" string)");
    }
    Map<String, String> meta = new TreeMap<>();
    JsonNode m = o.path("metadata");
    if (!m.isMissingNode() && !m.isNull()) {
      if (!m.isObject()) {
        throw new BadInputException(where + ": \"metadata\" must be an object of strings");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getValue().isValueNode() || e.getValue().isNull()) {
          throw new BadInputException(
              where + ": metadata \"" + e.getKey() + "\" must be a string, got " + e.getValue());
        }
        meta.put(e.getKey(), e.getValue().asText());
      }
    }
    return new TaskPrompt(
        o.get("id").asText(), o.get("prompt").asText(), meta, o.path("reference").asText(""));
  }
}
