package quasiroll.coordinator.http;

import com.fasterxml.jackson.databind.JsonNode;

/** Renders a conversation with a model's chat template (see {@link ChatTemplateEngine}). */
final class ChatRenderer {
  String render(String modelId, ModelCatalog.Entry model, JsonNode messages, boolean addGenerationPrompt) {
    if (model.chatTemplate() == null) {
      throw ApiError.badField("model", "model '" + modelId + "' has no chat template (no chat_template in"
          + " tokenizer_config.json, no chat_template.jinja, no GGUF tokenizer.chat_template): use /v1/completions"
          + " with a prompt you format yourself");
    }
    throw ApiError.badField("messages", "chat template rendering is not available in this build");
  }
}
