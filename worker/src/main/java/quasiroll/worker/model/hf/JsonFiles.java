package quasiroll.worker.model.hf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import quasiroll.common.error.BadInputException;

/** Reads the JSON files of a HF model directory, turning parse failures into bad input. */
public final class JsonFiles {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private JsonFiles() {}

  public static JsonNode read(Path file) {
    try {
      JsonNode n = MAPPER.readTree(Files.readAllBytes(file));
      if (n == null || !n.isObject()) {
        throw new BadInputException(file + ": expected a JSON object");
      }
      return n;
    } catch (NoSuchFileException e) {
      throw new BadInputException(file + " does not exist");
    } catch (JsonProcessingException e) {
      throw new BadInputException(file + ": invalid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
