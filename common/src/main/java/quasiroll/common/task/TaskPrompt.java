package quasiroll.common.task;

import java.util.Map;
import java.util.Objects;

/**
 * One generated task instance.
 *
 * @param id unique within one generated set: {@code <task>-<seed>-<index>}
 * @param text the prompt the model sees (the bundled generators end it with {@code "Answer: "})
 * @param metadata everything the task's verifier needs ({@code Verifiers.forMetadata} in the
 *     registry package); a fresh verifier built from it accepts {@code reference}
 * @param reference one correct completion (training data), not needed for scoring; empty when read
 *     from a file that has none
 */
public record TaskPrompt(String id, String text, Map<String, String> metadata, String reference) {
  public TaskPrompt {
    Objects.requireNonNull(id);
    Objects.requireNonNull(text);
    metadata = Map.copyOf(metadata);
    Objects.requireNonNull(reference);
  }
}
