package quasiroll.coordinator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * quasiroll's chat-template rendering equals Jinja2's with Hugging Face's settings, byte for byte:
 * the chat templates of the Llama 3.1, Qwen2.5 and SmolLM2 instruct models
 * (src/test/resources/chat-templates) on a set of conversations (system / user / assistant,
 * multi-turn, with and without the generation prompt, whitespace the templates trim, template-like
 * text in messages, non-ASCII), rendered by Debian's python3-jinja2 (render_reference.py) and by
 * {@link ChatTemplateEngine}.
 */
class ChatTemplateEngineTest {
  private static final Path DIR = Path.of("src/test/resources/chat-templates");
  private static final ObjectMapper JSON = new ObjectMapper();

  @ParameterizedTest
  @CsvSource({
    "llama3.1.jinja, <|begin_of_text|>, <|eot_id|>",
    "qwen2.5.jinja, '', <|im_end|>",
    "smollm2.jinja, <|im_start|>, <|im_end|>"
  })
  void rendersLikeJinja2WithHfSettings(String template, String bos, String eos) throws Exception {
    Path python = Path.of("/usr/bin/python3");
    Assumptions.assumeTrue(
        Files.isExecutable(python), "Debian python3 with python3-jinja2 (deploy/install-deps.sh)");
    Process p =
        new ProcessBuilder(
                python.toString(),
                DIR.resolve("render_reference.py").toString(),
                DIR.resolve(template).toString(),
                DIR.resolve("conversations.json").toString(),
                bos,
                eos)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    JsonNode expected = JSON.readTree(out);
    JsonNode conversations = JSON.readTree(DIR.resolve("conversations.json").toFile());
    String source = Files.readString(DIR.resolve(template));
    ChatTemplateEngine engine = new ChatTemplateEngine();
    assertEquals(conversations.size(), expected.size());
    for (int i = 0; i < conversations.size(); i++) {
      JsonNode c = conversations.get(i);
      String got =
          engine.render(
              source, c.get("messages"), c.get("add_generation_prompt").asBoolean(), bos, eos);
      assertEquals(expected.get(i).asText(), got, template + " conversation " + i);
    }
  }

  @org.junit.jupiter.api.Test
  void raiseExceptionRefusesWithTheTemplatesMessage() throws Exception {
    String template =
        "{% if messages[0]['role'] != 'user' %}{{ raise_exception('first message must be from the"
            + " user') }}{% endif %}ok";
    ChatTemplateEngine engine = new ChatTemplateEngine();
    JsonNode bad = JSON.readTree("[{\"role\": \"assistant\", \"content\": \"hi\"}]");
    ChatTemplateEngine.TemplateRefusal e =
        assertThrows(
            ChatTemplateEngine.TemplateRefusal.class,
            () -> engine.render(template, bad, true, "", ""));
    assertEquals("first message must be from the user", e.getMessage());
    assertEquals(
        "ok",
        engine.render(
            template, JSON.readTree("[{\"role\": \"user\", \"content\": \"hi\"}]"), true, "", ""));
  }
}
