package quasiroll.coordinator.http;

import com.fasterxml.jackson.databind.JsonNode;

/** Renders a chat request's messages with the model's chat template, or refuses clearly. */
final class ChatRenderer {
  private final ChatTemplateEngine engine = new ChatTemplateEngine();

  String render(
      String modelId, ModelCatalog.Entry model, JsonNode messages, boolean addGenerationPrompt) {
    if (model.chatTemplate() == null) {
      throw ApiError.badField(
          "model",
          "model '"
              + modelId
              + "' has no chat template (no chat_template in tokenizer_config.json, no"
              + " chat_template.jinja, no GGUF tokenizer.chat_template): use /v1/completions with a"
              + " prompt you format yourself");
    }
    try {
      return engine.render(
          model.chatTemplate(), messages, addGenerationPrompt, model.bosToken(), model.eosToken());
    } catch (ChatTemplateEngine.TemplateRefusal e) {
      throw ApiError.badField(
          "messages",
          "model '" + modelId + "' chat template refuses these messages: " + e.getMessage());
    } catch (IllegalArgumentException e) {
      throw ApiError.badField("messages", "model '" + modelId + "': " + e.getMessage());
    }
  }
}
